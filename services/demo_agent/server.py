"""Serving on loopback in-process: `LoopbackServer`, `DemoAgentServer`, `ensure_demo_agent`.

Each server runs uvicorn on its own anyio portal thread, bound to 127.0.0.1, so the app
(and the tests) can start an agent, use its URL at once, and stop it. The demo agent also
serves gRPC on another loopback port, from its app's lifespan on that same loop.
"""

from __future__ import annotations

import atexit
import socket
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack

import uvicorn
from anyio.from_thread import start_blocking_portal
from starlette.types import ASGIApp

from services.demo_agent.app import build_app
from services.demo_agent.auth import DemoAuth
from services.demo_agent.oauth import DemoOAuth
from services.demo_agent.scenarios import DemoTiming
from services.demo_agent.signing import CardSigning
from services.runtime import name_native_thread

__all__ = [
    "DemoAgentServer",
    "LoopbackServer",
    "ensure_demo_agent",
    "free_loopback_port",
    "running_demo_agent",
]

_THREAD_NAME = "a2a-demo-agent"


class LoopbackServer:
    """An ASGI app served by uvicorn on its own portal thread, on 127.0.0.1.

    `app_factory` gets the base URL (known once the port is bound) and returns the app.
    Used for the demo agent and for the purpose-built agents in the tests. With
    `lifespan=True` the app's ASGI lifespan runs on the server's loop: start-up before
    the constructor returns (its failure raises), shutdown in `stop()`.
    """

    def __init__(
        self,
        app_factory: Callable[[str], ASGIApp],
        *,
        port: int = 0,
        thread_name: str = "loopback-server",
        lifespan: bool = False,
    ) -> None:
        # pop_all() only once uvicorn listens (Starlette's TestClient.__enter__ does the
        # same): a failed step closes the socket and stops the portal thread again.
        with ExitStack() as stack:
            # IPPROTO_TCP explicitly: with protocol 0 asyncio never sets TCP_NODELAY on the
            # accepted connections, and each short reply waits ~40 ms for a delayed ACK.
            sock = stack.enter_context(
                socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            )
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            self.port: int = sock.getsockname()[1]
            self.url = f"http://127.0.0.1:{self.port}"
            config = uvicorn.Config(
                app_factory(self.url),
                log_config=None,  # leave the host app's logging alone
                log_level="warning",
                access_log=False,
                timeout_graceful_shutdown=1,
                lifespan="on" if lifespan else "off",
            )
            server = uvicorn.Server(config)
            portal = stack.enter_context(start_blocking_portal(name=thread_name))
            portal.call(name_native_thread, thread_name)
            serving = portal.start_task_soon(server.serve, [sock])
            # Wait until uvicorn listens, so the URL works as soon as we return.
            while not server.started:
                if serving.done():
                    error = serving.exception()  # uvicorn logs a failed lifespan start-up
                    raise RuntimeError(f"{thread_name} did not start") from error
                time.sleep(0.005)
            self._stack = stack.pop_all()
        self._server = server
        self._portal = portal
        self._serving = serving
        self._closed = False

    def stop(self) -> None:
        """Stop serving and end the thread; open streams get a second to finish."""
        if self._closed:
            return
        self._closed = True
        self._server.should_exit = True
        try:
            self._serving.result(timeout=3)
        except BaseException:  # noqa: BLE001 - shutting down: whatever it ended with
            pass
        try:
            self._portal.call(self._portal.stop, True)
        except RuntimeError:
            pass  # the portal already stopped
        self._stack.close()  # joins the portal thread, then closes the socket

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago.

    For a server that binds by itself (grpc.aio takes no socket): the port is asked for
    before its card is built, and that server refuses to share it (no SO_REUSEPORT), so a
    port taken in between fails the start-up loudly rather than misrouting calls.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class DemoAgentServer(LoopbackServer):
    """The demo agent on 127.0.0.1 (a free port unless `port` is given).

    `auth` or `oauth` as in `build_app`: with `oauth` the agent carries its own
    authorization server at `{url}/oauth` and requires its tokens. It also serves gRPC on
    127.0.0.1 (`grpc_target`): on `grpc_port`, a free port if 0, not at all if None.
    `tenants` and `required_extension` as in `build_app`.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        timing: DemoTiming | None = None,
        streaming: bool = True,
        auth: DemoAuth | None = None,
        oauth: DemoOAuth | None = None,
        database_url: str | None = None,
        card_signing: CardSigning | None = None,
        grpc_port: int | None = 0,
        tenants: tuple[str, ...] = (),
        required_extension: bool = False,
    ) -> None:
        if grpc_port == 0:
            grpc_port = free_loopback_port()
        self.grpc_target = f"127.0.0.1:{grpc_port}" if grpc_port is not None else ""
        super().__init__(
            lambda url: build_app(
                url,
                timing,
                streaming=streaming,
                auth=auth,
                oauth=oauth,
                database_url=database_url,
                card_signing=card_signing,
                grpc_port=grpc_port,
                tenants=tenants,
                required_extension=required_extension,
            ),
            port=port,
            thread_name=_THREAD_NAME,
            # The database and the gRPC server open and close on the server's loop.
            lifespan=database_url is not None or grpc_port is not None,
        )


_demo_lock = threading.Lock()
_demo: DemoAgentServer | None = None


def ensure_demo_agent(database_url: str | None = None) -> str:
    """Start the process-wide demo agent once and return its base URL.

    Args:
        database_url: where it keeps tasks (see `build_app`); in memory without one. The
            first call starts the agent, so its URL is the one that counts.
    """
    global _demo
    with _demo_lock:
        if _demo is None:
            _demo = DemoAgentServer(database_url=database_url)
            atexit.register(_demo.stop)
        return _demo.url


def running_demo_agent() -> DemoAgentServer | None:
    """The process-wide demo agent if `ensure_demo_agent` started it, else None.

    A function, not a re-exported variable: `from ... import _demo` would copy the binding
    once and never see the agent started later.
    """
    return _demo
