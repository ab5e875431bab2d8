"""Small helpers for noisy machines: alternate contenders, keep medians and ratios."""

from __future__ import annotations

import gc
import os
import statistics
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["alternate", "median", "os_threads", "percentile", "rotate", "rss_kb"]

A = TypeVar("A")
B = TypeVar("B")


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank `q` percentile (0-100)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return float(ordered[rank])


def alternate(rounds: int, first: Callable[[], A], second: Callable[[], B]) -> list[tuple[A, B]]:
    """Run both contenders `rounds` times, swapping which goes first every round.

    Each pair ran back to back under the same machine load, so a ratio taken per pair
    cancels most of the noise; the order swap cancels warm-up and cache effects.
    """
    pairs: list[tuple[A, B]] = []
    for number in range(rounds):
        gc.collect()  # a collection inside one contender's timing would bill it alone
        if number % 2 == 0:
            a = first()
            b = second()
        else:
            b = second()
            a = first()
        pairs.append((a, b))
    return pairs


def rotate(rounds: int, contenders: Sequence[Callable[[], A]]) -> list[list[A]]:
    """`alternate` for any number of contenders: each round runs them all, starting one
    further along each time; results come back in the contenders' order."""
    results: list[list[A]] = []
    count = len(contenders)
    for number in range(rounds):
        row: dict[int, A] = {}
        for step in range(count):
            which = (number + step) % count
            gc.collect()  # a collection inside one contender's timing would bill it alone
            row[which] = contenders[which]()
        results.append([row[which] for which in range(count)])
    return results


def os_threads() -> int:
    """Threads of this process as the OS sees them (includes threads Python did not name)."""
    if sys.platform == "linux":
        return len(os.listdir("/proc/self/task"))
    return threading.active_count()


def rss_kb() -> int:
    """Resident memory of this process now (not the peak), in KiB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource  # not Linux: the peak is the best there is

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
