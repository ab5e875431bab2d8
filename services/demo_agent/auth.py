"""Credentials the demo agent may require: the check, and the ASGI middleware around it.

As in Starlette, the check (`check_credentials`, plain data in, plain data out) is apart
from the wrapper that applies it (`RequireCredentials`). The wrapper is pure ASGI, not a
`BaseHTTPMiddleware`, so the agent's Server-Sent Events stream through untouched.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection
from dataclasses import dataclass, field

from starlette.authentication import AuthCredentials, SimpleUser
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["API_KEY_HEADER", "DemoAuth", "Refusal", "RequireCredentials", "check_credentials"]

API_KEY_HEADER = "X-API-Key"
_REALM = "A2A Demo Agent"


@dataclass(frozen=True)
class DemoAuth:
    """Credentials the demo agent requires: a bearer token, an API key, or either one.

    The secrets stay out of `repr`, so they never reach a log line.
    """

    bearer_token: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)  # sent in the X-API-Key header

    def __post_init__(self) -> None:
        if not (self.bearer_token or self.api_key):
            raise ValueError("DemoAuth needs a bearer_token, an api_key or both")


@dataclass(frozen=True)
class Refusal:
    """Why a request's credentials were refused, as a 401 tells it."""

    error: str  # "missing credentials" or "invalid credentials"
    challenge: str  # the WWW-Authenticate value: one challenge per configured scheme


def check_credentials(auth: DemoAuth, headers: Headers) -> Refusal | None:
    """None if `headers` carry a credential `auth` accepts, else the refusal to send.

    `Authorization: Bearer <token>` passes when a token is configured, `X-API-Key: <key>`
    when a key is; either one is enough.
    """
    scheme, _, token = headers.get("authorization", "").partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else ""
    api_key = headers.get(API_KEY_HEADER, "")
    if _matches(bearer, auth.bearer_token) or _matches(api_key, auth.api_key):
        return None
    presented = bool(headers.get("authorization") or api_key)
    return Refusal(
        error="invalid credentials" if presented else "missing credentials",
        challenge=_challenge(auth, invalid_bearer=bool(bearer)),
    )


def _matches(given: str, expected: str | None) -> bool:
    # Constant-time, so response times do not leak how much of a secret was right.
    return bool(given and expected) and hmac.compare_digest(
        given.encode(), (expected or "").encode()
    )


def _challenge(auth: DemoAuth, *, invalid_bearer: bool) -> str:
    challenges = []
    if auth.bearer_token:
        error = ', error="invalid_token"' if invalid_bearer else ""
        challenges.append(f'Bearer realm="{_REALM}"{error}')
    if auth.api_key:
        challenges.append(f'ApiKey realm="{_REALM}", header="{API_KEY_HEADER}"')
    return ", ".join(challenges)


class RequireCredentials:
    """ASGI middleware: every HTTP request needs a valid credential, except public ones.

    Public: GET/HEAD of the exact paths in `public` (the app passes its card and its
    files, so the SDK's `/{tenant}/...` REST mount cannot be reached through them).
    Anything else without a credential `check_credentials` accepts gets 401, a JSON
    `{"error": ...}` and a `WWW-Authenticate` challenge per configured scheme.
    """

    def __init__(self, app: ASGIApp, auth: DemoAuth, public: Collection[str]) -> None:
        self.app = app
        self.auth = auth
        self.public = frozenset(public)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            scope["method"] in ("GET", "HEAD") and scope["path"] in self.public
        ):
            await self.app(scope, receive, send)
            return
        refusal = check_credentials(self.auth, Headers(scope=scope))
        if refusal is None:
            # A user in the scope makes the SDK's call context authenticated; every
            # credential maps to the same user, so all callers share one task list.
            scope["user"] = SimpleUser("demo-user")
            scope["auth"] = AuthCredentials(["authenticated"])
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            {"error": refusal.error},
            status_code=401,
            headers={"WWW-Authenticate": refusal.challenge},
        )
        await response(scope, receive, send)
