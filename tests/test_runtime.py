"""The session runtime's lifecycle and the streaming bridge, on real loops and agents."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from services.client import agent
from services.runtime import THREAD_PREFIX, SessionRuntime, live_runtimes
from tests.conftest import thread_names

ROOT = Path(__file__).resolve().parents[1]


def wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_a_runtime_owns_one_named_loop_thread_and_client():
    before = threading.active_count()
    rt = SessionRuntime(label="abc")
    try:
        assert rt.alive
        assert rt.thread.name == f"{THREAD_PREFIX}-abc"
        comm = Path(f"/proc/self/task/{rt.thread.native_id}/comm")
        if comm.exists():  # Linux: the OS sees the name too (ps -T, top -H)
            assert comm.read_text().strip() == f"{THREAD_PREFIX}-abc"
        assert threading.active_count() == before + 1
        assert rt in live_runtimes()
        # The httpx client is bound to the runtime's loop: it is used there, not here.
        assert rt.call(_loop_thread_name) == rt.thread.name
    finally:
        rt.close()
    assert not rt.alive and not rt.thread.is_alive()
    assert rt not in live_runtimes()
    assert rt.resources == ()


async def _loop_thread_name() -> str:
    return threading.current_thread().name


def test_close_soon_does_not_block_and_ends_the_thread():
    rt = SessionRuntime(label="soon")
    rt.close_soon()
    assert not rt.alive  # marked at once, so the next access rebuilds
    assert wait_until(lambda: not rt.thread.is_alive())


def test_creating_and_releasing_20_runtimes_leaves_the_thread_count_alone(demo_agent):
    before = thread_names()
    runtimes = [SessionRuntime(label=f"n{i}") for i in range(20)]
    for rt in runtimes:
        agent.connect(rt, demo_agent.url)  # each holds a real connection pool
    assert len(threading.enumerate()) >= len(before) + 20
    for rt in runtimes:
        rt.close()
    assert wait_until(lambda: thread_names() == before), thread_names()


def test_a_forgotten_runtime_is_closed_when_collected():
    rt = SessionRuntime(label="forgotten")
    thread = rt.thread
    del rt
    gc.collect()
    assert wait_until(lambda: not thread.is_alive())


class Rerun(BaseException):
    """Stands in for Streamlit's RerunException (a BaseException, too)."""


def test_a_rerun_ends_the_reader_and_cancels_the_pump(runtime, demo_agent):
    calls = 0

    def checkpoint() -> None:
        nonlocal calls
        calls += 1
        if calls == 3:  # the reader waited three slices: now "Streamlit" reruns
            raise Rerun

    stream = agent.send_message(runtime, demo_agent.url, "Run a slow task", checkpoint=checkpoint)
    received = 0
    with pytest.raises(Rerun):
        for _ in stream:
            received += 1
    assert received >= 1
    assert wait_until(lambda: stream.done, timeout=1.0)
    assert runtime.active_stream is None


def test_a_new_stream_cancels_the_previous_one(runtime, demo_agent):
    first = agent.send_message(runtime, demo_agent.url, "Run a slow task")
    reading = iter(first)  # still being read: only the new stream may cancel it
    next(reading)
    assert not first.done
    second = agent.send_message(runtime, demo_agent.url, "hello")
    assert wait_until(lambda: first.done, timeout=1.0)
    leftover = list(reading)  # what was queued before the cancel, then a clean end
    assert all(e.state != "completed" for e in leftover)
    assert runtime.active_stream in (second, None)
    assert "You said" in "".join(e.text for e in second)


def test_batches_lose_nothing_and_keep_order(runtime, demo_agent):
    stream = agent.send_message(runtime, demo_agent.url, "Explain how A2A streaming works")
    batches = list(stream.batches(interval=0.05))
    flat = [e for batch in batches for e in batch]
    assert len(batches) < len(flat)  # chunks were coalesced...
    times = [e.received_at for e in flat]
    assert times == sorted(times)  # ...in order...
    assert flat[-1].state == "completed"  # ...to the end


def test_the_process_exits_promptly_with_runtimes_and_the_demo_agent_left_open():
    script = textwrap.dedent(
        """
        from services.client import agent
        from services.demo_agent import ensure_demo_agent
        from services.runtime import SessionRuntime
        url = ensure_demo_agent()
        runtimes = [SessionRuntime(label=str(i)) for i in range(3)]
        for rt in runtimes:
            agent.connect(rt, url)
        stream = agent.send_message(runtimes[0], url, "Run a slow task")
        next(iter(stream))
        print("ready", flush=True)
        # no close(), no stop(): the interpreter must still exit by itself
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ready"
