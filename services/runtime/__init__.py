"""The generic runtime: one long-lived event loop per browser session, behind a portal.

Why: async clients (httpx, database drivers, SDKs) belong to the loop that first used
them, while Streamlit reruns the script on fresh threads, so `asyncio.run` per call
ends in "Event loop is closed". A `SessionRuntime` keeps one loop on its own thread;
loop-bound objects are `Resource`s created, used and closed on it; `EventStream` hands
what an async iterator yields to the script thread.

This package imports nothing else from `services/` and nothing of Streamlit or A2A: the
A2A layer (`services.client.resources`) plugs in through `Resource`. A fork for another
async app copies this folder and nothing else.
"""

from services.runtime.loop import (
    THREAD_PREFIX,
    Resource,
    SessionRuntime,
    all_runtimes,
    live_runtimes,
    name_native_thread,
)
from services.runtime.stream import PUMP_TASK_NAME, WAIT_SLICE, EventStream

__all__ = [
    "PUMP_TASK_NAME",
    "THREAD_PREFIX",
    "WAIT_SLICE",
    "EventStream",
    "Resource",
    "SessionRuntime",
    "all_runtimes",
    "live_runtimes",
    "name_native_thread",
]
