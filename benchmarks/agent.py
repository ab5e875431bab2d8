"""The demo agent for the benchmarks: one server per timing, in its own process.

Why its own process: a deployed agent never shares the app's interpreter, and on one
GIL the agent's work would be billed to whichever client happens to run beside it.
`--agent thread` keeps it in the benchmark's process instead (the stricter setting:
server and client share one core's worth of Python).

Why TCP_NODELAY: `LoopbackServer` binds a socket made with protocol 0, so asyncio does
not switch Nagle off on the connections it accepts (it only does so for IPPROTO_TCP
sockets), and every reply written in more than one piece waits for the client's delayed
ACK: about 40 ms per message on Linux. Setting the option on the listening socket is
inherited by accepted sockets on Linux, so the figures measure the clients, not that.

Run alone: `python -m benchmarks.agent '{"fast": [0, 0, 0, 3000]}'` prints one JSON line
of base URLs by name, then serves until its stdin closes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import astuple
from pathlib import Path
from typing import Literal

from services.demo_agent import DemoAgentServer, DemoTiming

__all__ = ["Where", "agents", "start_server"]

ROOT = Path(__file__).resolve().parents[1]
Where = Literal["process", "thread"]


def start_server(timing: DemoTiming) -> DemoAgentServer:
    """The demo agent on 127.0.0.1 with Nagle off (see the module's docstring)."""
    server = DemoAgentServer(timing=timing)
    # Private, and a no-op once LoopbackServer makes its socket with IPPROTO_TCP.
    listener = getattr(server, "_sock", None)
    if isinstance(listener, socket.socket):
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return server


@contextmanager
def agents(timings: dict[str, DemoTiming], where: Where = "process") -> Iterator[dict[str, str]]:
    """Base URLs of one demo agent per named timing, served for the block's duration."""
    if where == "thread":
        with ExitStack() as stack:
            servers = {name: stack.enter_context(start_server(t)) for name, t in timings.items()}
            yield {name: server.url for name, server in servers.items()}
        return
    spec = json.dumps({name: astuple(t) for name, t in timings.items()})
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.agent", spec],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until the servers listen
        if not line:
            raise RuntimeError(f"the benchmark agent exited with {process.wait()}")
        yield json.loads(line)
    finally:
        if process.stdin is not None:
            process.stdin.close()  # the agent's signal to stop
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    timings = {name: DemoTiming(*values) for name, values in json.loads(sys.argv[1]).items()}
    with ExitStack() as stack:
        urls = {name: stack.enter_context(start_server(t)).url for name, t in timings.items()}
        print(json.dumps(urls), flush=True)  # noqa: T201 - the parent reads this line
        sys.stdin.read()  # until the parent closes it (or dies)


if __name__ == "__main__":
    main()
