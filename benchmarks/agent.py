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

Why several processes for the many-sessions figures (`agent_pool`): one demo agent is one
GIL, and it runs at 98% of a core whether it serves one stream or twenty, so a figure with
one agent behind fifty sessions measures the agent. Spread round-robin over a few
processes, the agents have more than one core between them.

Run alone: `python -m benchmarks.agent '{"fast": [0, 0, 0, 3000]}'` prints one JSON line
of base URLs by name, then serves until its stdin closes. Every server binds 127.0.0.1 on a
free port; every process is stopped by its PID (stdin closed, then killed after 10 s).
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import astuple
from pathlib import Path
from typing import Literal

from services.demo_agent import DemoAgentServer, DemoTiming

__all__ = ["Where", "agent_pool", "agents", "start_server"]

ROOT = Path(__file__).resolve().parents[1]
Where = Literal["process", "thread"]
START_TIMEOUT = 60.0  # seconds an agent process gets to print its URLs
STOP_TIMEOUT = 10.0  # seconds an agent process gets to end once its stdin closes


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
    process = _spawn(timings)
    try:
        yield _urls(process)
    finally:
        _stop(process)


@contextmanager
def agent_pool(timing: DemoTiming, count: int, where: Where = "process") -> Iterator[list[str]]:
    """Base URLs of `count` demo agents with one timing, each in its own process."""
    if where == "thread":  # all on this process's GIL: the stricter setting, as above
        with ExitStack() as stack:
            yield [stack.enter_context(start_server(timing)).url for _ in range(count)]
        return
    processes: list[subprocess.Popen[str]] = []
    try:
        for _ in range(count):  # started together: their imports overlap
            processes.append(_spawn({"agent": timing}))
        yield [_urls(process)["agent"] for process in processes]
    finally:
        for process in processes:
            if process.stdin is not None:
                process.stdin.close()  # all of them first: they end together
        for process in processes:
            _stop(process)


def _spawn(timings: dict[str, DemoTiming]) -> subprocess.Popen[str]:
    spec = json.dumps({name: astuple(t) for name, t in timings.items()})
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.agent", spec],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        text=True,
    )


def _urls(process: subprocess.Popen[str]) -> dict[str, str]:
    """The URLs the process prints once its servers listen (killed if it never does)."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    if not ready:
        process.kill()
        process.wait()
        raise RuntimeError(f"the benchmark agent did not start in {START_TIMEOUT:.0f} s")
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"the benchmark agent exited with {process.wait()}")
    urls: dict[str, str] = json.loads(line)
    return urls


def _stop(process: subprocess.Popen[str]) -> None:
    """Close its stdin (the agent's signal to stop), then kill it by PID if it lingers."""
    if process.stdin is not None and not process.stdin.closed:
        process.stdin.close()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def main() -> None:
    timings = {name: DemoTiming(*values) for name, values in json.loads(sys.argv[1]).items()}
    with ExitStack() as stack:
        urls = {name: stack.enter_context(start_server(t)).url for name, t in timings.items()}
        print(json.dumps(urls), flush=True)  # noqa: T201 - the parent reads this line
        sys.stdin.read()  # until the parent closes it (or dies)


if __name__ == "__main__":
    main()
