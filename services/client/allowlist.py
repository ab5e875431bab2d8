"""Which agent URLs a deployment may contact (`allowed_agent_urls`).

A public deployment lets anyone type a URL, so without a list its server can be made to
request any address it can reach, internal ones included. With a list, every request the
session's client makes is checked, each redirect hop too, before it leaves.
"""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Iterable
from urllib.parse import unquote

import httpx

from services.errors import InvalidUrl, NotAllowed
from services.urls import check_agent_url, shorten

__all__ = ["AllowList"]

log = logging.getLogger(__name__)

# An encoded dot, slash or backslash in a path is read as a path separator by some
# servers and proxies and as a plain character by others: refuse it rather than guess.
_ENCODED_SEPARATOR = re.compile(r"%(2e|2f|5c)", re.IGNORECASE)

_Key = tuple[str, str, int | None]


def _key(url: httpx.URL) -> _Key:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host, url.port or default_port)


def _path(url: httpx.URL) -> str | None:
    """The path as a server resolves it (decoded, RFC 3986 5.2.4 dot segments removed),
    or None when it holds an encoded dot or separator, or a backslash."""
    raw = url.raw_path.split(b"?", 1)[0].decode("ascii", "replace")
    if _ENCODED_SEPARATOR.search(raw) or "\\" in raw:
        return None
    decoded = unquote(raw)
    if "\\" in decoded:
        return None
    normal = posixpath.normpath(decoded) if decoded else "/"
    # normpath keeps a leading "//" and drops a trailing "/"; neither matters for a prefix.
    return "/" + normal.lstrip("/") if normal != "." else "/"


def _under(path: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/")
    return not prefix or path == prefix or path.startswith(prefix + "/")


class AllowList:
    """URL prefixes: same scheme, host and port, and a path under the entry's path.

    Entries are checked with the same rules as a typed URL; a bad one is skipped with a
    warning. A list whose every entry was bad still refuses everything (fails closed).
    """

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self._entries: list[tuple[_Key, str]] = []
        self._configured = False
        for entry in entries:
            if entry.strip():
                self._configured = True
                self.add(entry)

    def __bool__(self) -> bool:
        return self._configured

    def add(self, url: str) -> None:
        """Allow one more (the embedded demo agent, which the app itself runs)."""
        self._configured = True
        try:
            parsed = httpx.URL(check_agent_url(url))
            path = _path(parsed)
            if path is None:
                raise InvalidUrl("its path holds an encoded dot, slash or backslash")
        except (InvalidUrl, httpx.InvalidURL) as error:
            log.warning("allowed_agent_urls: skipped %s: %s", shorten(url), error)
            return
        self._entries.append((_key(parsed), path))

    def allows(self, url: str | httpx.URL) -> bool:
        if not self._configured:
            return True  # no list: any agent (a local or private deployment)
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL:
            return False
        path = _path(target)
        return path is not None and any(
            _key(target) == key and _under(path, prefix) for key, prefix in self._entries
        )

    def check(self, url: str) -> None:
        """Raise `NotAllowed` with a sentence when `url` is not on the list."""
        if not self.allows(url):
            # The sentence names no entry: every visitor sees it, and the list holds
            # internal addresses (the embedded demo agent's port, say).
            raise NotAllowed(
                f"{shorten(url)} is not an agent this deployment may contact: ask the "
                "deployment's operator to add it to allowed_agent_urls if you need it."
            )

    async def guard(self, request: httpx.Request) -> None:
        """An httpx request hook: runs for every request, redirect hops included."""
        if not self.allows(request.url):
            raise NotAllowed(
                f"The request to {shorten(str(request.url.copy_with(query=None)))} was "
                "stopped, as it is not an address this deployment may contact: if the agent "
                "redirected there, ask the deployment's operator to add it to "
                "allowed_agent_urls."
            )
