"""Invocation records in append-only JSON Lines segments, one file per UTC day.

Recording never rewrites history: an append under a lock plus an fsync costs the same with ten
records stored or a million. A process killed mid-append can leave a torn last line; readers skip
any line that does not parse, and the next append starts on a fresh line so the torn fragment
never swallows a good record.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.store.locks import FileLock

SEGMENT_SUFFIX = ".jsonl"


class InvocationLog:
    """The append-only log of invocation records of one data directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock_path = directory / ".append.lock"

    def segment_for(self, created_at: datetime) -> Path:
        return self.directory / f"{created_at.strftime('%Y-%m-%d')}{SEGMENT_SUFFIX}"

    def append(self, record: dict[str, Any], created_at: datetime) -> None:
        """Append one record durably to the segment of its day."""
        self.append_many([(record, created_at)])

    def append_many(self, records: list[tuple[dict[str, Any], datetime]]) -> None:
        """Append records durably under one lock, with one fsync per segment touched."""
        by_segment: dict[Path, list[bytes]] = {}
        for record, created_at in records:
            line = json.dumps(record, separators=(",", ":"), sort_keys=True).encode() + b"\n"
            by_segment.setdefault(self.segment_for(created_at), []).append(line)
        self.directory.mkdir(parents=True, exist_ok=True)
        with FileLock(self._lock_path):
            for segment, lines in by_segment.items():
                fd = os.open(segment, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
                try:
                    size = os.fstat(fd).st_size
                    if size and os.pread(fd, 1, size - 1) != b"\n":
                        lines.insert(0, b"\n")  # close a torn line left by a killed writer
                    view = memoryview(b"".join(lines))
                    while view:
                        view = view[os.write(fd, view):]
                    os.fsync(fd)
                finally:
                    os.close(fd)

    def segments(self) -> list[Path]:
        """Segment files, oldest first."""
        if not self.directory.exists():
            return []
        return sorted(self.directory.glob(f"*{SEGMENT_SUFFIX}"))

    def read_segment(self, segment: Path) -> Iterator[dict[str, Any]]:
        """The records of one segment in append order; torn or damaged lines are skipped."""
        with segment.open("rb") as handle:
            for raw in handle:
                if not raw.endswith(b"\n"):
                    continue  # a torn last line: its writer died before finishing it
                try:
                    yield json.loads(raw)
                except ValueError:
                    continue

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for segment in self.segments():
            yield from self.read_segment(segment)
