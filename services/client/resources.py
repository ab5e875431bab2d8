"""The A2A layer's loop-bound objects, kept in a `SessionRuntime` as resources.

A runtime knows nothing about A2A; this module puts four resources in it: the session's
settings (its traffic recorder, credentials, client certificates, allow list and timeout),
the one httpx client (with the capturing transport over a transport per client
certificate, the allow-list guard and the credentials hooks), the gRPC channels (one per
agent target, see `grpc_channels`), and the a2a-sdk clients by agent URL. Each is created
on the runtime's loop the first time it is asked for and closed there, SDK clients before
the httpx client and the channels they use.

`configure` gives a runtime its session's settings; a runtime never configured gets the
defaults (a fresh recorder, no credentials, no certificates, no allow list).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from services.client.allowlist import AllowList
from services.client.grpc_channels import ChannelFactory, GrpcChannels
from services.client.tls import OriginCertificates, OriginTransports
from services.inspector.capture import CapturingTransport, TrafficRecorder
from services.redact import Redactor
from services.runtime import Resource, SessionRuntime

if TYPE_CHECKING:
    from services.client.agent import AgentConnection

__all__ = [
    "DEFAULT_TIMEOUT",
    "A2ASettings",
    "ConnectOptions",
    "aconnected",
    "acertificates",
    "aconnections",
    "agrpc_channel_factory",
    "ahttp",
    "arecorder",
    "certificates",
    "configure",
    "connections",
    "grpc_channels",
    "http",
    "pool_counts",
    "recorder",
    "transport",
]

log = logging.getLogger(__name__)

# A stream that sends nothing for `read` seconds is broken; the slow demo task sends
# every second, real agents that think for a while still fit.
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=60.0, write=10.0, pool=10.0)


@dataclass(frozen=True)
class A2ASettings:
    """What a session's A2A clients are built with."""

    # Plain data, so it may outlive a runtime (the session keeps it across rebuilds).
    recorder: TrafficRecorder = field(default_factory=TrafficRecorder)
    auth: httpx.Auth | None = None
    allow: AllowList | None = None
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    certificates: OriginCertificates = field(default_factory=OriginCertificates)
    # How each agent was connected (binding, tenant, ...), so a client made again on a
    # rebuilt runtime is made alike (see `agent.connection_for`).
    connected: dict[str, ConnectOptions] = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectOptions:
    """What an agent's client was made with, besides its URL."""

    binding: str = ""
    extended: bool = False
    jwks_url: str = ""
    tenant: str = ""


@dataclass(frozen=True)
class _Http:
    client: httpx.AsyncClient
    transport: CapturingTransport


async def _default_settings(runtime: SessionRuntime) -> A2ASettings:
    return A2ASettings()


async def _open_http(runtime: SessionRuntime) -> _Http:
    settings = await runtime.aget(_SETTINGS)
    client, transport = await _new_http_client(
        settings.recorder.redactor,
        settings.auth,
        settings.allow,
        settings.timeout,
        settings.certificates,
    )
    return _Http(client, transport)


async def _close_http(http: _Http) -> None:
    await http.client.aclose()


async def _open_grpc(runtime: SessionRuntime) -> GrpcChannels:
    settings = await runtime.aget(_SETTINGS)
    return GrpcChannels(settings.recorder, settings.auth, settings.allow, settings.certificates)


async def _close_grpc(channels: GrpcChannels) -> None:
    await channels.aclose()


async def _open_connections(runtime: SessionRuntime) -> dict[str, AgentConnection]:
    # Created first, so closed after the SDK clients that use them.
    await runtime.aget(_HTTP)
    await runtime.aget(_GRPC)
    return {}


async def _close_connections(connections: dict[str, AgentConnection]) -> None:
    for connection in list(connections.values()):
        try:
            await connection.client.close()
        except Exception:  # noqa: BLE001 - closing: log and go on
            log.debug("closing an a2a client failed", exc_info=True)
    connections.clear()


_SETTINGS: Resource[A2ASettings] = Resource("a2a.settings", _default_settings)
_HTTP: Resource[_Http] = Resource("a2a.http", _open_http, _close_http)
_GRPC: Resource[GrpcChannels] = Resource("a2a.grpc", _open_grpc, _close_grpc)
_CONNECTIONS: Resource[dict[str, AgentConnection]] = Resource(
    "a2a.connections", _open_connections, _close_connections
)


def configure(
    runtime: SessionRuntime,
    *,
    recorder: TrafficRecorder | None = None,
    auth: httpx.Auth | None = None,
    allow: AllowList | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    certificates: OriginCertificates | None = None,
    connected: dict[str, ConnectOptions] | None = None,
) -> SessionRuntime:
    """Give `runtime` the session's A2A settings (before its first A2A call); returns it.

    `connected` is the session's record of how each agent was connected: pass the same
    dict to each runtime the session builds, so a rebuilt one connects agents alike."""
    settings = A2ASettings(
        recorder or TrafficRecorder(),
        auth,
        allow,
        timeout,
        certificates or OriginCertificates(),
        {} if connected is None else connected,
    )

    async def given(runtime: SessionRuntime) -> A2ASettings:
        return settings

    runtime.register(Resource(_SETTINGS.name, given))
    return runtime


async def aconnected(runtime: SessionRuntime) -> dict[str, ConnectOptions]:
    """How each agent was connected, by URL (see `configure`), on the runtime's loop."""
    return (await runtime.aget(_SETTINGS)).connected


async def arecorder(runtime: SessionRuntime) -> TrafficRecorder:
    """The runtime's traffic recorder, on the runtime's loop."""
    return (await runtime.aget(_SETTINGS)).recorder


def recorder(runtime: SessionRuntime) -> TrafficRecorder:
    """The runtime's traffic recorder (plain data: safe on any thread)."""
    return runtime.get(_SETTINGS).recorder


async def acertificates(runtime: SessionRuntime) -> OriginCertificates:
    """Which origin gets which client certificate, on the runtime's loop."""
    return (await runtime.aget(_SETTINGS)).certificates


def certificates(runtime: SessionRuntime) -> OriginCertificates:
    """Which origin gets which client certificate (thread-safe: `set` from any thread)."""
    return runtime.get(_SETTINGS).certificates


async def ahttp(runtime: SessionRuntime) -> httpx.AsyncClient:
    """The session's one httpx client, on the runtime's loop (use it there only)."""
    return (await runtime.aget(_HTTP)).client


def http(runtime: SessionRuntime) -> httpx.AsyncClient:
    """The session's httpx client, from the script thread: hand it to `runtime.call` only."""
    return runtime.get(_HTTP).client


def transport(runtime: SessionRuntime) -> CapturingTransport:
    """The http client's transport (records traffic, knows its connection pool)."""
    return runtime.get(_HTTP).transport


def pool_counts(runtime: SessionRuntime) -> tuple[int, int]:
    """(open, idle) connections in the session's pools; (0, 0) if it has no client yet."""
    opened = runtime.peek(_HTTP)
    return opened.transport.connection_counts() if opened is not None else (0, 0)


async def agrpc_channel_factory(runtime: SessionRuntime, agent_url: str) -> ChannelFactory:
    """`ClientConfig.grpc_channel_factory` for `agent_url`: its channels, on this loop."""
    return (await runtime.aget(_GRPC)).factory(agent_url)


def grpc_channels(runtime: SessionRuntime) -> GrpcChannels | None:
    """The runtime's gRPC channels, if any were asked for (read them on its loop only)."""
    return runtime.peek(_GRPC)


async def aconnections(runtime: SessionRuntime) -> dict[str, AgentConnection]:
    """a2a-sdk clients by agent URL, on the runtime's loop (touch them there only)."""
    return await runtime.aget(_CONNECTIONS)


def connections(runtime: SessionRuntime) -> dict[str, AgentConnection]:
    """a2a-sdk clients by agent URL: touch them on the runtime's loop only."""
    return runtime.get(_CONNECTIONS)


async def _new_http_client(
    redactor: Redactor,
    auth: httpx.Auth | None,
    allow: AllowList | None,
    limits: httpx.Timeout,
    certificates: OriginCertificates,
) -> tuple[httpx.AsyncClient, CapturingTransport]:
    # Created on the loop that will use it; its transport records A2A traffic. Request
    # hooks run on every redirect hop, so the allow list (first: a refused address gets
    # nothing) and the credentials see each hop. httpx runs an `auth=` once per send and
    # then follows redirects with the first hop's headers, so `auth` runs as a hook too.
    async def authenticate(request: httpx.Request) -> None:
        assert auth is not None
        flow = auth.async_auth_flow(request)
        try:
            prepared = await flow.__anext__()
        finally:
            await flow.aclose()
        if prepared is not request:
            request.headers = prepared.headers

    hooks: list[Callable[[httpx.Request], Awaitable[None]]] = []
    if allow:
        hooks.append(allow.guard)
    if auth is not None:
        hooks.append(authenticate)
    # Capture wraps the per-origin transports, so it records every origin's exchanges.
    transport = CapturingTransport(OriginTransports(certificates), redactor)
    client = httpx.AsyncClient(
        transport=transport,
        timeout=limits,
        follow_redirects=True,
        max_redirects=5,
        event_hooks={"request": hooks},
    )
    return client, transport
