"""Service-level figures: the app's path (portal, pump, queue) from plain threads.

Nothing here imports Streamlit: a plain thread stands in for the script thread, and it
reads replies exactly as the Chat page does (`agent.send_message(...).batches()`).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from benchmarks.baselines import RawClient, StreamTiming, fetch_card, workaround_message
from benchmarks.stats import alternate, median, os_threads, percentile, rss_kb
from pages.ui.reply import UPDATES_PER_SECOND
from services.client import agent
from services.replies import ReplyEvent
from services.runtime import SessionRuntime

__all__ = [
    "STREAM_TEXT",
    "SHORT_TEXT",
    "Page",
    "Sizes",
    "app_stream",
    "concurrent_figures",
    "first_event_figures",
    "portal_figures",
    "ready_runtime",
    "runtime_figures",
    "short_figures",
    "stream_figures",
]

STREAM_TEXT = "Run a slow task"  # the demo agent's slow task: `slow_chunks` artifact chunks
SHORT_TEXT = "hello"  # the chat scenario: one direct message back
# A short task (it stops in input-required). Its stream ends cleanly, so the connection
# stays pooled; after a direct message the SDK stops reading early and httpx drops the
# connection, which would bill a reconnect to whichever contender did not start warm.
FIRST_TEXT = "Book a trip"


@dataclass(frozen=True)
class Sizes:
    """How much each figure measures; `--quick` shrinks everything but the definitions."""

    stream_rounds: int = 7
    first_event_rounds: int = 101
    short_rounds: int = 5
    short_messages: int = 50
    portal_calls: int = 5000
    runtimes: int = 50
    concurrent_rounds: int = 5
    sessions: int = 20


QUICK = Sizes(
    stream_rounds=1,
    first_event_rounds=3,
    short_rounds=1,
    short_messages=5,
    portal_calls=300,
    runtimes=5,
    concurrent_rounds=1,
    sessions=4,
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
    return StreamTiming(events, first, time.perf_counter() - start)


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
            pairs = alternate(
                sizes.first_event_rounds,
                lambda: app_stream(runtime, url, FIRST_TEXT),
                lambda: raw.stream(FIRST_TEXT),
            )
    finally:
        runtime.close()
    return {
        "first_event_ms_app": median([app.first_event * 1000 for app, _ in pairs]),
        "first_event_ms_raw": median([raw.first_event * 1000 for _, raw in pairs]),
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


def _concurrent_round(runtimes: list[SessionRuntime], url: str) -> float:
    """Every runtime streams the same reply from its own thread at once: events/s overall."""
    barrier = threading.Barrier(len(runtimes) + 1)
    results: list[StreamTiming] = []
    errors: list[BaseException] = []

    def session(runtime: SessionRuntime) -> None:
        barrier.wait()
        try:
            results.append(app_stream(runtime, url, STREAM_TEXT))
        except BaseException as error:  # noqa: BLE001 - reported after the join
            errors.append(error)

    threads = [threading.Thread(target=session, args=(rt,)) for rt in runtimes]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    if errors:
        raise errors[0]
    return sum(r.events for r in results) / seconds


def _sequential_round(runtime: SessionRuntime, url: str, replies: int) -> float:
    """One runtime streams the same reply `replies` times, one after another: events/s."""
    start = time.perf_counter()
    events = sum(app_stream(runtime, url, STREAM_TEXT).events for _ in range(replies))
    return events / (time.perf_counter() - start)


def concurrent_figures(url: str, sizes: Sizes) -> dict[str, float]:
    """`sizes.sessions` runtimes streaming at once, against one runtime alone.

    Both sides do the same work, one reply per session: at once, or one after another
    in a single session. Timing one short reply alone instead would be mostly noise.
    """
    runtimes = [ready_runtime(url, f"bench-c{n}") for n in range(sizes.sessions)]
    try:
        _concurrent_round(runtimes, url)  # warm every runtime's connection
        pairs = alternate(
            sizes.concurrent_rounds,
            lambda: _concurrent_round(runtimes, url),
            lambda: _sequential_round(runtimes[0], url, len(runtimes)),
        )
    finally:
        for runtime in runtimes:
            runtime.close()
    return {"concurrent_eps_ratio": median([many / one for many, one in pairs])}
