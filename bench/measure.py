"""Timing helpers shared by the benchmark scripts (run from this folder's scripts)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path


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


def extract_revision(root: Path, revision: str, target: Path, *paths: str) -> Path:
    """Write the files of ``revision`` of the checkout at ``root`` (only ``paths``, if given) into
    ``target``, made if missing: another state of the code to measure beside this one."""
    target.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(root), "archive", revision, *paths], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target
