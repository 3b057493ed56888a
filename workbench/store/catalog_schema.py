"""What the invocation catalog holds: its tables and indexes, the row made from each record, and
the hourly roll-up the statistics read.

Each row carries the record's filter and sort columns, where its line is (with the line's checksum,
and whether its bytes are the record exactly as the API shows it, so a page can send it as it is),
and the facts that
statistics are made of: when (milliseconds since the epoch, whatever the record's time zone),
how long, how large the output, which exception, which mode. ``stats_hours`` adds them up per
tool, version, hour, source type and mode as rows arrive (:data:`ROLL_UP`, in the same
transaction), so counts and series over 100,000 invocations read a few thousand roll-up rows;
percentiles and histograms walk the covering ``stats_*`` indexes, failures a partial index.

A page of the newest (the default order) is read from ``by_org_newest`` alone: it holds what a
page needs of each row (where its line is), so neither the rows it skips nor the 100 it lists are
looked up in the table (about 60 us for the first page of 100,000 against 135 us with an index on
the time alone). A catalog made with that older index (``by_org_time``) gets this one in its place
when it is opened: built from the table in a moment, nothing rebuilt from the log.
"""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime
from typing import Any

from workbench.store.invocations import LogLine

SCHEMA_VERSION = 3
"""2: the statistics columns, their indexes and the hourly roll-up; 3: each line's checksum and
verbatim mark (a branch's schema 2 had those without the statistics: any other version is replaced
and rebuilt from the log when the catalog is opened)."""
REPLACED_INDEXES = ("by_org_time",)
"""Indexes of earlier catalogs that one of :data:`SCHEMA` replaces: dropped where they are found
(only there: a ``DROP INDEX IF EXISTS`` on every open would write to the file each time)."""
HOUR_MS = 3_600_000
THRESHOLD = 5_000  # the persistence threshold (core.persistence) the roll-up counts outputs against
LIMIT = 20_000  # the output limit (core.running)

META_TABLE = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)"
SCHEMA = (
    META_TABLE
    + """;
CREATE TABLE IF NOT EXISTS segments (name TEXT PRIMARY KEY, synced INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS segment_marks (name TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, tail BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS invocations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    org_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    tool_id TEXT NOT NULL,
    major INTEGER, minor INTEGER, patch INTEGER,
    source_type TEXT,
    conversation_id TEXT,
    sim_run_id TEXT,
    succeeded INTEGER,
    segment TEXT NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL,
    crc INTEGER NOT NULL, verbatim INTEGER NOT NULL,
    created_ms INTEGER,
    duration_ms INTEGER,
    output_chars INTEGER,
    exception_type TEXT,
    mode TEXT
);
CREATE INDEX IF NOT EXISTS by_org_newest ON invocations (org_id, created_at, seq, segment, offset, length, crc, verbatim);
CREATE INDEX IF NOT EXISTS by_org_tool_time ON invocations (org_id, tool_id, created_at);
CREATE INDEX IF NOT EXISTS by_org_conversation ON invocations (org_id, conversation_id);
CREATE INDEX IF NOT EXISTS by_org_run ON invocations (org_id, sim_run_id);
CREATE INDEX IF NOT EXISTS stats_latency ON invocations (org_id, tool_id, major, minor, patch, duration_ms, created_ms, source_type, mode);
CREATE INDEX IF NOT EXISTS stats_size ON invocations (org_id, tool_id, major, minor, patch, output_chars, created_ms, source_type, mode);
CREATE INDEX IF NOT EXISTS stats_failures ON invocations (org_id, tool_id, major, minor, patch, exception_type, created_ms, source_type, mode) WHERE succeeded = 0;
CREATE INDEX IF NOT EXISTS stats_time ON invocations (org_id, tool_id, created_ms);
CREATE TABLE IF NOT EXISTS stats_hours (
    org_id TEXT NOT NULL, tool_id TEXT NOT NULL, major INTEGER NOT NULL, minor INTEGER NOT NULL, patch INTEGER NOT NULL,
    hour INTEGER NOT NULL, source_type TEXT NOT NULL, mode TEXT NOT NULL,
    count INTEGER NOT NULL, succeeded INTEGER NOT NULL, duration_total INTEGER NOT NULL, duration_max INTEGER,
    measured INTEGER NOT NULL, at_or_over_threshold INTEGER NOT NULL, over_limit INTEGER NOT NULL, output_max INTEGER,
    first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL,
    PRIMARY KEY (org_id, tool_id, major, minor, patch, hour, source_type, mode)
) WITHOUT ROWID;
"""
)

COLUMNS = (
    "id, org_id, created_at, tool_id, major, minor, patch, source_type, conversation_id, sim_run_id, succeeded, segment, offset, length, crc, verbatim, "
    "created_ms, duration_ms, output_chars, exception_type, mode"
)
COLUMN_COUNT = COLUMNS.count(",") + 1


def _larger(column: str) -> str:
    """The larger of the stored and the incoming value, either of which may be NULL."""
    return f"{column} = CASE WHEN {column} IS NULL THEN excluded.{column} WHEN excluded.{column} IS NULL THEN {column} ELSE MAX({column}, excluded.{column}) END"


ROLL_UP = f"""
INSERT INTO stats_hours (org_id, tool_id, major, minor, patch, hour, source_type, mode, count, succeeded, duration_total, duration_max,
                         measured, at_or_over_threshold, over_limit, output_max, first_ms, last_ms)
SELECT org_id, tool_id, major, minor, patch, created_ms / {HOUR_MS}, COALESCE(source_type, ''), COALESCE(mode, ''),
       COUNT(*), SUM(succeeded), TOTAL(duration_ms), MAX(duration_ms), COUNT(output_chars),
       SUM(CASE WHEN output_chars >= {THRESHOLD} THEN 1 ELSE 0 END), SUM(CASE WHEN output_chars > {LIMIT} THEN 1 ELSE 0 END),
       MAX(output_chars), MIN(created_ms), MAX(created_ms)
FROM invocations NOT INDEXED WHERE seq > ? AND major IS NOT NULL AND created_ms IS NOT NULL  -- by seq: only the new rows
GROUP BY org_id, tool_id, major, minor, patch, created_ms / {HOUR_MS}, COALESCE(source_type, ''), COALESCE(mode, '')
ON CONFLICT (org_id, tool_id, major, minor, patch, hour, source_type, mode) DO UPDATE SET
    count = count + excluded.count, succeeded = succeeded + excluded.succeeded, duration_total = duration_total + excluded.duration_total,
    {_larger("duration_max")}, measured = measured + excluded.measured,
    at_or_over_threshold = at_or_over_threshold + excluded.at_or_over_threshold, over_limit = over_limit + excluded.over_limit,
    {_larger("output_max")}, first_ms = MIN(first_ms, excluded.first_ms), last_ms = MAX(last_ms, excluded.last_ms)
"""
"""Adds the rows after a given ``seq`` (those a sync just inserted) to the hourly roll-up."""

OVERSIZED = re.compile(r"^the output is ([\d,]+) characters")
"""How the invoker words an output over the limit (``OutputTooLarge``): the output itself is not
kept, its size is read from the message so size statistics count it."""


def epoch_ms(created_at: Any) -> int | None:
    """Milliseconds since the epoch of an ISO 8601 time (naive means UTC), or None."""
    try:
        moment = datetime.fromisoformat(str(created_at))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def output_chars(status: dict[str, Any]) -> int | None:
    """How many characters the output had: a success's output, or an oversized one's measure."""
    if status.get("succeeded"):
        output = status.get("output")
        return len(output) if isinstance(output, str) else None
    if status.get("exception_type") == "OutputTooLarge":
        found = OVERSIZED.match(str(status.get("exception_message") or ""))
        return int(found.group(1).replace(",", "")) if found else None
    return None


def row_of(record: dict[str, Any], segment: str, line: LogLine, verbatim: bool) -> tuple[Any, ...]:
    """The catalog row of a record read from ``line`` of ``segment``, in :data:`COLUMNS` order;
    ``verbatim``: the line's bytes are the record exactly as the API shows it."""
    version = record.get("tool_version") or {}
    source = record.get("invocation_source") or {}
    status = record.get("invocation_status") or {}
    inputs = record.get("inputs") or {}
    duration = record.get("duration_ms")
    return (
        record["id"],
        record["org_id"],
        record["created_at"],
        record["tool_id"],
        version.get("major"),
        version.get("minor"),
        version.get("patch"),
        source.get("type"),
        source.get("conversation_id"),
        source.get("simulation_unit_test_set_run_id"),
        1 if status.get("succeeded") else 0,
        segment,
        line.offset,
        len(line.raw),
        zlib.crc32(line.raw),
        1 if verbatim else 0,
        epoch_ms(record["created_at"]),
        duration if isinstance(duration, int) else None,
        output_chars(status),
        None if status.get("succeeded") else status.get("exception_type"),
        inputs.get("invocation_mode") if isinstance(inputs, dict) else None,
    )
