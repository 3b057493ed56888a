"""Invocation records in append-only JSON Lines segments, one file per UTC day.

Recording never rewrites history: an append under a lock plus an fsync costs the same with ten
records stored or a million. A process killed mid-append can leave a torn last line; readers stop
before a line without its newline, and the next append starts on a fresh line so the torn
fragment never swallows a good record. A complete line that is not a record (garbage, a fragment
closed by a later append, a JSON value of the wrong shape) is skipped by every reader and kept
aside in the quarantine, never dropped silently. Strings are read back with lone surrogates
replaced (see :mod:`workbench.store.documents`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.store import documents
from workbench.store.atomic import append_lines
from workbench.store.locks import FileLock
from workbench.store.quarantine import Quarantine

SEGMENT_SUFFIX = ".jsonl"


@dataclass(frozen=True)
class LogLine:
    """One complete line of a segment: the record it holds, or what is wrong with it."""

    offset: int
    raw: bytes
    record: dict[str, Any] | None
    problem: str | None

    @property
    def end(self) -> int:
        return self.offset + len(self.raw)


RecordCheck = Callable[[dict[str, Any]], "str | None"]  # a record -> what is wrong with it, or None
RecordShown = Callable[[dict[str, Any]], bool]  # a valid record -> whether readers show it exactly as stored


def record_problem(record: dict[str, Any]) -> str | None:
    """What keeps a JSON object from being an invocation record the catalog can place, or None."""
    for key in ("id", "org_id", "created_at", "tool_id"):
        if not isinstance(record.get(key), str):
            return f"its {key} is missing or not a string"
    for key in ("tool_version", "invocation_source", "invocation_status"):
        if record.get(key) is not None and not isinstance(record[key], dict):
            return f"its {key} is not an object"
    return None


def parse_line(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """(record, None) for a line holding a JSON object, else (None, what is wrong)."""
    try:
        value = documents.parse(raw)
    except ValueError as error:
        return None, str(error)
    if not isinstance(value, dict):
        return None, f"it holds a JSON {type(value).__name__}, not a record"
    return value, None


class InvocationLog:
    """The append-only log of invocation records of one data directory."""

    def __init__(
        self, directory: Path, quarantine: Quarantine | None = None, record_check: RecordCheck | None = None, record_shown: RecordShown | None = None
    ) -> None:
        """``record_check`` adds to :func:`record_problem` what the caller requires of a record
        (the service: that it validates as its model); a line failing it is treated as damaged
        by the catalog, its readers and the health check alike. ``record_shown`` says of a
        record that passes it whether the caller shows it exactly as stored (the service: its
        model's JSON is the record), so its line can be sent as it is (see :meth:`verbatim`)."""
        self.directory = directory
        self.quarantine = quarantine or Quarantine(directory.parent / "quarantine")
        self.record_check = record_check
        self.record_shown = record_shown
        self._lock_path = directory / ".append.lock"

    def problem(self, record: dict[str, Any] | None) -> str | None:
        """What keeps a parsed line from being listed as an invocation, or None."""
        if record is None:
            return "it is not a record"
        problem = record_problem(record)
        if problem is None and self.record_check is not None:
            try:
                problem = self.record_check(record)
            except Exception as error:  # a check that fails is a problem it found, said plainly
                problem = f"{type(error).__name__}: {error}"
        return problem

    def examine(self, line: LogLine) -> tuple[str | None, bool]:
        """What keeps a line from being listed (or None), and whether its bytes are the record
        exactly as readers show it: not one they convert (``record_shown`` says no: an older
        workbench's source, a field it lacks), nor one whose text holds a lone surrogate (read
        back replaced). Only a log that checks its records can say a line is shown as stored; such
        a line passes the check by construction, so the common case validates once."""
        if line.problem is not None or line.record is None:
            return line.problem or "it is not a record", False
        shown = (
            self.record_check is not None
            and self.record_shown is not None
            and record_problem(line.record) is None
            and not documents.holds_lone_surrogate(line.raw)
            and self.record_shown(line.record)
        )
        return (None, True) if shown else (self.problem(line.record), False)

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
        with self.append_lock():
            for segment, lines in by_segment.items():
                append_lines(segment, b"".join(lines))

    def append_lock(self, blocking: bool = True) -> FileLock:
        """The lock every appender holds (repair holds it to end a torn segment safely)."""
        return FileLock(self._lock_path, blocking=blocking)

    def segments(self) -> list[Path]:
        """Segment files, oldest first."""
        if not self.directory.exists():
            return []
        return sorted(self.directory.glob(f"*{SEGMENT_SUFFIX}"))

    @staticmethod
    def scan(segment: Path, start: int = 0) -> Iterator[LogLine]:
        """The complete lines of a segment from byte ``start``, parsed. A last line without its
        newline is not yielded: its writer may still be writing it, or was killed."""
        with segment.open("rb") as handle:
            handle.seek(start)
            offset = start
            for raw in handle:
                if not raw.endswith(b"\n"):
                    return
                if raw.strip():  # a blank line holds nothing to keep or report
                    record, problem = parse_line(raw)
                    yield LogLine(offset, raw, record, problem)
                offset += len(raw)

    def read_segment(self, segment: Path) -> Iterator[dict[str, Any]]:
        """The records of one segment in append order; damaged lines are skipped and kept aside."""
        damaged: list[tuple[int, bytes, str]] = []
        try:
            for line in self.scan(segment):
                if line.problem is not None:
                    damaged.append((line.offset, line.raw, line.problem))
                    continue
                yield line.record  # type: ignore[misc]
        finally:
            self.quarantine.keep_lines(segment.name, damaged)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for segment in self.segments():
            yield from self.read_segment(segment)
