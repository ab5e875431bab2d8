"""Which agent URLs a deployment may contact (`allowed_agent_urls`).

A public deployment lets anyone type a URL, so without a list its server can be made to
request any address it can reach, internal ones included. With a list, every request the
session's client makes is checked, each redirect hop too, before it leaves.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from services.errors import NotAllowed

__all__ = ["AllowList"]


def _key(url: httpx.URL) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host, url.port or default_port)


def _under(path: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/")
    return not prefix or path == prefix or path.startswith(prefix + "/")


class AllowList:
    """URL prefixes: same scheme, host and port, and a path under the entry's path."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self._entries = [httpx.URL(e.strip()) for e in entries if e.strip()]

    def __bool__(self) -> bool:
        return bool(self._entries)

    def add(self, url: str) -> None:
        """Allow one more (the embedded demo agent, which the app itself runs)."""
        self._entries.append(httpx.URL(url))

    def allows(self, url: str | httpx.URL) -> bool:
        if not self._entries:
            return True  # no list: any agent (a local or private deployment)
        target = httpx.URL(url)
        return any(
            _key(target) == _key(entry) and _under(target.path, entry.path)
            for entry in self._entries
        )

    def describe(self) -> str:
        return ", ".join(str(e) for e in self._entries)

    def check(self, url: str) -> None:
        """Raise `NotAllowed` with a sentence when `url` is not on the list."""
        if not self.allows(url):
            raise NotAllowed(
                f"{url} is not an agent this deployment may contact. Its operator allows "
                f"only: {self.describe()} (the allowed_agent_urls setting)."
            )

    async def guard(self, request: httpx.Request) -> None:
        """An httpx request hook: runs for every request, redirect hops included."""
        if not self.allows(request.url):
            raise NotAllowed(
                f"The request to {request.url.copy_with(query=None)} was stopped: it is not "
                f"an allowed agent URL (allowed: {self.describe()}). If the agent redirected "
                "there, ask its operator, or add the address to allowed_agent_urls."
            )
