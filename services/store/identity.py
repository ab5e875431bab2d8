"""Who is coming back: the workspace a browser (or a signed-in person) returns to.

Streamlit's scripts cannot write cookies, so `WorkspaceCookie`, a plain ASGI middleware
that `app.py` hands to `st.App`, gives each browser a long-lived random cookie on its
first page load. The script reads it from `st.context.cookies` and names the workspace
after a hash of it, so the database never holds the cookie itself. A person signed in
with Streamlit's `st.login` has a workspace of their own that follows them to any browser.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = [
    "COOKIE",
    "WorkspaceCookie",
    "workspace_for_cookie",
    "workspace_for_session",
    "workspace_for_user",
]

COOKIE = "a2a_workspace"
MAX_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie (Chrome caps at 400 days)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
# Streamlit's own paths: no page is loaded from them, so no cookie is set on them.
_NOT_PAGES = ("/_stcore/", "/static/", "/media/", "/component/", "/app/static/")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def _hash(kind: str, value: str) -> str:
    return f"{kind}-{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def workspace_for_cookie(token: str | None) -> str | None:
    """The workspace a cookie names, or None when there is no (well-formed) cookie."""
    if not token or not _TOKEN.fullmatch(token):
        return None
    return _hash("browser", token)


def workspace_for_user(issuer: str, subject: str) -> str:
    """A signed-in person's workspace: the same in every browser."""
    return _hash("user", f"{issuer}|{subject}")


def workspace_for_session() -> str:
    """A workspace of its own for a session with no cookie (cookies blocked, a test
    harness): kept like any other, found again by nobody."""
    return f"session-{secrets.token_hex(16)}"


def _cookie(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"cookie":
            for item in value.decode("latin-1").split(";"):
                key, _, token = item.strip().partition("=")
                if key == COOKIE:
                    return token
    return None


class WorkspaceCookie:
    """Sets the workspace cookie (HttpOnly, SameSite=Lax, Secure over https) on a page
    load that has none; everything else passes through untouched."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") != "GET"
            or str(scope.get("path", "")).startswith(_NOT_PAGES)
            or workspace_for_cookie(_cookie(scope.get("headers", []))) is not None
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        https = scope.get("scheme") == "https" or headers.get(b"x-forwarded-proto") == b"https"
        cookie = (
            f"{COOKIE}={secrets.token_urlsafe(32)}; Path=/; Max-Age={MAX_AGE}; HttpOnly; "
            f"SameSite=Lax{'; Secure' if https else ''}"
        )

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"set-cookie", cookie.encode())]
            await send(message)

        await self.app(scope, receive, send_with_cookie)
