"""gRPC channels for agents, made and closed on the session's loop (the third binding).

a2a-sdk's gRPC transport gets its channel from `ClientConfig.grpc_channel_factory(url)`,
called with the interface's URL while the client is built. A `grpc.aio` channel belongs to
the loop it was made on, so `GrpcChannels`, a runtime resource beside the httpx client,
makes them there: one per agent and target, kept for the runtime's life and closed with
it. The SDK closes its channel when a client closes (a reconnect, a one-call client), so
the factory hands out a view whose `close` leaves the kept channel open.

Each channel carries its own agent's credentials only, as metadata (`CredentialsMetadata`
runs the session's httpx `Auth` for the agent's URL on every call, so a refreshed token
or a changed header applies at once), is stopped by the allow list like an HTTP request,
and is recorded by the inspector (`GrpcCapture`). TLS when the URL says so (`grpcs://`,
`https://`) or the target is not loopback; the agent's client certificate, if any, goes
to gRPC targets on the agent's own host only, as with HTTP.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import grpc
import grpc.aio
import httpx

from services.client.allowlist import AllowList
from services.client.tls import OriginCertificates
from services.errors import InvalidCard, NotAllowed
from services.inspector.capture import TrafficRecorder
from services.inspector.grpc_capture import GrpcCapture, as_interceptors
from services.urls import shorten

__all__ = ["CredentialsMetadata", "GrpcChannels", "grpc_target"]

ChannelFactory = Callable[[str], grpc.aio.Channel]


def grpc_target(url: str) -> tuple[str, bool]:
    """(`host:port`, secure) for a gRPC interface URL.

    The card may say `host:port` (the spec's form), `grpc://` or `grpcs://`, or an http(s)
    URL; without a scheme, TLS unless the host is loopback (the demo agent).
    """
    text = url.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    parts = urlsplit(text if scheme else f"//{text}")
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = None
    if not host or scheme not in ("", "grpc", "grpcs", "http", "https"):
        raise InvalidCard(
            f"The card's gRPC interface {shorten(url)} is not host:port or a grpc(s):// URL: "
            "fix the card, or choose another binding."
        )
    secure = scheme in ("grpcs", "https") or (not scheme and not _loopback(host))
    port = port or (443 if secure else 80)
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}", secure


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CredentialsMetadata:
    """Adds the headers `auth` puts on a request to `agent_url` as each call's metadata."""

    def __init__(self, auth: httpx.Auth, agent_url: str) -> None:
        self._auth = auth
        self._agent_url = agent_url

    async def _with_credentials(self, details: grpc.aio.ClientCallDetails) -> Any:
        request = httpx.Request("POST", self._agent_url)
        before = {name.lower() for name in request.headers}
        flow = self._auth.async_auth_flow(request)
        try:
            prepared = await flow.__anext__()
        finally:
            await flow.aclose()
        added = [
            (name.lower(), value)  # gRPC metadata keys are lower case
            for name, value in prepared.headers.multi_items()
            if name.lower() not in before
        ]
        if not added:
            return details
        return details._replace(metadata=[*(details.metadata or ()), *added])

    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        return await continuation(await self._with_credentials(client_call_details), request)

    async def intercept_unary_stream(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        return await continuation(await self._with_credentials(client_call_details), request)


class _KeptChannel:
    """The SDK's view of a kept channel: everything but `close`, which the runtime does."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._channel = channel

    def __getattr__(self, name: str) -> Any:
        return getattr(self._channel, name)

    def unary_unary(self, *args: Any, **kwargs: Any) -> _CancellableUnary:
        return _CancellableUnary(self._channel.unary_unary(*args, **kwargs))

    async def close(self, grace: float | None = None) -> None:
        """Left open: other clients of this agent share it; the runtime closes it."""


class _CancellableUnary:
    """A unary method whose cancellation reaches the caller as the caller's own.

    Cancelled while it waits, a grpc.aio unary call (with interceptors) raises a fresh
    CancelledError, without the message anyio's cancel scopes recognise theirs by, so an
    `anyio.fail_after` around it let the cancellation escape instead of a TimeoutError.
    Waiting through `asyncio.shield` keeps the caller's own CancelledError; the call is
    then cancelled by hand.
    """

    def __init__(self, method: Any) -> None:
        self._method = method

    async def __call__(self, request: Any, **kwargs: Any) -> Any:
        call = self._method(request, **kwargs)
        try:
            return await asyncio.shield(_response(call))
        except asyncio.CancelledError:
            call.cancel()
            raise


async def _response(call: Any) -> Any:
    return await call


@dataclass
class GrpcChannels:
    """A runtime's gRPC channels by (agent URL, target); touch on the runtime's loop only."""

    recorder: TrafficRecorder
    auth: httpx.Auth | None = None
    allow: AllowList | None = None
    certificates: OriginCertificates = field(default_factory=OriginCertificates)
    channels: dict[tuple[str, str, bool], grpc.aio.Channel] = field(default_factory=dict)

    def factory(self, agent_url: str) -> ChannelFactory:
        """The `ClientConfig.grpc_channel_factory` for the agent at `agent_url`."""

        def make(interface_url: str) -> grpc.aio.Channel:
            return _KeptChannel(self.channel(agent_url, interface_url))

        return make

    def channel(self, agent_url: str, interface_url: str) -> grpc.aio.Channel:
        """The kept channel for `agent_url`'s gRPC interface at `interface_url`."""
        target, secure = grpc_target(interface_url)
        as_url = f"{'https' if secure else 'http'}://{target}/"
        if self.allow is not None and not self.allow.allows(as_url):
            raise NotAllowed(
                f"The agent's gRPC endpoint {shorten(target)} is not an address this "
                "deployment may contact: ask the deployment's operator to add it to "
                "allowed_agent_urls."
            )
        key = (agent_url, target, secure)
        if key not in self.channels:
            self.channels[key] = self._open(agent_url, target, secure)
        return self.channels[key]

    def _open(self, agent_url: str, target: str, secure: bool) -> grpc.aio.Channel:
        # Credentials first, so the capture records the metadata they add (masked).
        interceptors: list[grpc.aio.ClientInterceptor] = []
        if self.auth is not None:
            credentials = CredentialsMetadata(self.auth, agent_url)
            interceptors += as_interceptors(
                credentials.intercept_unary_unary, credentials.intercept_unary_stream
            )
        interceptors += GrpcCapture(self.recorder.redactor, target, secure=secure).interceptors()
        if not secure:
            return grpc.aio.insecure_channel(target, interceptors=interceptors)
        return grpc.aio.secure_channel(
            target, self._tls(agent_url, target), interceptors=interceptors
        )

    def _tls(self, agent_url: str, target: str) -> grpc.ChannelCredentials:
        certificate = self.certificates.get(agent_url)
        agent_host = urlsplit(agent_url).hostname or ""
        if certificate is None or target.rsplit(":", 1)[0].strip("[]") != agent_host:
            return grpc.ssl_channel_credentials()
        return grpc.ssl_channel_credentials(
            root_certificates=certificate.ca_pem.encode() or None,
            private_key=certificate.key_pem.encode(),
            certificate_chain=certificate.cert_pem.encode(),
        )

    async def aclose(self) -> None:
        """Close every channel (on the loop that made them)."""
        channels, self.channels = list(self.channels.values()), {}
        for channel in channels:
            await channel.close()
