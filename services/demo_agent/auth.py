"""Credentials the demo agent may require: the checks, and the ASGI middleware around them.

As in Starlette, a check (plain data in, plain data out) is apart from the wrapper that
applies it (`RequireCredentials`). A check takes the request's headers and returns the
caller's user name or the `Refusal` to send: `demo_auth_check` for `DemoAuth` (a fixed
bearer token or API key, via `check_credentials`), and `oauth.AccessTokenCheck` for
`DemoOAuth` (JWT access tokens). The wrapper is pure ASGI, not a `BaseHTTPMiddleware`,
so the agent's Server-Sent Events stream through untouched.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from starlette.authentication import AuthCredentials, SimpleUser
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "API_KEY_HEADER",
    "DEMO_USER",
    "REALM",
    "CredentialCheck",
    "DemoAuth",
    "Refusal",
    "RequireCredentials",
    "check_credentials",
    "demo_auth_check",
]

API_KEY_HEADER = "X-API-Key"
REALM = "A2A Demo Agent"
DEMO_USER = "demo-user"  # every DemoAuth credential stands for this one user


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
    """Why a request's credentials were refused, as a 401 (or 403) tells it."""

    error: str  # "missing credentials", "invalid credentials", or an RFC 6750 code
    challenge: str  # the WWW-Authenticate value: one challenge per configured scheme
    status_code: int = 401  # 403 for a valid token without the scope (RFC 6750 §3.1)
    description: str = ""  # a sentence for people, sent as `error_description` if set


# The caller's user name if the headers carry an acceptable credential, else why not.
CredentialCheck = Callable[[Headers], str | Refusal]


def demo_auth_check(auth: DemoAuth) -> CredentialCheck:
    """The check `RequireCredentials` applies for `auth`: `check_credentials`, as one user."""

    def check(headers: Headers) -> str | Refusal:
        return check_credentials(auth, headers) or DEMO_USER

    return check


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
        challenges.append(f'Bearer realm="{REALM}"{error}')
    if auth.api_key:
        challenges.append(f'ApiKey realm="{REALM}", header="{API_KEY_HEADER}"')
    return ", ".join(challenges)


class RequireCredentials:
    """ASGI middleware: every HTTP request needs a credential `check` accepts, except
    public ones.

    Public: GET/HEAD of the exact paths in `public` (the app passes its card and its
    files, so the SDK's `/{tenant}/...` REST mount cannot be reached through them), and
    any method on the exact paths in `open_paths` (the authorization server's, which
    take POSTs before anyone holds a token). Anything else gets the check's refusal: a
    JSON `{"error": ...}` and a `WWW-Authenticate` challenge.
    """

    def __init__(
        self,
        app: ASGIApp,
        check: CredentialCheck,
        public: Collection[str],
        open_paths: Collection[str] = (),
    ) -> None:
        self.app = app
        self.check = check
        self.public = frozenset(public)
        self.open_paths = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] in self.open_paths
            or (scope["method"] in ("GET", "HEAD") and scope["path"] in self.public)
        ):
            await self.app(scope, receive, send)
            return
        outcome = self.check(Headers(scope=scope))
        if isinstance(outcome, str):
            # A user in the scope makes the SDK's call context authenticated. The SDK
            # keeps each user's tasks apart: callers as the same user share a list.
            scope["user"] = SimpleUser(outcome)
            scope["auth"] = AuthCredentials(["authenticated"])
            await self.app(scope, receive, send)
            return
        body = {"error": outcome.error}
        if outcome.description:
            body["error_description"] = outcome.description
        response = JSONResponse(
            body,
            status_code=outcome.status_code,
            headers={"WWW-Authenticate": outcome.challenge},
        )
        await response(scope, receive, send)
