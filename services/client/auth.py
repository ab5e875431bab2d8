"""Credentials for agents, each sent to its own agent's origin and no other.

The URL field lets a user point the app anywhere; a token configured for one agent must
never reach another. `OriginCredentials` is the session's httpx `Auth`: it looks up the
request's origin (scheme, host, port), adds that agent's headers, if any, and takes off
every other origin's. The session's client runs it on every request and every redirect
hop (see `resources._new_http_client`), not once per send as httpx runs an `Auth`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.errors import AppError

__all__ = [
    "OAUTH_REQUEST",
    "Credentials",
    "OriginCredentials",
    "SchemeHint",
    "describe_security",
    "origin",
]

# Where a request records the credential headers put on it, so the next redirect hop
# (httpx copies its extensions and headers) can take exactly those off again.
_APPLIED = "a2a_streamlit_credential_headers"
# Marks a request the app makes to an authorization server (`services.client.oauth`): it
# carries the client's own authentication, so no agent's credentials go on it.
OAUTH_REQUEST = "a2a_streamlit_oauth_request"
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # a header name (RFC 9110 5.6.2)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # never in a header value


@dataclass(frozen=True)
class Credentials:
    """What to send an agent: a bearer token, an API key header, other headers."""

    bearer_token: str = ""
    api_key: str = ""
    api_key_header: str = "X-API-Key"
    headers: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.bearer_token or self.api_key or self.headers)

    def header_items(self) -> list[tuple[str, str]]:
        items = list(self.headers)
        if self.api_key:
            items.append((self.api_key_header or "X-API-Key", self.api_key))
        if self.bearer_token:
            items.append(("Authorization", f"Bearer {self.bearer_token}"))
        return items

    def check(self) -> None:
        """Raise `AppError` with a sentence if a header could not be sent as given."""
        for name, value in self.header_items():
            if not _TOKEN.fullmatch(name):
                raise AppError(
                    f"The header name {name[:40]!r} cannot be sent (a name has no spaces, "
                    "colons or other separators): correct it under Credentials."
                )
            if _CONTROL.search(value):
                raise AppError(
                    f"The value of the {name} header holds a line break or control "
                    "character, which cannot be sent: correct it under Credentials."
                )

    @property
    def secret_values(self) -> list[str]:
        """Every value that must never be shown, exported or logged."""
        return [v for v in (self.bearer_token, self.api_key, *(v for _, v in self.headers)) if v]

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Credentials:
        """From a secrets entry: `token`, `api_key`, `api_key_header`, `headers` (a table)."""
        headers = raw.get("headers") or {}
        return cls(
            bearer_token=str(raw.get("token", "") or ""),
            api_key=str(raw.get("api_key", "") or ""),
            api_key_header=str(raw.get("api_key_header", "") or "X-API-Key"),
            headers=tuple((str(k), str(v)) for k, v in dict(headers).items()),
        )


def origin(url: str | httpx.URL) -> tuple[str, str, int | None]:
    """(scheme, host, port); a URL httpx cannot parse is an origin of its own, no request's."""
    try:
        url = httpx.URL(url)
    except httpx.InvalidURL:
        return ("", str(url), None)
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host, url.port or default_port)


class OriginCredentials(httpx.Auth):
    """Adds each agent's credentials to requests for that agent's origin only."""

    def __init__(self) -> None:
        self._by_origin: dict[tuple[str, str, int | None], Credentials] = {}
        self._fixed: dict[tuple[str, str, int | None], tuple[tuple[str, str], ...]] = {}
        self._lock = threading.Lock()
        # Awaited before a request's headers are set: a sign-in refreshes a token due to
        # expire here (see `services.client.oauth.TokenKeeper`).
        self.before_request: Callable[[httpx.Request], Awaitable[None]] | None = None

    def set_fixed_headers(self, url: str, headers: tuple[tuple[str, str], ...]) -> None:
        """Headers the app itself always sends to `url`'s origin, whatever the user sets."""
        with self._lock:
            self._fixed[origin(url)] = headers

    def set(self, url: str, credentials: Credentials) -> None:
        with self._lock:
            if credentials:
                self._by_origin[origin(url)] = credentials
            else:
                self._by_origin.pop(origin(url), None)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.apply(request)
        yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if request.extensions.get(OAUTH_REQUEST):
            yield request  # the authorization server's: its own client authentication
            return
        if self.before_request is not None:
            await self.before_request(request)
        self.apply(request)
        yield request

    def apply(self, request: httpx.Request) -> None:
        """Put `request`'s origin's headers on it, and take every other origin's off.

        Must run on each redirect hop: httpx builds a hop from the previous hop's headers
        and, crossing origins, strips only Authorization (httpx `_redirect_headers`), so
        an API key or custom header set for one agent would reach the next origin.
        """
        target = origin(request.url)
        with self._lock:
            credentials = self._by_origin.get(target)
            fixed = self._fixed.get(target, ())
            others = [
                *(i for o, c in self._by_origin.items() if o != target for i in c.header_items()),
                *(i for o, f in self._fixed.items() if o != target for i in f),
            ]
        for name in request.extensions.get(_APPLIED, ()):
            request.headers.pop(name, None)
        for name, value in others:  # however they got there
            if request.headers.get(name) == value:
                del request.headers[name]
        items = (*fixed, *(credentials.header_items() if credentials else ()))
        for name, value in items:
            request.headers[name] = value
        request.extensions[_APPLIED] = tuple(name for name, _ in items)


@dataclass(frozen=True)
class SchemeHint:
    """One way the agent's card says it wants to be called."""

    name: str
    kind: str  # bearer, api-key, oauth2, openid, mtls, other
    header: str = ""
    description: str = ""
    required: bool = field(default=False)

    @property
    def sentence(self) -> str:
        if self.kind == "bearer":
            return f"a bearer token ({self.name})"
        if self.kind == "api-key":
            return f"an API key in the {self.header} header ({self.name})"
        if self.kind == "oauth2":
            return f"an OAuth 2 token ({self.name}): sign in on the Sign-in page"
        if self.kind == "openid":
            return f"an OpenID Connect token ({self.name}): sign in on the Sign-in page"
        if self.kind == "mtls":
            return f"a client certificate ({self.name}): set client_cert and client_key"
        return f"{self.kind} ({self.name}), which this app cannot sign in with for you"


def describe_security(card: Mapping[str, Any]) -> list[SchemeHint]:
    """The security schemes a card (as JSON, 1.0 or 0.3 shape) declares, required first."""
    required = {
        name
        for requirement in card.get("securityRequirements", []) or []
        for name in (requirement.get("schemes") or {})
    } | {name for requirement in card.get("security", []) or [] for name in requirement}
    hints = []
    for name, scheme in (card.get("securitySchemes") or {}).items():
        hints.append(_hint(str(name), scheme, str(name) in required))
    return sorted(hints, key=lambda h: not h.required)


def _hint(name: str, scheme: Mapping[str, Any], required: bool) -> SchemeHint:
    # 1.0 wraps each scheme in a oneof key; 0.3 has a "type" field.
    if "httpAuthSecurityScheme" in scheme or scheme.get("type") == "http":
        body = scheme.get("httpAuthSecurityScheme", scheme)
        kind = "bearer" if str(body.get("scheme", "")).lower() == "bearer" else "other"
        return SchemeHint(name, kind, "Authorization", str(body.get("description", "")), required)
    if "apiKeySecurityScheme" in scheme or scheme.get("type") == "apiKey":
        body = scheme.get("apiKeySecurityScheme", scheme)
        where = str(body.get("location", body.get("in", "header")))
        kind = "api-key" if where == "header" else "other"
        return SchemeHint(
            name, kind, str(body.get("name", "")), str(body.get("description", "")), required
        )
    for key, kind in (
        ("oauth2SecurityScheme", "oauth2"),
        ("openIdConnectSecurityScheme", "openid"),
        ("mtlsSecurityScheme", "mtls"),
    ):
        if key in scheme:
            return SchemeHint(name, kind, "", str(scheme[key].get("description", "")), required)
    return SchemeHint(name, str(scheme.get("type", "other")), required=required)
