"""`EventStream`: a sync iterator over an async iterator that runs on a runtime's loop.

One pump task owns the async iterator and feeds a thread-safe queue; the script thread
reads the queue in short slices (FIELD-NOTES: one `portal.call` per item costs about
200 us, the queue about 5 us), calling a checkpoint between slices so a Streamlit rerun
or Stop can end the reader.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future
from typing import Generic, TypeVar

from anyio.from_thread import BlockingPortal

__all__ = ["PUMP_TASK_NAME", "WAIT_SLICE", "EventStream"]

T = TypeVar("T")

# How long the script thread waits on the queue before it lets Streamlit check for a
# rerun or Stop (FIELD-NOTES: such a consumer stops 20-25 ms after the request).
WAIT_SLICE = 0.05
PUMP_TASK_NAME = "a2a-stream-pump"

_loops: weakref.WeakKeyDictionary[BlockingPortal, asyncio.AbstractEventLoop] = (
    weakref.WeakKeyDictionary()
)


def _loop_of(portal: BlockingPortal) -> asyncio.AbstractEventLoop:
    """The portal's event loop: one round trip the first time, then remembered."""
    loop = _loops.get(portal)
    if loop is None:
        loop = _loops[portal] = portal.call(asyncio.get_running_loop)
    return loop


class _End:
    """Queue marker: the source ended, with `error` if it failed."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class EventStream(Generic[T]):
    """A sync iterator over what an async iterator yields on the runtime's loop.

    One pump task owns the async iterator (so generators that hold cancel scopes keep
    them in one task) and puts each item on a `queue.SimpleQueue`. The reader waits in
    `WAIT_SLICE` slices and calls `checkpoint` between them: with Streamlit's bridge
    that touches session state, which is where a rerun or Stop raises, so the reader
    ends within about 50 ms and its `finally` cancels the pump.
    """

    def __init__(
        self,
        portal: BlockingPortal,
        source: Callable[[], AsyncIterator[T]],
        *,
        checkpoint: Callable[[], None] | None = None,
    ) -> None:
        self._queue: queue.SimpleQueue[T | _End] = queue.SimpleQueue()
        self._checkpoint = checkpoint
        self._ended = False
        self._finished = threading.Event()  # set with the end marker: wakes a sleeping reader
        self._reader_waiting = False  # the reader is blocked on an empty queue
        self.started_at = time.monotonic()
        self.items = 0
        # Started without waiting: `portal.start_task_soon` blocks until the loop has
        # spawned the task, so the caller woke just as the pump built and sent the
        # request, and took the GIL from it (0.1-0.2 ms more to a first event, see
        # benchmarks' first_event_overhead_ms). The pump is a plain task on the portal's
        # loop: the runtime cancels it on close, and the loop's runner would at its end.
        pump = self._pump(source)
        try:
            self._future: Future[None] = asyncio.run_coroutine_threadsafe(pump, _loop_of(portal))
        except RuntimeError:  # the portal or its loop is closed (so is the runtime)
            pump.close()
            raise
        # Cancelled before its first step, a pump never runs its `finally`: end the
        # reader from here too (after what was queued; a second end marker is never read).
        self._future.add_done_callback(self._on_done)

    def _on_done(self, future: Future[None]) -> None:
        if future.cancelled():
            self._queue.put(_End())
            self._finished.set()

    async def _pump(self, source: Callable[[], AsyncIterator[T]]) -> None:
        task = asyncio.current_task()
        if task is not None:
            task.set_name(PUMP_TASK_NAME)  # the Loop health page lists tasks by name
        try:
            async for item in source():
                self._queue.put(item)
                if self._reader_waiting:
                    # Hand the GIL to the blocked reader now, or it waits until this loop
                    # has parsed the rest of a burst (0.1-0.4 ms on a first event). Once a
                    # batch, not per event; a zero sleep blocks nothing.
                    time.sleep(0)  # noqa: ASYNC251
        except Exception as error:  # noqa: BLE001 - handed to the reader
            self._queue.put(_End(error))
        except BaseException:
            self._queue.put(_End())  # cancelled: the reader is gone or leaving
            raise
        else:
            self._queue.put(_End())
        finally:
            self._finished.set()

    @property
    def done(self) -> bool:
        """The pump finished (ended, failed or was cancelled)."""
        return self._future.done()

    def cancel(self) -> None:
        """Cancel the pump task on the loop (thread-safe, idempotent)."""
        self._future.cancel()

    def _next(self, timeout: float | None) -> T | _End:
        """The next item; waits up to `timeout` (forever if None, not at all if <= 0)."""
        if timeout is not None and timeout <= 0:
            return self._queue.get_nowait()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = WAIT_SLICE
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    raise queue.Empty
            self._reader_waiting = True
            try:
                return self._queue.get(timeout=wait)
            except queue.Empty:
                pass
            finally:
                self._reader_waiting = False
            if self._checkpoint is not None:
                self._checkpoint()

    def _take(self, item: T | _End) -> T:
        if isinstance(item, _End):
            self._ended = True
            if item.error is not None:
                raise item.error
            raise StopIteration
        self.items += 1
        return item

    def __iter__(self) -> Iterator[T]:
        try:
            while not self._ended:
                try:
                    yield self._take(self._next(None))
                except StopIteration:
                    return
        finally:
            self.cancel()

    def batches(self, interval: float = 1 / 30) -> Iterator[list[T]]:
        """Yield what arrived, at most once per `interval` seconds (nothing lost).

        Rendering once per batch instead of once per event bounds the UI's updates
        however fast the agent streams; the first item is never held back.
        """
        next_flush = 0.0
        try:
            while not self._ended:
                batch: list[T] = []
                error: Exception | None = None
                try:
                    batch.append(self._take(self._next(None)))
                    self._sleep_until(next_flush)
                    while True:  # take what arrived meanwhile
                        batch.append(self._take(self._queue.get_nowait()))
                except (StopIteration, queue.Empty):
                    pass
                except Exception as exc:  # noqa: BLE001 - raised after the batch
                    error = exc
                if batch:
                    next_flush = time.monotonic() + interval
                    yield batch
                if error is not None:
                    raise error
        finally:
            self.cancel()

    def _sleep_until(self, deadline: float) -> None:
        """Wait for `deadline` without waking per item (one wake-up per batch, not per
        event); the end of the stream still wakes it at once, and the checkpoint runs
        every WAIT_SLICE."""
        while (left := deadline - time.monotonic()) > 0:
            if self._finished.wait(min(left, WAIT_SLICE)):
                return
            if self._checkpoint is not None:
                self._checkpoint()

    def __enter__(self) -> EventStream[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()
