"""Push notifications from the demo agent: a2a-sdk's sender, its URL policy, and loopback.

The sender is a2a-sdk's own `BasePushNotificationSender`: for each event of a task with a
push config (the task, status and artifact updates) it POSTs the `StreamResponse` JSON to
the config's URL, the config's token in `X-A2A-Notification-Token` and its
`authentication` as `Authorization: <scheme> <credentials>`. It is awaited inline, event
by event, so its client has a short timeout: a slow webhook slows that task's events.

Which URLs it may call is `push_url_policy`: the SDK's `validate_push_notification_url`
(http(s) only; no loopback, private, link-local, shared, reserved, multicast or unresolved
hosts), except that an agent bound to loopback may also notify loopback. Such an agent
is reachable from its own machine only, so whoever registers a loopback URL could reach
that address anyway; and it is how the app, on 127.0.0.1, receives its own agent's
notifications. Every other address the SDK blocks stays blocked. One caveat: a program
that relays other people's requests to such an agent (the app does, for its visitors)
lends them that reach, so it should hand the agent webhook URLs it chose itself.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import httpx
from a2a.utils.push_url_validator import validate_push_notification_url

__all__ = ["PUSH_TIMEOUT", "PushUrlPolicy", "is_loopback_url", "new_push_client", "push_url_policy"]

# A webhook must answer within seconds: the SDK awaits each POST before the next event.
PUSH_TIMEOUT = httpx.Timeout(5.0)

PushUrlPolicy = Callable[[str], Awaitable[bool]]


def _is_loopback_ip(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 as the SDK judges it
    return (mapped or address).is_loopback


def is_loopback_url(url: str) -> bool:
    """Whether `url`'s host is a loopback address or `localhost` (no lookup)."""
    host = urlsplit(url).hostname or ""
    return host == "localhost" or _is_loopback_ip(host)


async def _resolves_to_loopback_only(url: str) -> bool:
    """An http(s) URL whose host resolves, every address of it, to loopback."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    try:
        # The running loop's resolver, as the SDK's validator uses: no blocking lookup.
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, port, type=socket.SOCK_STREAM
        )
    except OSError:
        return False
    return bool(infos) and all(_is_loopback_ip(str(info[4][0])) for info in infos)


def push_url_policy(*, allow_loopback: bool) -> PushUrlPolicy:
    """The push URL check for the request handler (at registration) and the sender (at
    each POST, so a name that later resolves elsewhere is checked again).

    Args:
        allow_loopback: also accept URLs whose host resolves to loopback addresses only.
            Pass True only for an agent that is itself bound to loopback.
    """

    async def check(url: str) -> bool:
        # Loopback first: the SDK's check logs a warning for each URL it refuses, and the
        # sender runs it before every POST. Anything else is the SDK's call alone.
        if allow_loopback and await _resolves_to_loopback_only(url):
            return True
        return await validate_push_notification_url(url)

    return check


def new_push_client() -> httpx.AsyncClient:
    """The httpx client the sender POSTs with (create it anywhere; it binds on first use).

    No redirects (a webhook cannot bounce the agent to an address the policy refused),
    and no kept-alive connections: an app served without its lifespan never closes this
    client, and then no socket is left open when the server's loop ends.
    """
    return httpx.AsyncClient(
        timeout=PUSH_TIMEOUT,
        follow_redirects=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )
