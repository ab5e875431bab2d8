"""The process's one store, opened on first use by whoever needs it first.

A browser session (through `services.session`) and the push receiver's route (which runs
in the same process, outside any session) both ask `StoreSlot.open` for the store, so the
process has one engine and one writer thread whichever comes first. Neither holds the
settings here: each passes a function that says where the database is, called only when
the store is (re)opened. A store that cannot be opened is tried again after
`RETRY_OPEN` seconds; meanwhile `open` returns None and `error` says why.

No Streamlit here: the route must not import it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services.store.errors import StoreError
from services.store.store import Limits, Store

__all__ = ["RETRY_OPEN", "StoreConfig", "StoreSlot", "process_slot"]

RETRY_OPEN = 30.0  # seconds between attempts to open a database that failed


@dataclass(frozen=True)
class StoreConfig:
    """Where the store is, and what a workspace may keep."""

    url: str = field(repr=False)  # may hold a password
    limits: Limits = field(default_factory=Limits)


@dataclass
class StoreSlot:
    """A store opened once (or why it could not be), shared by every thread."""

    store: Store | None = None
    error: StoreError | None = None
    tried_at: float = -RETRY_OPEN
    lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self, configure: Callable[[], StoreConfig]) -> Store | None:
        """The store, opened now with `configure()` if it is not yet; None while it cannot
        be (then `error` says why). Blocks while it opens: not for an event loop's thread."""
        if self.store is not None:
            return self.store
        with self.lock:
            if self.store is None and time.monotonic() - self.tried_at >= RETRY_OPEN:
                self.tried_at = time.monotonic()
                config = configure()
                try:
                    if config.url.startswith("sqlite:///"):
                        folder = Path(config.url.removeprefix("sqlite:///")).parent
                        folder.mkdir(parents=True, exist_ok=True)
                    self.store, self.error = Store(config.url, limits=config.limits), None
                except StoreError as error:
                    self.error = error
                except OSError as error:
                    self.error = StoreError(
                        f"The data folder for {config.url} cannot be made ({error.strerror}): "
                        "set A2A_DATA_DIR to a writable folder.",
                    )
        return self.store

    def close(self) -> None:
        """Close the store and forget it: the next `open` opens afresh (benchmarks, tests)."""
        with self.lock:
            if self.store is not None:
                self.store.close()
            self.store, self.error, self.tried_at = None, None, -RETRY_OPEN


_PROCESS = StoreSlot()


def process_slot() -> StoreSlot:
    """The process's slot: sessions and routes share it."""
    return _PROCESS
