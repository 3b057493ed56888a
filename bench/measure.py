"""Timing helpers shared by the benchmark scripts (run from this folder's scripts)."""

from __future__ import annotations

import time
from collections.abc import Callable


def timed(action: Callable[[], object]) -> float:
    """Milliseconds one call of ``action`` took."""
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def timings(action: Callable[[], object], samples: int) -> list[float]:
    return [timed(action) for _ in range(samples)]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]
