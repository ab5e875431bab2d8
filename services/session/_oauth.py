"""OAuth 2 / OpenID Connect sign-in for the session's agents (the Sign-in page's bridge).

The token lives in this session only (the `TokenKeeper` puts it on its agent's requests
and refreshes it before it expires). The authorization-code grant sends the browser to
the authorization server, which sends it back to this app's Sign-in page: a new page
load, so a new session, which finds the sign-in in the process's `PendingSignIns` by its
`state` and finishes it. The session that started it sees the token on the same `SignIn`
and takes it too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import streamlit as st
from cryptography.fernet import Fernet, InvalidToken

from services.client import resources
from services.client.auth import Credentials
from services.client.oauth import (
    DeviceAuthorization,
    Grant,
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
from services.session._store import store, workspace_id
from services.store import Store, StoreError

__all__ = [
    "AUTH_PAGE_PATH",
    "begin_sign_in",
    "can_keep_sign_ins",
    "finish_redirect",
    "oauth_client_defaults",
    "poll_device_sign_in",
    "redirect_uri",
    "refresh_sign_in",
    "restore_sign_in",
    "sign_in",
    "sign_in_schemes",
    "sign_out",
    "take_finished_sign_in",
    "token_keeper",
]

log = logging.getLogger(__name__)

AUTH_PAGE_PATH = "sign_in"  # the Sign-in page's URL path: where the redirect comes back
_PENDING = PendingSignIns()  # for every session of this process


def token_keeper() -> TokenKeeper:
    return keys.TOKENS.setdefault(_new_keeper)


def _new_keeper() -> TokenKeeper:
    keeper = TokenKeeper(origin_credentials(), redactor())
    kept, owner = store(), workspace_id()
    sealer = _sealer()

    def save_again(attempt: SignIn) -> None:  # on the loop, after a refresh
        if attempt.keep and kept is not None and sealer is not None:
            _save(kept, owner, sealer, attempt)

    keeper.on_refreshed = save_again
    return keeper


def can_keep_sign_ins() -> str:
    """Why a sign-in cannot be kept in the workspace ("" if it can)."""
    if not settings().token_encryption_key:
        return "Set token_encryption_key in secrets to keep sign-ins (encrypted)."
    if _sealer() is None:
        return "token_encryption_key in secrets is not a Fernet key: sign-ins are not kept."
    if store() is None:
        return "The workspace's database cannot be opened."
    return ""


def restore_sign_in() -> None:
    """Bring back the sign-in kept for the connected agent, once per session and agent."""
    entry = current_agent()
    tried = keys.SIGN_INS_TRIED.setdefault(set)
    if entry is None or entry.url in tried:
        return
    tried.add(entry.url)
    kept, sealer = store(), _sealer()
    if kept is None or sealer is None or token_keeper().get(entry.url) is not None:
        return
    try:
        sealed = kept.sign_in(workspace_id(), entry.url)
        if sealed is None:
            return
        attempt = SignIn.from_kept(json.loads(sealer.decrypt(sealed.encode())))
    except (StoreError, InvalidToken, ValueError):
        log.warning("a kept sign-in could not be read (another key?): it is ignored")
        return
    attempt.keep = True
    attempt.note(Step("kept", "Sign-in brought back from the workspace", True))
    keys.SIGN_INS.setdefault(dict)[entry.url] = attempt
    _signed_in(attempt)


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
    scheme: str,
    grant: Grant,
    client_id: str,
    client_secret: str,
    scopes: list[str],
    *,
    keep: bool = False,
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
    # Failures raise OAuthFailed, an AppError: its sentence is the page's.
    server, steps = runtime().call(adiscover, http, info.card, scheme)
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
        keep=keep and not can_keep_sign_ins(),
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
    runtime().call(attempt.aclient_credentials, http)
    _signed_in(attempt)
    return ""


def poll_device_sign_in() -> Token | None:
    """One poll of a device sign-in in progress; the token once the user approved."""
    attempt = sign_in()
    if attempt is None or attempt.device is None or attempt.token is not None:
        return attempt.token if attempt else None
    token: Token | None = runtime().call(attempt.apoll_device, resources.http(runtime()))
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
    runtime().call(attempt.acomplete_redirect, resources.http(runtime()), returned)
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
    runtime().call(attempt.arefresh, resources.http(runtime()))
    _signed_in(attempt)


def sign_out() -> None:
    """Forget the connected agent's token, here and in the workspace."""
    entry = current_agent()
    if entry is None:
        return
    token_keeper().remove(entry.url)
    keys.SIGN_INS.get_or({}).pop(entry.url, None)
    if (kept := store()) is not None:
        try:
            kept.delete_sign_in(workspace_id(), entry.url)
        except StoreError as error:
            raise AppError(str(error)) from error


# --- helpers -----------------------------------------------------------------------------


def _signed_in(attempt: SignIn) -> None:
    known = workspace().agents.get(attempt.agent_url)
    base = known.credentials if known else Credentials()
    token_keeper().put(attempt, base, resources.http(runtime()))
    kept, sealer = store(), _sealer()
    if attempt.keep and kept is not None and sealer is not None:
        try:
            _save(kept, workspace_id(), sealer, attempt)
        except StoreError:
            attempt.note(Step("kept", "Keep in the workspace", False, can_keep_sign_ins()))
        else:
            attempt.note(Step("kept", "Kept in the workspace, encrypted", True))
    _probe(attempt, "The agent, with the token")


def _save(kept: Store, owner: str, sealer: Fernet, attempt: SignIn) -> None:
    sealed = sealer.encrypt(json.dumps(attempt.to_kept()).encode()).decode()
    kept.save_sign_in(owner, attempt.agent_url, sealed)


def _sealer() -> Fernet | None:
    key = settings().token_encryption_key
    if not key:
        return None
    try:
        return Fernet(key.encode())
    except ValueError:
        return None


def _probe(attempt: SignIn, title: str) -> None:
    http = resources.http(runtime())
    runtime().call(lambda: attempt.aprobe(http, title=title))


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
