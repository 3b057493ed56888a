"""The invocation catalog: a derived SQLite index of the log's filter and sort fields.

The JSON Lines log is the record; the catalog is how a filtered, sorted page of 100 out of 100,000
is found in milliseconds. It knows, for each record, its filter columns and where its line is
(segment, offset, length). It is caught up from the log by whoever reads it: new bytes since the
last synced offset of each segment are parsed and inserted, so a record appended by any process
(or by one killed before it could update the catalog) is listed on the next read. It can always be
deleted and rebuilt from the log; its ``generation`` changes when it is, so anything derived from
its row numbers (the search index) knows to rebuild too.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench.store.invocations import InvocationLog

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS segments (name TEXT PRIMARY KEY, synced INTEGER NOT NULL);
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
    segment TEXT NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS by_org_time ON invocations (org_id, created_at);
CREATE INDEX IF NOT EXISTS by_org_tool_time ON invocations (org_id, tool_id, created_at);
CREATE INDEX IF NOT EXISTS by_org_conversation ON invocations (org_id, conversation_id);
CREATE INDEX IF NOT EXISTS by_org_run ON invocations (org_id, sim_run_id);
"""

COLUMNS = "id, org_id, created_at, tool_id, major, minor, patch, source_type, conversation_id, sim_run_id, succeeded, segment, offset, length"


def row_of(record: dict[str, Any], segment: str, offset: int, length: int) -> tuple[Any, ...]:
    version = record.get("tool_version") or {}
    source = record.get("invocation_source") or {}
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
        1 if (record.get("invocation_status") or {}).get("succeeded") else 0,
        segment,
        offset,
        length,
    )


class InvocationCatalog:
    """Filterable, sortable locations of every invocation record in the log."""

    def __init__(self, path: Path, log: InvocationLog) -> None:
        self.path = path
        self.log = log
        self._local = threading.local()  # one connection per thread: a server answers in many

    @property
    def _conn(self) -> sqlite3.Connection | None:
        return getattr(self._local, "conn", None)

    @_conn.setter
    def _conn(self, conn: sqlite3.Connection | None) -> None:
        self._local.conn = conn

    def connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            try:
                conn.executescript(SCHEMA)
                version = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            except sqlite3.DatabaseError:
                conn.close()
                self._reset()
                return self.connect()
            if version is None:
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?), ('generation', ?)", (str(SCHEMA_VERSION), uuid.uuid4().hex))
            elif int(version[0]) != SCHEMA_VERSION:
                conn.close()
                self._reset()
                return self.connect()
            self._conn = conn
        return self._conn

    def _reset(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    @property
    def generation(self) -> str:
        return self.connect().execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0]

    def sync(self) -> int:
        """Catch up with the log; returns how many records were added."""
        conn = self.connect()
        synced = dict(conn.execute("SELECT name, synced FROM segments").fetchall())
        pending = [(s, synced.get(s.name, 0)) for s in self.log.segments() if s.stat().st_size > synced.get(s.name, 0)]
        if not pending:
            return 0
        added = 0
        conn.execute("BEGIN IMMEDIATE")
        try:
            synced = dict(conn.execute("SELECT name, synced FROM segments").fetchall())  # another process may have synced meanwhile
            for segment, _ in pending:
                start = synced.get(segment.name, 0)
                rows, end = self._read_from(segment, start)
                if rows:
                    before = conn.total_changes
                    conn.executemany(f"INSERT OR IGNORE INTO invocations ({COLUMNS}) VALUES ({','.join('?' * 14)})", rows)
                    added += conn.total_changes - before
                if end > start:
                    conn.execute("INSERT INTO segments VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET synced=excluded.synced", (segment.name, end))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return added

    @staticmethod
    def _read_from(segment: Path, start: int) -> tuple[list[tuple[Any, ...]], int]:
        rows = []
        with segment.open("rb") as handle:
            handle.seek(start)
            data = handle.read()
        offset = start
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break  # torn or still being written: not past it yet
            try:
                record = json.loads(line)
                rows.append(row_of(record, segment.name, offset, len(line)))
            except (ValueError, KeyError, TypeError):
                pass  # a torn fragment closed by a later append: skipped for good
            offset += len(line)
        return rows, offset

    def read(self, locations: list[tuple[str, int, int]]) -> list[dict[str, Any]]:
        """The records at (segment, offset, length), in that order."""
        records = []
        handles: dict[str, int] = {}
        try:
            for segment, offset, length in locations:
                if segment not in handles:
                    handles[segment] = os.open(self.log.directory / segment, os.O_RDONLY)
                records.append(json.loads(os.pread(handles[segment], length, offset)))
        finally:
            for fd in handles.values():
                os.close(fd)
        return records

    def query(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        return self.connect().execute(sql, params).fetchall()

    def rows_after(self, seq: int, limit: int) -> list[tuple[Any, ...]]:
        """(seq, segment, offset, length) of records after ``seq``, in log order (for indexing)."""
        return self.query("SELECT seq, segment, offset, length FROM invocations WHERE seq > ? ORDER BY seq LIMIT ?", [seq, limit])

    def max_seq(self) -> int:
        return self.connect().execute("SELECT COALESCE(MAX(seq), 0) FROM invocations").fetchone()[0]

    def iter_all(self, batch: int = 2000) -> Iterator[list[tuple[Any, ...]]]:
        seq = 0
        while rows := self.rows_after(seq, batch):
            yield rows
            seq = rows[-1][0]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
