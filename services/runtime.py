"""One long-lived event loop per browser session, reached through an anyio portal.

Why: async clients (httpx, database drivers, SDKs) belong to the loop that first used
them, while Streamlit reruns the script on fresh threads. `asyncio.run` per call makes
and closes a loop each time, so a kept client meets "Event loop is closed" on the next
rerun. Here every loop-bound object is a `Resource`: created lazily on the runtime's own
loop thread the first time it is asked for, used there, and closed there (in reverse
order of creation) when the runtime closes. The script thread reaches the loop through
`anyio.from_thread.BlockingPortal`.

This module knows loops, portals, resources and streams, and nothing about A2A: the
A2A layer (`services.a2a_client`) plugs in through `Resource`. A fork for another async
app copies this one file.

Streaming uses one pump task per stream that owns the async iterator and feeds a
thread-safe queue; the script thread reads the queue in short slices (see
`EventStream`). Nothing here imports Streamlit.
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import logging
import queue
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Future
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

__all__ = [
    "EventStream",
    "Resource",
    "all_runtimes",
    "SessionRuntime",
    "live_runtimes",
    "name_native_thread",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

THREAD_PREFIX = "a2a-session"
# How long the script thread waits on the queue before it lets Streamlit check for a
# rerun or Stop (FIELD-NOTES: such a consumer stops 20-25 ms after the request).
WAIT_SLICE = 0.05
CLOSE_TIMEOUT = 3.0
_PR_SET_NAME = 15
PUMP_TASK_NAME = "a2a-stream-pump"

_ids = itertools.count(1)
_registry: weakref.WeakSet[SessionRuntime] = weakref.WeakSet()
_registry_lock = threading.Lock()


def all_runtimes() -> list[SessionRuntime]:
    """Every runtime still referenced in this process, closed or not, oldest first."""
    with _registry_lock:
        runtimes = list(_registry)
    return sorted(runtimes, key=lambda r: r.number)


def live_runtimes() -> list[SessionRuntime]:
    """Every runtime in this process that has not been closed."""
    return [r for r in all_runtimes() if not r.closed]


async def _no_close(value: object) -> None:
    return None


@dataclass(frozen=True, eq=False)
class Resource(Generic[T]):
    """A typed key for a loop-bound object: how to make it, and how to close it.

    `factory(runtime)` runs on the runtime's loop the first time the resource is asked
    for (it may ask the runtime for other resources); `close(value)` runs on the loop
    when the runtime closes. Keys are compared by `name`: `SessionRuntime.register` puts
    another factory behind a name for one runtime (its settings, say).
    """

    name: str
    factory: Callable[[SessionRuntime], Awaitable[T]]
    close: Callable[[T], Awaitable[None]] = _no_close


@dataclass
class _LoopState:
    """What a runtime owns, kept apart from it so the finalizer can close it."""

    stack: ExitStack
    portal: BlockingPortal
    thread: threading.Thread
    # Touched on the loop thread only (the script thread just reads `values`).
    registered: dict[str, Resource[Any]] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    opened: list[tuple[Resource[Any], Any]] = field(default_factory=list)  # creation order
    creating: dict[str, asyncio.Lock] = field(default_factory=dict)
    stream: EventStream[Any] | None = None
    closed: bool = False
    closed_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class SessionRuntime:
    """A browser session's event loop thread, its portal and its loop-bound resources."""

    def __init__(self, *, label: str = "", session_id: str = "", generation: int = 0) -> None:
        self.number = next(_ids)
        self.label = label or f"r{self.number}"
        self.session_id = session_id or self.label
        self.generation = generation
        self.name = f"{THREAD_PREFIX}-{self.label}"
        self.created_at = time.monotonic()
        self.errors: deque[str] = deque(maxlen=20)  # the last errors its streams met
        # pop_all() only once every step worked: a failed start stops the portal again.
        with ExitStack() as stack:
            portal = stack.enter_context(start_blocking_portal(name=self.name))
            thread = portal.call(name_native_thread, self.name)
            self.loop: asyncio.AbstractEventLoop = portal.call(asyncio.get_running_loop)
            self._state = _LoopState(stack=stack.pop_all(), portal=portal, thread=thread)
        # Runs on close(), on garbage collection, and at interpreter exit (atexit),
        # so a forgotten runtime can never keep the process from ending.
        self._finalizer = weakref.finalize(self, _shutdown, self._state)
        with _registry_lock:
            _registry.add(self)

    # --- state -------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._state.closed

    @property
    def closed_at(self) -> float | None:
        """When closing began (time.monotonic()), if it did."""
        return self._state.closed_at

    @property
    def alive(self) -> bool:
        """The loop thread runs and the runtime was not closed."""
        return not self._state.closed and self._state.thread.is_alive()

    @property
    def thread(self) -> threading.Thread:
        return self._state.thread

    @property
    def portal(self) -> BlockingPortal:
        return self._state.portal

    @property
    def active_stream(self) -> EventStream[Any] | None:
        stream = self._state.stream
        return stream if stream is not None and not stream.done else None

    # --- calls -------------------------------------------------------------------

    def call(self, func: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run `func(*args)` on the runtime's loop and wait for its result."""
        return self._state.portal.call(func, *args)

    def stream(
        self,
        source: Callable[[], AsyncIterator[T]],
        *,
        checkpoint: Callable[[], None] | None = None,
    ) -> EventStream[T]:
        """Start pumping `source()` on the loop; at most one stream runs per session."""
        with self._state.lock:
            previous = self._state.stream
            stream = EventStream(self._state.portal, source, checkpoint=checkpoint)
            self._state.stream = stream
        if previous is not None:
            previous.cancel()
        return stream

    # --- resources ---------------------------------------------------------------

    def register(self, resource: Resource[T]) -> None:
        """Make `resource` the one this runtime creates for its name (before first use)."""
        self._state.portal.call(self._aregister, resource)

    async def _aregister(self, resource: Resource[T]) -> None:
        if resource.name in self._state.values:
            raise ValueError(f"resource {resource.name!r} already exists on {self.name}")
        self._state.registered[resource.name] = resource

    def get(self, resource: Resource[T]) -> T:
        """The resource's value, created on the loop if this is the first ask (blocks)."""
        if resource.name in self._state.values:
            return self._state.values[resource.name]
        return self._state.portal.call(self.aget, resource)

    def peek(self, resource: Resource[T]) -> T | None:
        """The resource's value if it was created (and not closed), else None."""
        value: T | None = self._state.values.get(resource.name)
        return value

    @property
    def resources(self) -> tuple[str, ...]:
        """The names of the resources open now, in order of creation."""
        return tuple(r.name for r, _ in list(self._state.opened))

    async def aget(self, resource: Resource[T]) -> T:
        """`get` on the runtime's loop: creates the resource once, here, if needed."""
        state, name = self._state, resource.name
        if name in state.values:
            return state.values[name]
        if threading.current_thread() is not state.thread:
            raise RuntimeError(f"{self.name}: aget() runs on the runtime's loop only")
        # One creation per name, even if two tasks ask at once (a factory may await).
        lock = state.creating.setdefault(name, asyncio.Lock())
        async with lock:
            if name in state.values:
                return state.values[name]
            if state.closed:
                raise RuntimeError(f"{self.name} is closed")
            chosen: Resource[T] = state.registered.get(name, resource)
            value = await chosen.factory(self)  # raises: nothing was kept
            if state.closed:  # closed while the factory ran: nobody will close it later
                await chosen.close(value)
                raise RuntimeError(f"{self.name} is closed")
            state.registered[name] = chosen
            state.opened.append((chosen, value))
            state.values[name] = value
            return value

    # --- ending ------------------------------------------------------------------

    def close(self) -> None:
        """Close resources on their loop, cancel pending tasks, end the thread (blocks)."""
        self._finalizer()

    def close_soon(self) -> None:
        """Close on a helper thread: for callers that must not block (on_release)."""
        if not self._state.closed:
            threading.Thread(
                target=self._finalizer, name=f"{self.name}-closer", daemon=True
            ).start()

    def __repr__(self) -> str:
        status = "alive" if self.alive else "closed"
        return f"<SessionRuntime {self.name} gen={self.generation} {status}>"


def name_native_thread(name: str) -> threading.Thread:
    """Give the calling thread `name` in the OS too, so `ps -T`, `top -H` and /proc show it.

    Python sets native thread names itself only from 3.14; Linux keeps 15 bytes.
    """
    if sys.platform == "linux":
        try:
            ctypes.CDLL(None).prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)
        except (OSError, AttributeError):
            pass  # a libc without prctl: the Python name still works
    return threading.current_thread()


async def _close_resources(state: _LoopState) -> None:
    """Cancel the stream, then close every resource in reverse order of creation."""
    if state.stream is not None:
        state.stream.cancel()
    while state.opened:
        resource, value = state.opened.pop()
        state.values.pop(resource.name, None)
        try:
            await resource.close(value)
        except Exception:  # noqa: BLE001 - closing: log and try the next one
            log.warning("closing resource %r failed", resource.name, exc_info=True)


def _shutdown(state: _LoopState) -> None:
    """Close a runtime's loop-bound objects on their loop, then stop it."""
    with state.lock:
        if state.closed:
            return
        state.closed = True
        state.closed_at = time.monotonic()
    if threading.current_thread() is state.thread:
        log.error("a runtime cannot close itself from its own loop thread")
        return
    portal = state.portal
    try:
        portal.start_task_soon(_close_resources, state).result(timeout=CLOSE_TIMEOUT)
    except Exception:  # noqa: BLE001 - the loop may already be gone
        log.debug("closing resources failed", exc_info=True)
    try:
        # Cancel whatever is still pending instead of waiting for it (FIELD-NOTES).
        portal.call(portal.stop, True)
    except RuntimeError:
        pass  # the portal already stopped
    state.stack.close()  # joins the loop thread


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
        self._future: Future[None] = portal.start_task_soon(self._pump, source, name=PUMP_TASK_NAME)

    async def _pump(self, source: Callable[[], AsyncIterator[T]]) -> None:
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
