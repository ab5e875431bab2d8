"""`SessionRuntime`: one long-lived event loop per browser session, behind an anyio portal.

Why: async clients (httpx, database drivers, SDKs) belong to the loop that first used
them, while Streamlit reruns the script on fresh threads. `asyncio.run` per call makes
and closes a loop each time, so a kept client meets "Event loop is closed" on the next
rerun. Here every loop-bound object is a `Resource`: created lazily on the runtime's own
loop thread the first time it is asked for, used there, and closed there (in reverse
order of creation) when the runtime closes. The script thread reaches the loop through
`anyio.from_thread.BlockingPortal`.

At most one `EventStream` (see `stream.py`) runs per runtime: a new one cancels the last.
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import logging
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

from services.runtime.stream import EventStream

__all__ = [
    "THREAD_PREFIX",
    "Resource",
    "all_runtimes",
    "SessionRuntime",
    "live_runtimes",
    "name_native_thread",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

THREAD_PREFIX = "a2a-session"
CLOSE_TIMEOUT = 3.0
_PR_SET_NAME = 15

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
