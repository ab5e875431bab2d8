"""Service-level figures: the app's path (portal, pump, queue) from plain threads.

Nothing here imports Streamlit: a plain thread stands in for the script thread, and it
reads replies exactly as the Chat page does (`agent.send_message(...).batches()`).
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from app_pages.ui.reply import UPDATES_PER_SECOND
from benchmarks.baselines import (
    RawClient,
    RawLoops,
    RawSessions,
    SessionsTiming,
    StreamTiming,
    at_once,
    fetch_card,
    workaround_message,
)
from benchmarks.stats import alternate, median, os_threads, percentile, rotate, rss_kb
from services.client import agent
from services.replies import ReplyEvent
from services.runtime import SessionRuntime

__all__ = [
    "SESSIONS",
    "STREAM_TEXT",
    "SHORT_TEXT",
    "Page",
    "Sizes",
    "app_stream",
    "binding_figures",
    "first_event_figures",
    "portal_figures",
    "ready_runtime",
    "runtime_figures",
    "sessions_figures",
    "short_figures",
    "stream_figures",
]

STREAM_TEXT = "Run a slow task"  # the demo agent's slow task: `slow_chunks` artifact chunks
SHORT_TEXT = "hello"  # the chat scenario: one direct message back
# A short task (it stops in input-required). Its stream ends cleanly, so the connection
# stays pooled; after a direct message the SDK stops reading early and httpx drops the
# connection, which would bill a reconnect to whichever contender did not start warm.
FIRST_TEXT = "Book a trip"
SESSIONS = 50  # sessions streaming at once in `sessions50_*` (the names carry the number)


@dataclass(frozen=True)
class Sizes:
    """How much each figure measures; `--quick` shrinks everything but the definitions."""

    stream_rounds: int = 7
    first_event_rounds: int = 101
    short_rounds: int = 5
    short_messages: int = 50
    portal_calls: int = 5000
    runtimes: int = 50
    sessions_rounds: int = 5
    binding_rounds: int = 3


QUICK = Sizes(
    stream_rounds=1,
    first_event_rounds=3,
    short_rounds=1,
    short_messages=5,
    portal_calls=300,
    runtimes=5,
    sessions_rounds=1,
    binding_rounds=1,
)


class Page(Protocol):
    """What a page does around a reply, timed with it (benchmarks/store.py has one)."""

    def sent(self) -> None: ...  # before the message leaves
    def read(self, batch: list[ReplyEvent]) -> None: ...  # each batch, as it comes
    def ended(self) -> None: ...  # after the last batch


def app_stream(
    runtime: SessionRuntime, url: str, text: str, page: Page | None = None
) -> StreamTiming:
    """Send `text` through the service layer and read the reply as the Chat page does
    (with `page`, doing the page's work too: applying events, saving the reply)."""
    events, first = 0, 0.0
    start = time.perf_counter()
    if page is not None:
        page.sent()
    stream = agent.send_message(runtime, url, text)
    for batch in stream.batches(interval=1 / UPDATES_PER_SECOND):
        if not events:
            first = time.perf_counter() - start
        events += len(batch)
        if page is not None:
            page.read(batch)
    if page is not None:
        page.ended()
    return StreamTiming(events, first, time.perf_counter() - start, start)


def ready_runtime(url: str, label: str) -> SessionRuntime:
    runtime = SessionRuntime(label=label)
    agent.connect(runtime, url)  # the card and the SDK client, once, as a session does
    return runtime


def stream_figures(url: str, sizes: Sizes) -> dict[str, float]:
    """A long reply at full speed: the app's events per second over the raw SDK's."""
    runtime = ready_runtime(url, "bench-stream")
    try:
        with RawClient(url) as raw:
            app_stream(runtime, url, STREAM_TEXT)  # warm both paths before timing
            raw.stream(STREAM_TEXT)
            pairs = alternate(
                sizes.stream_rounds,
                lambda: app_stream(runtime, url, STREAM_TEXT),
                lambda: raw.stream(STREAM_TEXT),
            )
    finally:
        runtime.close()
    return {
        "stream_ratio": median([app.eps / raw.eps for app, raw in pairs]),
        "stream_eps_app": median([app.eps for app, _ in pairs]),
        "stream_eps_raw": median([raw.eps for _, raw in pairs]),
    }


def first_event_figures(url: str, sizes: Sizes) -> dict[str, float]:
    """Time from the send to the first event of a short reply, both ways."""
    runtime = ready_runtime(url, "bench-first")
    try:
        with RawClient(url) as raw:
            app_stream(runtime, url, FIRST_TEXT)
            raw.stream(FIRST_TEXT)
            # A collection before each contender, not each pair: both start idle and
            # cold, as a person's message does (after one collection per pair, whichever
            # went second ran warm, and the order swap left a spread of 0.3-1.1 ms).
            rounds = rotate(
                sizes.first_event_rounds,
                [lambda: app_stream(runtime, url, FIRST_TEXT), lambda: raw.stream(FIRST_TEXT)],
            )
    finally:
        runtime.close()
    app_ms = median([app.first_event * 1000 for app, _ in rounds])
    raw_ms = median([raw.first_event * 1000 for _, raw in rounds])
    return {
        "first_event_ms_app": app_ms,
        "first_event_ms_raw": raw_ms,
        "first_event_overhead_ms": app_ms - raw_ms,  # the app's extra time, as shown above it
    }


def _per_message_ms(count: int, send: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(count):
        send()
    return (time.perf_counter() - start) / count * 1000


def short_figures(url: str, sizes: Sizes) -> dict[str, float]:
    """Short sequential messages: the session runtime against a new loop per message."""
    card = fetch_card(url)
    runtime = ready_runtime(url, "bench-short")

    def app_message() -> None:
        app_stream(runtime, url, SHORT_TEXT)

    def workaround() -> None:
        workaround_message(card, SHORT_TEXT)

    try:
        app_message()  # warm both
        workaround()
        pairs = alternate(
            sizes.short_rounds,
            lambda: _per_message_ms(sizes.short_messages, app_message),
            lambda: _per_message_ms(sizes.short_messages, workaround),
        )
    finally:
        runtime.close()
    return {
        "short_ratio": median([app / slow for app, slow in pairs]),
        "short_ms_app": median([app for app, _ in pairs]),
        "short_ms_workaround": median([slow for _, slow in pairs]),
    }


async def _noop() -> None:
    return None


def portal_figures(sizes: Sizes) -> dict[str, float]:
    """Round trip of a no-op call from this thread to the runtime's loop and back."""
    runtime = SessionRuntime(label="bench-portal")
    try:
        for _ in range(200):  # warm up
            runtime.call(_noop)
        samples = []
        for _ in range(sizes.portal_calls):
            start = time.perf_counter()
            runtime.call(_noop)
            samples.append((time.perf_counter() - start) * 1e6)
    finally:
        runtime.close()
    return {
        "portal_call_us_p50": percentile(samples, 50),
        "portal_call_us_p99": percentile(samples, 99),
    }


def runtime_figures(sizes: Sizes) -> dict[str, float]:
    """Start `sizes.runtimes` runtimes, count what each costs, then release them all."""
    SessionRuntime(label="bench-warm").close()  # imports and first-use costs, once
    gc.collect()
    threads_before, rss_before = os_threads(), rss_kb()
    runtimes, starts = [], []
    for number in range(sizes.runtimes):
        start = time.perf_counter()
        runtimes.append(SessionRuntime(label=f"bench{number}"))
        starts.append((time.perf_counter() - start) * 1000)
    gc.collect()
    threads_during, rss_during = os_threads(), rss_kb()
    for runtime in runtimes:
        runtime.close()
    del runtimes
    gc.collect()
    threads_after = os_threads()
    return {
        "runtime_start_ms": median(starts),
        "threads_per_session": (threads_during - threads_before) / sizes.runtimes,
        "rss_kb_per_session": (rss_during - rss_before) / sizes.runtimes,
        "threads_after_release": float(threads_after),
        "threads_at_start": float(threads_before),  # shown beside it, not a figure
    }


def _sessions_round(runtimes: list[SessionRuntime], urls: list[str]) -> SessionsTiming:
    """Every runtime streams one reply, read on its own thread as each session's script
    thread reads it, all sent at once."""
    return at_once(
        [
            partial(app_stream, runtime, url, STREAM_TEXT)
            for runtime, url in zip(runtimes, urls, strict=True)
        ]
    )


def _measured(run: Callable[[], SessionsTiming]) -> Callable[[], tuple[SessionsTiming, float]]:
    """`run` timed with the CPU seconds this process spent meanwhile (every thread's),
    tried once more if it fails: a round can take longer than the agent's 5 s keep-alive,
    and a connection it closes just as the next round reuses it fails that request."""

    def measured() -> tuple[SessionsTiming, float]:
        for attempt in (1, 2):
            cpu = time.process_time()
            try:
                timing = run()
            except Exception as error:  # noqa: BLE001 - once; the second failure is raised
                if attempt == 2:
                    raise
                print(f"  a round failed ({error!r}), running it again", file=sys.stderr)  # noqa: T201
                continue
            return timing, time.process_time() - cpu
        raise AssertionError("unreachable")

    return measured


def sessions_figures(agents: list[str], sizes: Sizes) -> dict[str, float]:
    """`SESSIONS` sessions streaming one reply each at once, spread round-robin over
    `agents`, three ways: through the app (a runtime and a reading thread per session);
    the raw SDK with every session's stream a task on one loop; and the raw SDK laid out
    as the app's sessions are (a loop thread and a calling thread per session).

    Figures: events per second and their ratios; each side's p95 time from the common
    send to a session's first event; the CPU this process spent per event (on a small
    machine the agents and the client share the cores, so a client that spends more per
    event leaves the agents less).
    """
    urls = [agents[n % len(agents)] for n in range(SESSIONS)]
    runtimes: list[SessionRuntime] = []
    try:
        runtimes += [ready_runtime(url, f"bench-s{n}") for n, url in enumerate(urls)]
        with RawSessions(urls) as raw, RawLoops(urls) as loops:
            contenders = [
                _measured(lambda: _sessions_round(runtimes, urls)),
                _measured(lambda: raw.stream_all(STREAM_TEXT)),
                _measured(lambda: loops.stream_all(STREAM_TEXT)),
            ]
            for contender in contenders:
                contender()  # warm: every session's connection
            rounds = rotate(sizes.sessions_rounds, contenders)
    finally:
        for runtime in runtimes:
            runtime.close()
    app = [row[0][0] for row in rounds]
    one_loop = [row[1][0] for row in rounds]
    per_loop = [row[2][0] for row in rounds]

    def p95_ms(timing: SessionsTiming) -> float:
        return percentile(timing.first_events, 95) * 1000

    def cpu_us(side: int) -> float:
        return median([row[side][1] / row[side][0].events * 1e6 for row in rounds])

    return {
        "sessions50_eps_ratio": median([a.eps / r.eps for a, r in zip(app, one_loop, strict=True)]),
        "sessions50_eps_app": median([a.eps for a in app]),
        "sessions50_eps_raw": median([r.eps for r in one_loop]),
        "sessions50_eps_raw_loops": median([r.eps for r in per_loop]),
        "sessions50_eps_ratio_loops": median(
            [a.eps / r.eps for a, r in zip(app, per_loop, strict=True)]
        ),
        "sessions50_first_event_p95_ms_app": median([p95_ms(a) for a in app]),
        "sessions50_first_event_p95_ms_raw": median([p95_ms(r) for r in one_loop]),
        "sessions50_cpu_us_per_event_app": cpu_us(0),
        "sessions50_cpu_us_per_event_raw": cpu_us(1),
    }


# The card's bindings, as the figures name them.
BINDING_FIGURES = {"JSONRPC": "jsonrpc", "HTTP+JSON": "http_json", "GRPC": "grpc"}


def binding_figures(url: str, sizes: Sizes) -> dict[str, float]:
    """The long reply through the app over each binding: events per second, first event."""
    figures: dict[str, float] = {}
    for binding, name in BINDING_FIGURES.items():
        runtime = SessionRuntime(label=f"bench-{name}")
        try:
            agent.connect(runtime, url, binding)
            app_stream(runtime, url, STREAM_TEXT)  # warm: the connection, the channel
            runs = [app_stream(runtime, url, STREAM_TEXT) for _ in range(sizes.binding_rounds)]
        finally:
            runtime.close()
        figures[f"binding_eps_{name}"] = median([run.eps for run in runs])
        figures[f"binding_first_event_ms_{name}"] = median([run.first_event * 1000 for run in runs])
    return figures
