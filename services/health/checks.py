"""Loop health: how every session's loop, thread and portal are doing, measured.

`probe` measures one runtime: portal round trip (script thread -> loop -> back) and loop
lag (how long a callback made ready on the loop waits before it runs). Probes of the same
runtime build a sliding window. `report` adds every runtime in the process (its thread,
loop, pending tasks, stream, connection pool) and process totals, and gives a verdict.
A runtime whose session is gone but whose thread still runs is a leak. Nothing here
imports Streamlit: the caller says which sessions are still there.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from services.client import agent, resources
from services.errors import AppError
from services.runtime import PUMP_TASK_NAME, SessionRuntime, all_runtimes

__all__ = [
    "HealthReport",
    "ProcessHealth",
    "Reproduction",
    "RuntimeHealth",
    "Sample",
    "SelfTest",
    "Stats",
    "probe",
    "report",
    "reproduce_classic_error",
    "root_cause_text",
    "self_test",
]

WINDOW = 120  # samples kept per runtime (two minutes at the page's one a second)
LAG_WARN_MS = 20.0
RTT_WARN_MS = 20.0
PROBE_TIMEOUT = 1.0  # a loop that cannot answer in this long is unresponsive
CLOSE_GRACE = 5.0  # seconds a closing runtime's thread may take to end
ROOT = Path(__file__).resolve().parents[2]  # the project: `python -m services...` runs there

Verdict = Literal["healthy", "degraded", "leaking"]


@dataclass(frozen=True)
class Sample:
    at: float  # time.time(), for charts
    lag_ms: float
    rtt_ms: float


@dataclass(frozen=True)
class Stats:
    median: float
    p95: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> Stats | None:
        if not values:
            return None
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return cls(statistics.median(ordered), p95, ordered[-1])


@dataclass(frozen=True)
class RuntimeHealth:
    number: int
    session: str  # the short session id
    current: bool  # this browser session's runtime
    thread_name: str
    thread_alive: bool
    loop_running: bool
    loop_closed: bool
    responsive: bool
    closed: bool
    age_s: float
    generation: int  # times its session's runtime was rebuilt before this one
    tasks: tuple[str, ...]  # pending tasks on its loop (the portal's own excluded)
    stream: str  # the active stream, if any
    connections_open: int
    connections_idle: int
    errors: tuple[str, ...]
    leak: str  # why it counts as a leak, or ""


@dataclass(frozen=True)
class ProcessHealth:
    threads: int
    runtimes: int  # live (not closed)
    leaks: int
    rss_kb: int


@dataclass(frozen=True)
class HealthReport:
    verdict: Verdict
    reason: str
    current: RuntimeHealth | None
    samples: list[Sample]
    lag: Stats | None
    rtt: Stats | None
    runtimes: list[RuntimeHealth]
    process: ProcessHealth


_windows: weakref.WeakKeyDictionary[SessionRuntime, deque[Sample]] = weakref.WeakKeyDictionary()
_windows_lock = threading.Lock()


def _window(runtime: SessionRuntime) -> deque[Sample]:
    with _windows_lock:
        return _windows.setdefault(runtime, deque(maxlen=WINDOW))


async def _noop() -> None:
    return None


async def _lag_ms() -> float:
    # A callback made ready now runs after everything already queued on the loop.
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    start = time.perf_counter()
    loop.call_soon(ready.set_result, None)
    await ready
    return (time.perf_counter() - start) * 1000


def _on_loop(runtime: SessionRuntime, func: Callable[..., Any], *args: Any) -> Any:
    """Run `func` (sync or async) on the runtime's loop; TimeoutError after PROBE_TIMEOUT."""
    future = runtime.portal.start_task_soon(func, *args)
    try:
        return future.result(timeout=PROBE_TIMEOUT)
    finally:
        future.cancel()


def probe(runtime: SessionRuntime) -> Sample | None:
    """Measure round trip and lag once, add it to the runtime's window; None if it can't."""
    if not runtime.alive:
        return None
    try:
        start = time.perf_counter()
        _on_loop(runtime, _noop)
        rtt_ms = (time.perf_counter() - start) * 1000
        lag_ms = float(_on_loop(runtime, _lag_ms))
    except (TimeoutError, RuntimeError):
        return None
    sample = Sample(time.time(), lag_ms, rtt_ms)
    _window(runtime).append(sample)
    return sample


def _loop_facts(runtime: SessionRuntime) -> tuple[tuple[str, ...], int, int]:
    """Pending task names and (open, idle) pool connections, read on the loop itself."""
    me = asyncio.current_task()
    tasks = tuple(
        sorted(
            task.get_name()
            for task in asyncio.all_tasks()
            if task is not me and not task.done() and "run_portal" not in task.get_name()
        )
    )
    open_, idle = resources.pool_counts(runtime)
    return tasks, open_, idle


def _runtime_health(
    runtime: SessionRuntime, *, current: bool, session_active: bool | None
) -> RuntimeHealth:
    tasks: tuple[str, ...] = ()
    open_, idle = 0, 0
    responsive = False
    if runtime.alive:
        try:
            tasks, open_, idle = _on_loop(runtime, _loop_facts, runtime)
            responsive = True
        except (TimeoutError, RuntimeError):
            pass
    stream = runtime.active_stream
    stream_text = ""
    if stream is not None:
        stream_text = f"{stream.items} events in {time.monotonic() - stream.started_at:.1f} s"
    return RuntimeHealth(
        number=runtime.number,
        session=runtime.label,
        current=current,
        thread_name=runtime.thread.name,
        thread_alive=runtime.thread.is_alive(),
        loop_running=runtime.loop.is_running(),
        loop_closed=runtime.loop.is_closed(),
        responsive=responsive,
        closed=runtime.closed,
        age_s=time.monotonic() - runtime.created_at,
        generation=runtime.generation,
        tasks=tuple(t.replace(PUMP_TASK_NAME, "stream pump") for t in tasks),
        stream=stream_text,
        connections_open=open_,
        connections_idle=idle,
        errors=tuple(runtime.errors),
        leak=_leak(runtime, session_active),
    )


def _leak(runtime: SessionRuntime, session_active: bool | None) -> str:
    if not runtime.thread.is_alive():
        return ""
    closed_at = runtime.closed_at
    if closed_at is not None and time.monotonic() - closed_at > CLOSE_GRACE:
        return f"closed {time.monotonic() - closed_at:.0f} s ago, but its loop thread still runs"
    if session_active is False and not runtime.closed:
        return "its session is gone, but its loop thread still runs"
    return ""


def _rss_kb() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource  # not Linux: the peak is the best there is

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def report(
    current: SessionRuntime | None,
    session_active: Callable[[str], bool | None] = lambda _session_id: None,
) -> HealthReport:
    """Probe `current` once more and describe every runtime in the process."""
    if current is not None:
        probe(current)
    runtimes = [
        _runtime_health(r, current=r is current, session_active=session_active(r.session_id))
        for r in all_runtimes()
        if r.thread.is_alive() or r is current
    ]
    samples = list(_window(current)) if current is not None else []
    lag = Stats.of([s.lag_ms for s in samples])
    rtt = Stats.of([s.rtt_ms for s in samples])
    leaks = [r for r in runtimes if r.leak]
    process = ProcessHealth(
        threads=threading.active_count(),
        runtimes=sum(1 for r in runtimes if not r.closed),
        leaks=len(leaks),
        rss_kb=_rss_kb(),
    )
    this = next((r for r in runtimes if r.current), None)
    verdict, reason = _verdict(this, lag, rtt, runtimes, leaks)
    return HealthReport(verdict, reason, this, samples, lag, rtt, runtimes, process)


def _verdict(
    this: RuntimeHealth | None,
    lag: Stats | None,
    rtt: Stats | None,
    runtimes: list[RuntimeHealth],
    leaks: list[RuntimeHealth],
) -> tuple[Verdict, str]:
    if leaks:
        sessions = ", ".join(r.session for r in leaks)
        return "leaking", f"{len(leaks)} loop thread(s) outlived their session ({sessions})."
    stuck = [r.session for r in runtimes if r.thread_alive and not r.closed and not r.responsive]
    if stuck:
        names = ", ".join(stuck)
        return "degraded", f"Loop(s) not answering within {PROBE_TIMEOUT:.0f} s: {names}."
    if lag is not None and lag.p95 > LAG_WARN_MS:
        return "degraded", f"This loop is lagging: p95 {lag.p95:.1f} ms (over {LAG_WARN_MS:.0f})."
    if rtt is not None and rtt.p95 > RTT_WARN_MS:
        return "degraded", f"Portal calls are slow: p95 {rtt.p95:.1f} ms (over {RTT_WARN_MS:.0f})."
    live = sum(1 for r in runtimes if not r.closed)
    if this is None or lag is None or rtt is None:
        return "healthy", f"{live} session loop(s) running; none leaked."
    return "healthy", (
        f"All {live} session loop(s) answer; this one: lag p95 {lag.p95:.2f} ms, "
        f"round trip p95 {rtt.p95:.2f} ms."
    )


# --- actions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SelfTest:
    calls: int
    call_us: Stats | None
    events: int = 0
    first_event_ms: float | None = None
    stream_ms: float | None = None
    error: str = ""


def self_test(runtime: SessionRuntime, agent_url: str, calls: int = 500) -> SelfTest:
    """A burst of no-op portal calls, then one short streamed reply from `agent_url`."""
    timings = []
    for _ in range(calls):
        start = time.perf_counter()
        runtime.call(_noop)
        timings.append((time.perf_counter() - start) * 1e6)
    start = time.monotonic()
    first: float | None = None
    events = 0
    try:
        for _event in agent.send_message(runtime, agent_url, "Search for the loop self-test"):
            events += 1
            if first is None:
                first = (time.monotonic() - start) * 1000
    except AppError as error:
        return SelfTest(calls, Stats.of(timings), events, first, None, str(error))
    return SelfTest(calls, Stats.of(timings), events, first, (time.monotonic() - start) * 1000)


@dataclass(frozen=True)
class Reproduction:
    naive: list[dict[str, Any]] = field(default_factory=list)
    portal: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""

    @property
    def shows_the_bug(self) -> bool:
        """The naive pattern failed with the classic error and the portal one did not."""
        return any("Event loop is closed" in r.get("error", "") for r in self.naive) and all(
            r.get("ok") for r in self.portal
        )


def reproduce_classic_error(agent_url: str, timeout: float = 60.0) -> Reproduction:
    """Run `services/health/classic_error.py` in a subprocess against `agent_url`."""
    start = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "services.health.classic_error", "--agent", agent_url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, ValueError, IndexError) as error:
        seconds = time.monotonic() - start
        return Reproduction(seconds=seconds, error=f"The demonstration did not finish: {error}")
    return Reproduction(result["naive"], result["portal"], time.monotonic() - start)


def root_cause_text() -> str:
    """The README's section on the root cause, for the page to show."""
    try:
        text = (ROOT / "README.md").read_text()
    except OSError:
        return ""
    start = text.find("## Why")
    end = text.find("\n## ", start + 1)
    return text[start:end].strip() if start >= 0 else ""
