"""OAuth 2 / OpenID Connect sign-in for the session's agents (the Sign-in page's bridge).

The token lives in this session only (the `TokenKeeper` puts it on its agent's requests
and refreshes it before it expires). The authorization-code grant sends the browser to
the authorization server, which sends it back to this app's Sign-in page: a new page
load, so a new session, which finds the sign-in in the process's `PendingSignIns` by its
`state` and finishes it. The session that started it sees the token on the same `SignIn`
and takes it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import streamlit as st

from services.client import resources
from services.client.auth import Credentials
from services.client.oauth import (
    AuthServer,
    DeviceAuthorization,
    Grant,
    OAuthFailed,
    PendingSignIns,
    SignIn,
    Step,
    Token,
    TokenKeeper,
    adiscover,
    oauth_schemes,
)
from services.errors import AppError
from services.session import _keys as keys
from services.session._agents import agent_info, connect, current_agent, workspace
from services.session._resources import origin_credentials, redactor
from services.session._runtime import runtime
from services.session._settings import settings
from services.session._store import workspace_id

__all__ = [
    "AUTH_PAGE_PATH",
    "begin_sign_in",
    "finish_redirect",
    "oauth_client_defaults",
    "poll_device_sign_in",
    "redirect_uri",
    "refresh_sign_in",
    "sign_in",
    "sign_in_schemes",
    "sign_out",
    "take_finished_sign_in",
    "token_keeper",
]

AUTH_PAGE_PATH = "sign_in"  # the Sign-in page's URL path: where the redirect comes back
_PENDING = PendingSignIns()  # for every session of this process


def token_keeper() -> TokenKeeper:
    return keys.TOKENS.setdefault(lambda: TokenKeeper(origin_credentials(), redactor()))


def sign_in_schemes() -> list[str]:
    """The connected agent's OAuth 2 and OpenID Connect schemes."""
    info = agent_info()
    return oauth_schemes(info.card) if info else []


def sign_in(agent_url: str = "") -> SignIn | None:
    """The latest sign-in for the agent (the connected one by default): its timeline,
    and its token while it holds one."""
    entry = current_agent()
    url = agent_url or (entry.url if entry else "")
    return keys.SIGN_INS.get_or({}).get(url)


def oauth_client_defaults() -> tuple[str, bool]:
    """The client id `[[agents]]` secrets give the connected agent, and whether they
    give a client secret (which is used without being shown)."""
    entry = _secrets_entry()
    return str(entry.get("client_id", "")), bool(entry.get("client_secret"))


def redirect_uri() -> str:
    """Where the authorization server sends the browser back: this app's Sign-in page,
    at `public_url`, else at the address the browser used."""
    base = settings().public_url.rstrip("/")
    if not base:
        page = urlsplit(str(st.context.url or ""))
        base = f"{page.scheme}://{page.netloc}" if page.netloc else "http://localhost:8501"
    return f"{base}/{AUTH_PAGE_PATH}"


def begin_sign_in(
    scheme: str, grant: Grant, client_id: str, client_secret: str, scopes: list[str]
) -> str:
    """Start signing in to the connected agent; returns what the user does next: the
    authorization URL to open (authorization code), the device page (device grant), or
    "" when the token is already here (client credentials). `AppError` with a sentence
    if a step failed; the timeline shows every step either way."""
    info = agent_info()
    entry = current_agent()
    if info is None or entry is None:
        raise AppError("Connect to an agent first.")
    client_secret = client_secret or str(_secrets_entry().get("client_secret", ""))
    redactor().add([client_secret])
    http = resources.http(runtime())
    server, steps = _discover(http, info.card, scheme)
    endpoints = tuple(
        str(i.get("url", "")) for i in info.card.get("supportedInterfaces", ()) if i.get("url")
    )
    attempt = SignIn(
        agent_url=entry.url,
        endpoints=_same_host(entry.url, endpoints),
        server=server,
        grant=grant,
        client_id=client_id.strip(),
        client_secret=client_secret,
        scopes=tuple(scopes),
        timeline=steps,
    )
    keys.SIGN_INS.setdefault(dict)[entry.url] = attempt
    if not attempt.client_id:
        raise AppError("Give the client id the authorization server knows this app by.")
    if grant == "authorization_code":
        url = attempt.authorization_url(redirect_uri())
        redactor().add(attempt.secret_values)
        _PENDING.add(attempt, workspace_id())
        return url
    _probe(attempt, "The agent, before signing in")
    if grant == "device_code":
        device: DeviceAuthorization = runtime().call(attempt.astart_device, http)
        redactor().add(attempt.secret_values)
        return device.verification_uri_complete or device.verification_uri
    _call(attempt.aclient_credentials, http)
    _signed_in(attempt)
    return ""


def poll_device_sign_in() -> Token | None:
    """One poll of a device sign-in in progress; the token once the user approved."""
    attempt = sign_in()
    if attempt is None or attempt.device is None or attempt.token is not None:
        return attempt.token if attempt else None
    token: Token | None = _call(attempt.apoll_device, resources.http(runtime()))
    if token is not None:
        _signed_in(attempt)
    return token


def finish_redirect(query: Mapping[str, str]) -> SignIn:
    """Finish the sign-in the redirect's `state` names (this page load is the browser
    coming back from the authorization server)."""
    attempt = _PENDING.take(str(query.get("state", "")), workspace_id())
    entry = current_agent()
    if entry is None or entry.url != attempt.agent_url:
        connect(attempt.agent_url)
    keys.SIGN_INS.setdefault(dict)[attempt.agent_url] = attempt
    returned = str(httpx.URL(redirect_uri()).copy_with(params=httpx.QueryParams(dict(query))))
    _call(attempt.acomplete_redirect, resources.http(runtime()), returned)
    _signed_in(attempt)
    return attempt


def take_finished_sign_in() -> bool:
    """Whether a sign-in this session started (in another tab) finished meanwhile; if so,
    its token is used here from now on too."""
    attempt = sign_in()
    if attempt is None or attempt.token is None:
        return False
    keeper = token_keeper()
    if keeper.get(attempt.agent_url) is attempt:
        return False
    _signed_in(attempt)
    return True


def refresh_sign_in() -> None:
    attempt = sign_in()
    if attempt is None or attempt.token is None:
        raise AppError("Not signed in to this agent.")
    _call(attempt.arefresh, resources.http(runtime()))
    _signed_in(attempt)


def sign_out() -> None:
    entry = current_agent()
    if entry is not None:
        token_keeper().remove(entry.url)
        keys.SIGN_INS.get_or({}).pop(entry.url, None)


# --- helpers -----------------------------------------------------------------------------


def _signed_in(attempt: SignIn) -> None:
    known = workspace().agents.get(attempt.agent_url)
    base = known.credentials if known else Credentials()
    token_keeper().put(attempt, base, resources.http(runtime()))
    _probe(attempt, "The agent, with the token")


def _probe(attempt: SignIn, title: str) -> None:
    http = resources.http(runtime())
    runtime().call(lambda: attempt.aprobe(http, title=title))


def _discover(
    http: httpx.AsyncClient, card: Mapping[str, Any], scheme: str
) -> tuple[AuthServer, list[Step]]:
    try:
        server, steps = runtime().call(adiscover, http, card, scheme)
    except OAuthFailed as failure:
        raise AppError(str(failure)) from failure
    return server, steps


def _call(function: Any, *args: Any) -> Any:
    try:
        return runtime().call(function, *args)
    except OAuthFailed as failure:
        raise AppError(str(failure)) from failure


def _same_host(agent_url: str, endpoints: tuple[str, ...]) -> tuple[str, ...]:
    # The token goes to the agent's own host only, even if its card names others.
    host = urlsplit(agent_url).hostname
    return tuple(url for url in endpoints if urlsplit(url).hostname == host)


def _secrets_entry() -> Mapping[str, Any]:
    entry = current_agent()
    if entry is None:
        return {}
    for raw in settings().agents:
        if str(raw.get("url", "")).rstrip("/") == entry.url.rstrip("/"):
            return raw
    return {}
