"""The agent check's sign-in: a client credentials token from the card's OAuth 2 or
OpenID Connect scheme, for `--client-id` and `--client-secret`.

The token is fetched before the doctor runs (its auth step then sends it), on a runtime
of its own, by the same code as the Sign-in page (`services.client.oauth`).
"""

from __future__ import annotations

import anyio
from google.protobuf.json_format import MessageToDict

from services.agent_check.model import Check
from services.client import resources
from services.client.agent import aresolve_card
from services.client.oauth import OAuthFailed, SignIn, adiscover, oauth_schemes
from services.errors import AppError
from services.runtime import SessionRuntime

__all__ = ["client_credentials_token"]

_ID, _TITLE = "auth.client-credentials", "OAuth sign-in (client credentials)"
_SPEC = "A2A 1.0 §4 Authentication and Authorization"


def client_credentials_token(
    url: str, client_id: str, client_secret: str, *, timeout: float = 10.0
) -> tuple[str, Check]:
    """The access token ("" if none came) and the check that says how it went."""
    runtime = resources.configure(SessionRuntime(label="agent-check-oauth"))
    try:
        token, message = runtime.call(_atoken, runtime, url, client_id, client_secret, timeout)
    except (AppError, TimeoutError) as error:
        text = str(error) if isinstance(error, AppError) else "The sign-in did not finish in time."
        return "", Check(_ID, _TITLE, "MUST", "fail", text, _SPEC)
    finally:
        runtime.close()
    return token, Check(_ID, _TITLE, "MUST", "pass", message, _SPEC)


async def _atoken(
    runtime: SessionRuntime, url: str, client_id: str, client_secret: str, budget: float
) -> tuple[str, str]:
    http = await resources.ahttp(runtime)
    with anyio.fail_after(budget):
        card, _card_url, _raw = await aresolve_card(http, url)
        shown = MessageToDict(card)
        for scheme in oauth_schemes(shown):
            try:
                server, _steps = await adiscover(http, shown, scheme)
            except OAuthFailed:
                continue
            if "client_credentials" not in server.grants:
                continue
            sign_in = SignIn(
                agent_url=url,
                endpoints=(),
                server=server,
                grant="client_credentials",
                client_id=client_id,
                client_secret=client_secret,
                scopes=server.required_scopes,
            )
            token = await sign_in.aclient_credentials(http)
            scopes = " ".join(token.scope) or "no scope named"
            return token.access_token, f"A token came from {scheme} ({scopes})."
    raise OAuthFailed(
        "The card declares no OAuth 2 or OpenID Connect scheme with the client credentials "
        "grant, so --client-id and --client-secret cannot be used: pass --token instead."
    )
