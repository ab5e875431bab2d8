"""Credentials for the configured agent, sent to that agent's origin only."""

from __future__ import annotations

from collections.abc import Generator

import httpx

__all__ = ["BearerForOrigin"]


class BearerForOrigin(httpx.Auth):
    """Adds `Authorization: Bearer <token>` to requests for one origin, and no other.

    The URL field lets a user point the app anywhere; a token configured for one agent
    must never reach another.
    """

    def __init__(self, token: str, url: str) -> None:
        self._token = token
        self._origin = _origin(httpx.URL(url))

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if _origin(request.url) == self._origin:
            request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host, url.port or default_port)
