"""OAuth 2 and OpenID Connect sign-in to an agent, from its card's security schemes, with
every step on a timeline (the auth debugger).

Authlib does the protocol's pieces (the authorization URL, PKCE, token request bodies,
client authentication, the redirect's `state` check, expiry) and joserfc reads JWTs.
The requests go through the session's httpx client, so the allow list applies to the
authorization server too. Three grants: client credentials, authorization code with PKCE
(the redirect comes back to the app), and the device authorization grant (RFC 8628).

A `SignIn` is one agent's sign-in: the server's endpoints, the client, the token, and the
timeline. Secrets (the client secret, codes, verifiers, tokens) are kept out of `repr`
and every timeline line shows them masked; `secret_values` feeds the session's redactor.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import anyio
import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import (
    parse_authorization_code_response,
    prepare_grant_uri,
    prepare_token_request,
)
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jws
from joserfc.errors import JoseError

from services.client.auth import OAUTH_REQUEST, Credentials, OriginCredentials, origin
from services.errors import AppError
from services.formats import FileRejected, load_json
from services.redact import Redactor, redact_logs

__all__ = [
    "DEVICE_GRANT",
    "GRANTS",
    "AuthServer",
    "DeviceAuthorization",
    "OAuthFailed",
    "PendingSignIns",
    "SignIn",
    "Step",
    "Token",
    "TokenKeeper",
    "adiscover",
    "oauth_schemes",
]

Grant = Literal["client_credentials", "authorization_code", "device_code"]
GRANTS: tuple[Grant, ...] = ("client_credentials", "authorization_code", "device_code")
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_TITLES = {
    "client_credentials": "Client credentials",
    "authorization_code": "Authorization code with PKCE",
    "device_code": "Device authorization",
}
MASK = "••••"
REFRESH_LEEWAY = 30.0  # seconds before expiry a token is refreshed
CLOCK_SKEW = 60.0  # seconds of difference between clocks that a token's times may show
_MAX_DOCUMENT = 256_000  # bytes of a discovery document or token response
_TIMEOUT = httpx.Timeout(10.0)
_OWN = {OAUTH_REQUEST: True}  # no agent's credentials on the server's requests
PENDING_FOR = 600.0  # seconds a sign-in waits for its redirect
MAX_PENDING = 500  # sign-ins a process keeps waiting for a redirect
# Form fields and response keys whose values are secrets, shown masked on the timeline.
_SECRET_FIELDS = frozenset(
    {
        "client_secret",
        "code",
        "code_verifier",
        "access_token",
        "refresh_token",
        "id_token",
        "device_code",
        "assertion",
        "password",
    }
)


class OAuthFailed(AppError):
    """A sign-in step failed; `str()` says what to fix."""


@dataclass(frozen=True)
class Step:
    """One line of the auth debugger's timeline (secrets already masked)."""

    kind: str  # discovery, authorize, token, claims, device, probe, refresh
    title: str
    ok: bool
    sentence: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class AuthServer:
    """Where one of the card's schemes signs in, from the card and its metadata."""

    scheme: str  # the card's name for it
    kind: Literal["oauth2", "openIdConnect"]
    issuer: str = ""
    authorization_endpoint: str = ""
    token_endpoint: str = ""
    device_authorization_endpoint: str = ""
    jwks_uri: str = ""
    scopes: tuple[str, ...] = ()  # what the scheme offers
    required_scopes: tuple[str, ...] = ()  # what the card's security requirements ask
    grants: tuple[Grant, ...] = ()  # what this app can do with the scheme


@dataclass(frozen=True)
class Token:
    """An access token and what came with it; never shown, only described."""

    access_token: str = field(repr=False)
    token_type: str = "Bearer"
    expires_at: float | None = None
    scope: tuple[str, ...] = ()
    refresh_token: str = field(default="", repr=False)
    id_token: str = field(default="", repr=False)
    issued_at: float = field(default_factory=time.time)

    @property
    def secret_values(self) -> list[str]:
        return [v for v in (self.access_token, self.refresh_token, self.id_token) if v]

    def expires_in(self, now: float | None = None) -> float | None:
        return None if self.expires_at is None else self.expires_at - (now or time.time())

    def due(self, now: float | None = None) -> bool:
        """Whether it is time to refresh: within REFRESH_LEEWAY of expiry (a tenth of
        the lifetime for a short-lived token), or past it."""
        left = self.expires_in(now)
        if left is None or self.expires_at is None:
            return False
        return left <= min(REFRESH_LEEWAY, (self.expires_at - self.issued_at) / 10)


@dataclass(frozen=True)
class DeviceAuthorization:
    """What the user needs to approve a device sign-in, and how often to ask."""

    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_at: float
    interval: float
    device_code: str = field(repr=False)


@dataclass
class SignIn:
    """One agent's sign-in: its server, client, token and timeline."""

    agent_url: str
    endpoints: tuple[str, ...]  # the agent's interface URLs: where the token may go
    server: AuthServer
    grant: Grant
    client_id: str
    client_secret: str = field(default="", repr=False)
    scopes: tuple[str, ...] = ()
    redirect_uri: str = ""
    state: str = field(default="", repr=False)
    code_verifier: str = field(default="", repr=False)
    device: DeviceAuthorization | None = None
    token: Token | None = None
    timeline: list[Step] = field(default_factory=list)
    next_url: str = ""  # where the user goes next: the authorization URL or device page
    keep: bool = False  # the user asked to keep it in the workspace (sealed)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def secret_values(self) -> list[str]:
        values = [self.client_secret, self.code_verifier, self.state]
        if self.device:
            values.append(self.device.device_code)
        if self.token:
            values.extend(self.token.secret_values)
        return [v for v in values if v]

    def note(self, step: Step) -> Step:
        self.timeline.append(step)
        del self.timeline[:-100]  # a long session's refreshes: the latest hundred
        return step

    def to_kept(self) -> dict[str, Any]:
        """What a kept sign-in needs to come back (secrets included: seal it)."""
        token = self.token
        return {
            "agent_url": self.agent_url,
            "endpoints": list(self.endpoints),
            "server": asdict(self.server),
            "grant": self.grant,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "scopes": list(self.scopes),
            "token": asdict(token) if token else None,
        }

    @classmethod
    def from_kept(cls, kept: Mapping[str, Any]) -> SignIn:
        """A sign-in from `to_kept`'s dict; `ValueError` if it is not one."""
        try:
            server = dict(kept["server"])
            for name in ("scopes", "required_scopes", "grants"):
                server[name] = tuple(server.get(name) or ())
            token = kept.get("token")
            return cls(
                agent_url=str(kept["agent_url"]),
                endpoints=tuple(kept.get("endpoints") or ()),
                server=AuthServer(**server),
                grant=kept["grant"],
                client_id=str(kept["client_id"]),
                client_secret=str(kept.get("client_secret", "")),
                scopes=tuple(kept.get("scopes") or ()),
                token=Token(**{**token, "scope": tuple(token.get("scope") or ())})
                if token
                else None,
            )
        except (KeyError, TypeError) as error:
            raise ValueError("not a kept sign-in") from error

    # --- the grants ------------------------------------------------------------------

    def authorization_url(self, redirect_uri: str) -> str:
        """The URL to send the user to; remembers `state` and the PKCE verifier."""
        if not self.server.authorization_endpoint:
            raise OAuthFailed(
                f"The scheme {self.server.scheme} names no authorization endpoint, so the "
                "authorization code grant cannot be used: choose another grant."
            )
        self.redirect_uri = redirect_uri
        self.state = generate_token(32)
        self.code_verifier = generate_token(64)
        url = prepare_grant_uri(
            self.server.authorization_endpoint,
            self.client_id,
            "code",
            redirect_uri=redirect_uri,
            scope=" ".join(self.scopes) or None,
            state=self.state,
            code_challenge=create_s256_code_challenge(self.code_verifier),
            code_challenge_method="S256",
        )
        self.note(
            Step(
                "authorize",
                "Authorization URL",
                True,
                "Sign in at the authorization server; it sends you back to the app.",
                {"url": _masked_url(url), "redirect_uri": redirect_uri, "pkce": "S256"},
            )
        )
        self.next_url = url
        return url

    async def acomplete_redirect(self, http: httpx.AsyncClient, redirected_to: str) -> Token:
        """Check the redirect's `state`, then exchange its code (with the verifier)."""
        query = dict(httpx.URL(redirected_to).params)
        if "error" in query:
            sentence = _error_sentence(query["error"], query.get("error_description", ""), self)
            self.note(Step("authorize", "Redirect back", False, sentence, _masked(query)))
            raise OAuthFailed(sentence)
        try:
            params = parse_authorization_code_response(redirected_to, state=self.state)
        except AuthlibBaseError as error:
            sentence = (
                "The redirect's state does not match the sign-in this session started "
                "(a stale or forged link): start the sign-in again."
                if "state" in str(error).lower()
                else f"The redirect carried no authorization code ({error.error}): start again."
            )
            self.note(Step("authorize", "Redirect back", False, sentence, _masked(query)))
            raise OAuthFailed(sentence) from error
        self.note(Step("authorize", "Redirect back", True, "State checked.", _masked(dict(params))))
        return await self._atoken_request(
            http,
            "authorization_code",
            code=params["code"],
            redirect_uri=self.redirect_uri,
            code_verifier=self.code_verifier,
            client_id=self.client_id,
        )

    async def aclient_credentials(self, http: httpx.AsyncClient) -> Token:
        return await self._atoken_request(
            http, "client_credentials", scope=" ".join(self.scopes) or None
        )

    async def astart_device(self, http: httpx.AsyncClient) -> DeviceAuthorization:
        endpoint = self.server.device_authorization_endpoint
        if not endpoint:
            raise OAuthFailed(
                f"The scheme {self.server.scheme} names no device authorization endpoint: "
                "choose another grant."
            )
        body = {"client_id": self.client_id}
        if self.scopes:
            body["scope"] = " ".join(self.scopes)
        answer = await self._apost(http, "device", "Device authorization", endpoint, body)
        try:
            self.device = DeviceAuthorization(
                user_code=str(answer["user_code"]),
                verification_uri=str(answer["verification_uri"]),
                verification_uri_complete=str(answer.get("verification_uri_complete", "")),
                expires_at=time.time() + float(answer.get("expires_in", 600)),
                interval=max(float(answer.get("interval", 5)), 1.0),
                device_code=str(answer["device_code"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            sentence = "The device authorization answer lacks a user code or device code."
            self.note(Step("device", "Device authorization", False, sentence))
            raise OAuthFailed(sentence) from error
        self.next_url = self.device.verification_uri_complete or self.device.verification_uri
        return self.device

    async def apoll_device(self, http: httpx.AsyncClient) -> Token | None:
        """One poll of the token endpoint: the token, or None while the user has not
        approved yet (`authorization_pending`; `slow_down` lengthens the interval)."""
        device = self.device
        if device is None:
            raise OAuthFailed("No device sign-in is in progress: start one.")
        if time.time() > device.expires_at:
            raise OAuthFailed("The device code expired before it was approved: start again.")
        try:
            return await self._atoken_request(
                http, DEVICE_GRANT, device_code=device.device_code, client_id=self.client_id
            )
        except _Pending as pending:
            if pending.error == "slow_down":
                self.device = DeviceAuthorization(
                    device.user_code,
                    device.verification_uri,
                    device.verification_uri_complete,
                    device.expires_at,
                    device.interval + 5,
                    device.device_code,
                )
            return None

    async def arefresh(self, http: httpx.AsyncClient) -> Token:
        """A new token before the old one expires: the refresh token if there is one,
        else the client credentials grant again."""
        if self.token and self.token.refresh_token:
            return await self._atoken_request(
                http,
                "refresh_token",
                refresh_token=self.token.refresh_token,
                scope=" ".join(self.scopes) or None,
                title="Refresh",
            )
        if self.grant == "client_credentials":
            return await self._atoken_request(
                http, "client_credentials", scope=" ".join(self.scopes) or None, title="Refresh"
            )
        raise OAuthFailed("The token expired and no refresh token came with it: sign in again.")

    # --- the token endpoint ----------------------------------------------------------

    async def _atoken_request(
        self, http: httpx.AsyncClient, grant_type: str, *, title: str = "", **fields: Any
    ) -> Token:
        body = prepare_token_request(
            grant_type, **{k: v for k, v in fields.items() if v is not None}
        )
        title = title or f"Token request ({GRANT_TITLES.get(self.grant, grant_type)})"
        answer = await self._apost(
            http, "token", title, self.server.token_endpoint, dict(httpx.QueryParams(body))
        )
        token = _token_from(answer, previous=self.token)
        self.token = token
        self._note_claims(token)
        return token

    async def _apost(
        self, http: httpx.AsyncClient, kind: str, title: str, url: str, form: dict[str, str]
    ) -> dict[str, Any]:
        """POST a form to the server with the client's authentication; the JSON answer."""
        if not url:
            raise OAuthFailed(f"The scheme {self.server.scheme} names no endpoint for this.")
        headers = {"Accept": "application/json"}
        body = str(httpx.QueryParams(form))
        if self.client_secret:  # a confidential client: HTTP Basic (RFC 6749 2.3.1)
            auth = ClientAuth(self.client_id, self.client_secret, "client_secret_basic")
            _uri, headers, body = auth.prepare("POST", url, headers, body)
        elif "client_id" not in form:  # a public client names itself (RFC 6749 3.2.1)
            body = str(httpx.QueryParams({**form, "client_id": self.client_id}))
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        shown_request = {"url": url, "form": _masked(form), "client_auth": self._client_auth()}
        sent = time.time()
        try:
            response = await http.post(
                url, content=body, headers=headers, timeout=_TIMEOUT, extensions=_OWN
            )
        except httpx.HTTPError as error:
            sentence = (
                f"The authorization server at {_origin_text(url)} could not be reached "
                f"({type(error).__name__}): check its URL and that it is running."
            )
            self.note(Step(kind, title, False, sentence, {"request": shown_request}))
            raise OAuthFailed(sentence) from error
        answer = _json(response)
        shown = {
            "request": shown_request,
            "status": response.status_code,
            "response": _masked(answer) if isinstance(answer, dict) else "(not JSON)",
        }
        skew = _clock_skew(response, sent)
        if skew is not None:
            shown["clock_difference_s"] = round(skew, 1)
            if abs(skew) > CLOCK_SKEW:
                self.note(
                    Step(kind, "Clocks", False, _skew_sentence(skew), {"seconds": round(skew)})
                )
        if response.status_code >= 400 or not isinstance(answer, dict) or "error" in answer:
            code = str(answer.get("error", "")) if isinstance(answer, dict) else ""
            described = answer.get("error_description", "") if isinstance(answer, dict) else ""
            if code in ("authorization_pending", "slow_down"):
                self.note(Step(kind, title, True, "Waiting for the user to approve.", shown))
                raise _Pending(code)
            sentence = (
                _error_sentence(code, str(described), self)
                if code
                else f"The server answered HTTP {response.status_code} without an OAuth error."
            )
            self.note(Step(kind, title, False, sentence, shown))
            raise OAuthFailed(sentence)
        self.note(Step(kind, title, True, "", shown))
        return answer

    def _client_auth(self) -> str:
        return "client_secret_basic" if self.client_secret else "none (public client)"

    def _note_claims(self, token: Token) -> None:
        header, claims = decode_jwt(token.access_token)
        findings = token_findings(token, claims, self)
        detail: dict[str, Any] = {
            "token": f"{MASK} ({len(token.access_token):,} characters)",
            "token_type": token.token_type,
            "scope": " ".join(token.scope),
            "expires_in_s": None if token.expires_at is None else round(token.expires_in() or 0),
            "refresh_token": "yes" if token.refresh_token else "no",
        }
        if header is not None:
            detail["jwt_header"] = header
            detail["jwt_claims"] = claims
        title = "Access token (JWT)" if header is not None else "Access token (opaque)"
        self.note(Step("claims", title, not findings, " ".join(findings), detail))

    # --- the agent -------------------------------------------------------------------

    async def aprobe(self, http: httpx.AsyncClient, *, title: str) -> Step:
        """A request that changes nothing (get a task that does not exist) at the agent's
        first endpoint, to show how it answers: a 401 before the token, and after it,
        anything but 401/403."""
        endpoint = self.endpoints[0] if self.endpoints else self.agent_url
        task_id = f"auth-check-{uuid.uuid4()}"
        try:
            if urlsplit(endpoint).path.rstrip("/").endswith("/rest"):
                response = await http.get(f"{endpoint.rstrip('/')}/tasks/{task_id}")
            else:
                body = {"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": task_id}}
                response = await http.post(endpoint, json=body, headers={"A2A-Version": "1.0"})
        except httpx.HTTPError as error:
            step = Step(
                "probe", title, False, f"The agent did not answer ({type(error).__name__})."
            )
            return self.note(step)
        challenge = response.headers.get("www-authenticate", "")
        detail = {
            "request": endpoint,
            "status": response.status_code,
            "www_authenticate": challenge,
        }
        if response.status_code == 401:
            sentence = (
                "The agent refused the token (401): "
                + (_challenge_words(challenge) or "it is invalid or expired.")
                if self.token
                else "The agent wants a token (401), as its card says."
            )
            return self.note(Step("probe", title, self.token is None, sentence, detail))
        if response.status_code == 403:
            wanted = _challenge_param(challenge, "scope") or " ".join(self.server.required_scopes)
            sentence = (
                f"The agent accepted the token but it lacks the scope it needs ({wanted}): "
                "ask for that scope and sign in again."
            )
            return self.note(Step("probe", title, False, sentence, detail))
        sentence = (
            f"The agent accepted the token (HTTP {response.status_code})."
            if self.token
            else f"The agent answered without a token (HTTP {response.status_code})."
        )
        return self.note(Step("probe", title, True, sentence, detail))


class TokenKeeper:
    """The session's signed-in agents: puts each token on its agent's requests (with the
    user's other credentials for it) and refreshes a token about to expire before the
    next request to that agent goes out."""

    def __init__(self, credentials: OriginCredentials, redactor: Redactor) -> None:
        self._credentials = credentials
        self._redactor = redactor
        self._by_origin: dict[tuple[str, str, int | None], SignIn] = {}
        self._base: dict[str, Credentials] = {}
        self._http: httpx.AsyncClient | None = None
        self._lock = threading.Lock()
        self._refreshing = anyio.Lock()  # one refresh at a time, on the session's loop
        # Told of each refreshed sign-in (on the loop): a kept one is saved again.
        self.on_refreshed: Callable[[SignIn], None] | None = None
        credentials.before_request = self.before_request

    def put(self, sign_in: SignIn, base: Credentials, http: httpx.AsyncClient) -> None:
        """Use `sign_in`'s token for its agent from now on (with `base` beside it)."""
        with self._lock:
            self._http = http
            self._base[sign_in.agent_url] = base
            for url in (sign_in.agent_url, *sign_in.endpoints):
                self._by_origin[origin(url)] = sign_in
        self._apply(sign_in)

    def get(self, agent_url: str) -> SignIn | None:
        with self._lock:
            return self._by_origin.get(origin(agent_url))

    def remove(self, agent_url: str) -> None:
        """Sign out: the agent gets its other credentials only."""
        with self._lock:
            sign_in = self._by_origin.get(origin(agent_url))
            if sign_in is None:
                return
            base = self._base.pop(sign_in.agent_url, Credentials())
            for url in (sign_in.agent_url, *sign_in.endpoints):
                self._by_origin.pop(origin(url), None)
        for url in (sign_in.agent_url, *sign_in.endpoints):
            self._credentials.set(url, base)

    def _apply(self, sign_in: SignIn) -> None:
        # Masked from here on wherever the session shows, exports or logs text.
        self._redactor.add(sign_in.secret_values)
        redact_logs(sign_in.secret_values)
        base = self._base.get(sign_in.agent_url, Credentials())
        token = sign_in.token.access_token if sign_in.token else ""
        credentials = Credentials(
            bearer_token=token or base.bearer_token,
            api_key=base.api_key,
            api_key_header=base.api_key_header,
            headers=base.headers,
        )
        for url in (sign_in.agent_url, *sign_in.endpoints):
            self._credentials.set(url, credentials)

    async def before_request(self, request: httpx.Request) -> None:
        with self._lock:
            sign_in = self._by_origin.get(origin(request.url))
            http = self._http
        if sign_in is None or sign_in.token is None or http is None or http.is_closed:
            return
        if not sign_in.token.due():
            return
        async with self._refreshing:
            if not sign_in.token.due():  # another request refreshed it meanwhile
                return
            try:
                await sign_in.arefresh(http)
            except OAuthFailed:
                return  # on the timeline; the agent's 401 tells the user to sign in again
            self._apply(sign_in)
            if self.on_refreshed is not None:
                self.on_refreshed(sign_in)


class PendingSignIns:
    """Authorization-code sign-ins waiting for their redirect, by `state`.

    Process-wide: the redirect comes back as a new page load, so a new Streamlit
    session, which finds the sign-in here. Only the workspace (browser) that started one
    may finish it, within PENDING_FOR seconds; at most MAX_PENDING wait at once.
    """

    def __init__(self) -> None:
        self._waiting: dict[str, tuple[SignIn, str, float]] = {}
        self._lock = threading.Lock()

    def add(self, sign_in: SignIn, workspace_id: str) -> None:
        now = time.time()
        with self._lock:
            for state, (_, _, since) in list(self._waiting.items()):
                if now - since > PENDING_FOR:
                    del self._waiting[state]
            while len(self._waiting) >= MAX_PENDING:
                del self._waiting[next(iter(self._waiting))]
            self._waiting[sign_in.state] = (sign_in, workspace_id, now)

    def take(self, state: str, workspace_id: str) -> SignIn:
        """The sign-in `state` names, once; `OAuthFailed` with the reason if none."""
        with self._lock:
            found = self._waiting.get(state)
            if found is None or time.time() - found[2] > PENDING_FOR:
                self._waiting.pop(state, None)
                raise OAuthFailed(
                    "This sign-in link is unknown or older than ten minutes (or the app "
                    "restarted meanwhile): start the sign-in again."
                )
            sign_in, owner, _ = found
            if owner != workspace_id:
                raise OAuthFailed(
                    "This sign-in was started in another browser or workspace: finish it "
                    "there, or start one here."
                )
            del self._waiting[state]
            return sign_in


class _Pending(Exception):
    """The device grant's user has not approved yet."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


# --- discovery ---------------------------------------------------------------------------


def oauth_schemes(card: Mapping[str, Any]) -> list[str]:
    """The card's OAuth 2 and OpenID Connect scheme names, in the card's order."""
    schemes = card.get("securitySchemes") or {}
    return [
        name
        for name, scheme in schemes.items()
        if isinstance(scheme, dict)
        and ("oauth2SecurityScheme" in scheme or "openIdConnectSecurityScheme" in scheme)
    ]


async def adiscover(
    http: httpx.AsyncClient, card: Mapping[str, Any], scheme: str
) -> tuple[AuthServer, list[Step]]:
    """The endpoints of the card's scheme `scheme`: from its flows, its OAuth 2 metadata
    URL (RFC 8414), or its OpenID Connect discovery document."""
    raw = (card.get("securitySchemes") or {}).get(scheme)
    if not isinstance(raw, dict):
        raise OAuthFailed(f"The card has no security scheme named {scheme!r}.")
    required = _required_scopes(card, scheme)
    steps: list[Step] = []
    if "openIdConnectSecurityScheme" in raw:
        url = str(raw["openIdConnectSecurityScheme"].get("openIdConnectUrl", ""))
        document = await _adocument(http, url, "OpenID Connect discovery", steps)
        return _from_metadata(scheme, "openIdConnect", document, required, {}), steps
    oauth = raw.get("oauth2SecurityScheme") or {}
    flows = oauth.get("flows") or {}
    metadata_url = str(oauth.get("oauth2MetadataUrl", ""))
    document = (
        await _adocument(http, metadata_url, "Authorization server metadata", steps)
        if metadata_url
        else {}
    )
    server = _from_metadata(scheme, "oauth2", document, required, flows)
    if not metadata_url:
        steps.append(
            Step(
                "discovery",
                "Endpoints from the card",
                bool(server.token_endpoint),
                "" if server.token_endpoint else "The card's flows name no token URL.",
                {"flows": flows},
            )
        )
    return server, steps


def _from_metadata(
    scheme: str,
    kind: Literal["oauth2", "openIdConnect"],
    document: Mapping[str, Any],
    required: tuple[str, ...],
    flows: Mapping[str, Any],
) -> AuthServer:
    code = flows.get("authorizationCode") or {}
    client = flows.get("clientCredentials") or {}
    device = flows.get("deviceCode") or {}
    scopes: list[str] = []
    for flow in (code, client, device):
        scopes.extend(k for k in (flow.get("scopes") or {}) if k not in scopes)
    scopes.extend(s for s in document.get("scopes_supported") or () if s not in scopes)
    granted = set(document.get("grant_types_supported") or ())
    grants: list[Grant] = []
    if client or "client_credentials" in granted:
        grants.append("client_credentials")
    if code or "authorization_code" in granted or (kind == "openIdConnect" and not granted):
        grants.append("authorization_code")
    if device or DEVICE_GRANT in granted:
        grants.append("device_code")
    return AuthServer(
        scheme=scheme,
        kind=kind,
        issuer=str(document.get("issuer", "")),
        authorization_endpoint=str(
            document.get("authorization_endpoint") or code.get("authorizationUrl", "")
        ),
        token_endpoint=str(
            document.get("token_endpoint")
            or code.get("tokenUrl")
            or client.get("tokenUrl")
            or device.get("tokenUrl", "")
        ),
        device_authorization_endpoint=str(
            document.get("device_authorization_endpoint")
            or device.get("deviceAuthorizationUrl", "")
        ),
        jwks_uri=str(document.get("jwks_uri", "")),
        scopes=tuple(scopes),
        required_scopes=required,
        grants=tuple(grants),
    )


def _required_scopes(card: Mapping[str, Any], scheme: str) -> tuple[str, ...]:
    for requirement in card.get("securityRequirements") or ():
        schemes = requirement.get("schemes") if isinstance(requirement, dict) else None
        if isinstance(schemes, dict) and scheme in schemes:
            entry = schemes[scheme]
            values = entry.get("list", []) if isinstance(entry, dict) else entry
            return tuple(str(v) for v in values or ())
    return ()


async def _adocument(
    http: httpx.AsyncClient, url: str, title: str, steps: list[Step]
) -> dict[str, Any]:
    if not url.startswith(("http://", "https://")):
        sentence = f"The card's {title.lower()} URL is not an http(s) URL: fix the card."
        steps.append(Step("discovery", title, False, sentence, {"url": url[:200]}))
        raise OAuthFailed(sentence)
    try:
        response = await http.get(url, timeout=_TIMEOUT, extensions=_OWN)
    except httpx.HTTPError as error:
        sentence = (
            f"The {title.lower()} at {_origin_text(url)} could not be fetched "
            f"({type(error).__name__}): check the URL and that the server is running."
        )
        steps.append(Step("discovery", title, False, sentence, {"url": url}))
        raise OAuthFailed(sentence) from error
    document = _json(response)
    if response.status_code != 200 or not isinstance(document, dict):
        sentence = (
            f"The {title.lower()} at {url} answered HTTP {response.status_code}"
            f"{'' if isinstance(document, dict) else ' without a JSON object'}: check the URL."
        )
        steps.append(Step("discovery", title, False, sentence, {"url": url}))
        raise OAuthFailed(sentence)
    steps.append(Step("discovery", title, True, "", {"url": url, "document": document}))
    return document


# --- tokens ------------------------------------------------------------------------------


def decode_jwt(value: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """A JWT's header and claims, read without checking the signature (for showing only;
    the agent checks it). (None, {}) for an opaque token."""
    if value.count(".") != 2:
        return None, {}
    try:
        compact = jws.extract_compact(value.encode())
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeDecodeError):
        return None, {}
    return dict(compact.headers()), claims if isinstance(claims, dict) else {}


def token_findings(token: Token, claims: Mapping[str, Any], sign_in: SignIn) -> list[str]:
    """What is wrong with a token the server issued, one sentence each."""
    findings: list[str] = []
    missing = [s for s in sign_in.server.required_scopes if s not in token.scope]
    if missing and token.scope:
        findings.append(
            f"The token lacks the scope the agent's card requires ({' '.join(missing)}): "
            "ask for it, and check the client may have it."
        )
    now = time.time()
    issued = _number(claims.get("iat"))
    if issued is not None and issued - now > CLOCK_SKEW:
        findings.append(
            f"The token was issued {issued - now:.0f} s in this machine's future: "
            "the two clocks disagree (clock skew); set them right (NTP)."
        )
    expires = _number(claims.get("exp"))
    if expires is not None and expires <= now:
        findings.append(
            "The token had expired when it arrived: the server's and this machine's "
            "clocks disagree (clock skew), or its lifetime is too short."
        )
    audiences = claims.get("aud")
    if audiences:
        listed = [audiences] if isinstance(audiences, str) else list(audiences)
        agent = {origin(url) for url in (sign_in.agent_url, *sign_in.endpoints)}
        if not any(origin(str(a)) in agent for a in listed):
            findings.append(
                f"The token is for {', '.join(map(str, listed))[:200]}, not this agent "
                f"({_origin_text(sign_in.agent_url)}): it would be sent to the wrong origin; "
                "ask the server for a token for this agent."
            )
    return findings


def _token_from(answer: Mapping[str, Any], previous: Token | None) -> Token:
    access = answer.get("access_token")
    if not isinstance(access, str) or not access:
        raise OAuthFailed("The token response has no access_token.")
    expires_in = _number(answer.get("expires_in"))
    scope = answer.get("scope")
    scopes = tuple(str(scope).split()) if scope else (previous.scope if previous else ())
    return Token(
        access_token=access,
        token_type=str(answer.get("token_type", "Bearer")),
        expires_at=time.time() + expires_in if expires_in is not None else None,
        scope=scopes,
        # A refresh answer may leave the refresh token out: the old one still holds.
        refresh_token=str(
            answer.get("refresh_token") or (previous.refresh_token if previous else "")
        ),
        id_token=str(answer.get("id_token", "")),
    )


# --- sentences ---------------------------------------------------------------------------


def _error_sentence(error: str, description: str, sign_in: SignIn) -> str:
    said = f" (the server says: {description[:200]})" if description else ""
    if "redirect" in description.lower() or error == "invalid_redirect_uri":
        return (
            f"Redirect URI mismatch: the server does not accept "
            f"{sign_in.redirect_uri or 'the app URL'} for client {sign_in.client_id}; "
            f"register that exact URI with it{said}."
        )
    sentences = {
        "invalid_client": (
            f"The authorization server refused the client (invalid_client): check the client "
            f"id {sign_in.client_id!r} and its secret{said}."
        ),
        "unauthorized_client": (
            f"The client {sign_in.client_id!r} may not use this grant (unauthorized_client): "
            f"choose another grant or allow it at the server{said}."
        ),
        "invalid_grant": (
            "The authorization server refused the grant (invalid_grant): the code, verifier "
            f"or refresh token is wrong, used or expired; sign in again{said}."
        ),
        "invalid_scope": (
            f"The server refused the scope {' '.join(sign_in.scopes)!r} (invalid_scope): "
            f"ask only for scopes the card lists{said}."
        ),
        "access_denied": "The sign-in was denied at the authorization server (access_denied).",
        "expired_token": "The device code expired before it was approved: start again.",
        "unsupported_grant_type": (
            "The server does not support this grant (unsupported_grant_type): "
            f"choose another{said}."
        ),
    }
    return sentences.get(error, f"The authorization server answered {error}{said}.")


def _skew_sentence(skew: float) -> str:
    ahead = "ahead of" if skew > 0 else "behind"
    return (
        f"The server's clock is {abs(skew):.0f} s {ahead} this machine's (clock skew): tokens "
        "may look expired or not yet valid; set both clocks right (NTP)."
    )


def _challenge_words(challenge: str) -> str:
    error = _challenge_param(challenge, "error")
    description = _challenge_param(challenge, "error_description")
    if not error:
        return ""
    return f"{error}{f' ({description[:200]})' if description else ''}; sign in again."


def _challenge_param(challenge: str, name: str) -> str:
    marker = f'{name}="'
    start = challenge.find(marker)
    if start < 0:
        return ""
    start += len(marker)
    end = challenge.find('"', start)
    return challenge[start:end] if end > start else ""


# --- helpers -----------------------------------------------------------------------------


def _json(response: httpx.Response) -> Any:
    try:
        return load_json(response.content, what="server's answer", max_bytes=_MAX_DOCUMENT)
    except FileRejected:
        return None


def _masked(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (MASK if k in _SECRET_FIELDS and v else v) for k, v in values.items()}


def _masked_url(url: str) -> str:
    parsed = httpx.URL(url)
    params = {k: MASK if k in ("state", "code_challenge") else v for k, v in parsed.params.items()}
    return str(parsed.copy_with(params=httpx.QueryParams(params)))


def _origin_text(url: str) -> str:
    scheme, host, port = origin(url)
    return f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _clock_skew(response: httpx.Response, sent: float) -> float | None:
    """Seconds the server's clock (its Date header) is ahead of ours, if it sent one."""
    date = response.headers.get("date")
    if not date:
        return None
    try:
        server = parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return None
    return server - sent
