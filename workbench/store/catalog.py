"""The invocation catalog: a derived SQLite index of the log's filter and sort fields.

The JSON Lines log is the record; the catalog is how a filtered, sorted page of 100 out of 100,000
is found in milliseconds. It knows, for each record, its filter columns and where its line is
(segment, offset, length). It is caught up from the log by whoever reads it: new bytes since the
last synced offset of each segment are parsed and inserted, so a record appended by any process
(or by one killed before it could update the catalog) is listed on the next read. It can always be
deleted and rebuilt from the log; its ``generation`` changes when it is, so anything derived from
its row numbers (the search index) knows to rebuild too.

It is rebuilt by itself when it no longer matches the log or cannot be read:

* a damaged database file (garbage, cut short): the file is replaced and filled from the log;
* a segment that shrank, vanished, or whose bytes before the synced offset changed (cut, edited
  or replaced in place): each sync compares every segment's size and mtime with what it last
  saw, and where they changed, the last bytes it read, so an append costs one ``pread``;
* a cataloged line that no longer parses when it is read.

A rebuild is one transaction: other readers see the old catalog or the new one. Lines that are
not records are skipped and kept aside in the quarantine. A catalog of an older schema is replaced
and rebuilt from the log when it is opened. What a row holds, and the hourly roll-up statistics
read, are in ``catalog_schema.py``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from workbench.errors import DataDamaged, ServiceUnavailable
from workbench.store.catalog_schema import COLUMN_COUNT, COLUMNS, META_TABLE, ROLL_UP, SCHEMA, SCHEMA_VERSION, row_of
from workbench.store.invocations import InvocationLog, parse_line
from workbench.store.locks import FileLock

TAIL = 32  # bytes before a segment's synced offset that must not change

DAMAGE_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED
T = TypeVar("T")


def is_damage(error: sqlite3.DatabaseError) -> bool:
    """A database that is not one or is corrupt, as opposed to a busy lock or a bad query."""
    code = getattr(error, "sqlite_errorcode", None)
    return type(error) is sqlite3.DatabaseError or (code is not None and code & 0xFF in DAMAGE_CODES)


def is_busy(error: sqlite3.DatabaseError) -> bool:
    """Another connection held the write lock past the timeout."""
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in BUSY_CODES


class _SchemaMismatch(Exception):
    pass


class InvocationCatalog:
    """Filterable, sortable locations of every invocation record in the log."""

    def __init__(self, path: Path, log: InvocationLog) -> None:
        self.path = path
        self.log = log
        self._local = threading.local()  # one connection per thread: a server answers in many

    # -- the connection -----------------------------------------------------------------------

    def connect(self) -> sqlite3.Connection:
        """This thread's connection, reopened if another process replaced the file. The
        connection's file stays open by descriptor too, so its inode number cannot be reused by
        a replacement and a comparison of the two tells them apart."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            try:
                if os.stat(self.path).st_ino == os.fstat(self._local.fd).st_ino:
                    return conn
            except FileNotFoundError:
                pass
            self.close()
        return self._open()

    def _open(self, retry: bool = True) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o600)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":  # switching needs the file to itself
                conn.execute("PRAGMA journal_mode=WAL")  # once: the mode stays with the file
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(META_TABLE)  # the version first: an older schema's tables lack columns the indexes name
            version = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if version is not None and version[0] != str(SCHEMA_VERSION):
                raise _SchemaMismatch(f"it has schema {version[0]}, this workbench uses {SCHEMA_VERSION}")
            conn.executescript(SCHEMA)
            if version is None:
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?), ('generation', ?)", (str(SCHEMA_VERSION), uuid.uuid4().hex))
        except (sqlite3.DatabaseError, _SchemaMismatch) as error:
            conn.close()
            try:
                if isinstance(error, sqlite3.DatabaseError) and not is_damage(error):
                    raise
                if not retry:
                    raise DataDamaged(self.path, f"it cannot be opened or replaced ({error})", self.log.directory.parent) from None
                self._replace(str(error), fd)
            finally:
                os.close(fd)
            return self.connect() if getattr(self._local, "conn", None) else self._open(retry=False)
        self._local.conn, self._local.fd = conn, fd
        return conn

    def _replace(self, reason: str, fd: int) -> None:
        """Start a fresh, empty file in place of the damaged one open at ``fd`` (the next sync
        fills it from the log), unless another process has replaced it already."""
        with self._rebuild_lock():
            try:
                still_damaged = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                still_damaged = False
            if still_damaged:
                self._start_fresh(f"the catalog file could not be read ({reason})")

    def _rebuild_lock(self) -> FileLock:
        return FileLock(self.path.with_name(self.path.name + ".rebuild.lock"))

    def _start_fresh(self, reason: str) -> None:
        self.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self._note_rebuild(self._open(retry=False), reason)

    def replace(self, reason: str) -> int:
        """Throw the file away and build a new one from the log (for a file SQLite calls damaged
        in a way no query has run into yet); returns how many records it holds."""
        with self._rebuild_lock():
            self._start_fresh(reason)
        self.sync()
        return self.count()

    def _guarded(self, work: Callable[[], T]) -> T:
        """Run ``work``; if the database turns out damaged, replace it, catch up and run it again."""
        try:
            return work()
        except sqlite3.DatabaseError as error:
            if is_busy(error):
                raise ServiceUnavailable("the invocation catalog is busy: another process has held it for 30 s; try again") from None
            if not is_damage(error):
                raise
            if getattr(self._local, "conn", None) is None:  # even a fresh file failed to open
                raise DataDamaged(self.path, f"it cannot be opened or replaced ({error})", self.log.directory.parent) from None
            fd = os.dup(self._local.fd)  # keeps the damaged file's inode while it is compared
            try:
                self._replace(str(error), fd)
            finally:
                os.close(fd)
        try:
            self._sync()
            return work()
        except sqlite3.DatabaseError as error:
            raise DataDamaged(self.path, f"it could not be rebuilt from the log ({error})", self.log.directory.parent) from None

    @staticmethod
    def _note_rebuild(conn: sqlite3.Connection, reason: str) -> None:
        note = json.dumps({"at": datetime.now(UTC).isoformat(), "reason": reason})
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('rebuilt', ?)", (note,))

    def last_rebuild(self) -> dict[str, str] | None:
        """When and why the catalog was last rebuilt by itself, if ever."""
        row = self.query("SELECT value FROM meta WHERE key='rebuilt'", [])
        return json.loads(row[0][0]) if row else None

    @property
    def generation(self) -> str:
        return self._guarded(lambda: self.connect().execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])

    # -- catching up with the log -------------------------------------------------------------

    def sync(self) -> int:
        """Catch up with the log (rebuilding first if it no longer matches); returns how many
        records were added."""
        return self._guarded(self._sync)

    def rebuild(self, reason: str) -> int:
        """Empty the catalog and fill it from the log again, in one transaction; returns how
        many records it holds."""
        self._guarded(lambda: self._sync(rebuild=reason))
        return self.count()

    def _sync(self, rebuild: str | None = None) -> int:
        conn = self.connect()
        files = [(segment, segment.stat()) for segment in self.log.segments()]
        marks = {name: (size, mtime) for name, size, mtime in conn.execute("SELECT name, size, mtime_ns FROM segment_marks")}
        if rebuild is None and marks == {segment.name: (st.st_size, st.st_mtime_ns) for segment, st in files}:
            return 0  # nothing appended, cut or changed since the last sync
        conn.execute("BEGIN IMMEDIATE")
        try:
            state = self._state(conn)  # another process may have synced meanwhile
            problem = rebuild or self._mismatch(state, files)
            if problem:
                conn.execute("DELETE FROM invocations")
                conn.execute("DELETE FROM stats_hours")
                conn.execute("DELETE FROM segments")
                conn.execute("DELETE FROM segment_marks")
                conn.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (uuid.uuid4().hex,))
                self._note_rebuild(conn, problem)
                state = {}
            last_seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM invocations").fetchone()[0]
            added = 0
            for segment, st in files:
                synced, size, mtime, tail = state.get(segment.name, (0, None, None, b""))
                if (size, mtime) == (st.st_size, st.st_mtime_ns):
                    continue
                rows, end, tail = self._read_from(segment, synced, tail)
                if rows:
                    before = conn.total_changes
                    conn.executemany(f"INSERT OR IGNORE INTO invocations ({COLUMNS}) VALUES ({','.join('?' * COLUMN_COUNT)})", rows)
                    added += conn.total_changes - before
                conn.execute("INSERT OR REPLACE INTO segments VALUES (?, ?)", (segment.name, end))
                conn.execute("INSERT OR REPLACE INTO segment_marks VALUES (?, ?, ?, ?)", (segment.name, st.st_size, st.st_mtime_ns, tail))
            if added:
                conn.execute(ROLL_UP, (last_seq,))  # seq only grows (AUTOINCREMENT): the rows just added
            conn.execute("COMMIT")
        except BaseException:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # a damaged file can fail the rollback too; _guarded replaces it
            raise
        return added

    @staticmethod
    def _state(conn: sqlite3.Connection) -> dict[str, tuple[int, int | None, int | None, bytes]]:
        rows = conn.execute("SELECT s.name, s.synced, m.size, m.mtime_ns, m.tail FROM segments s LEFT JOIN segment_marks m ON m.name = s.name")
        return {name: (synced, size, mtime, tail or b"") for name, synced, size, mtime, tail in rows}

    @staticmethod
    def _mismatch(state: dict[str, tuple[int, int | None, int | None, bytes]], files: list[tuple[Path, os.stat_result]]) -> str | None:
        """Why the catalog no longer describes the log, or None."""
        on_disk = {segment.name: (segment, st) for segment, st in files}
        for name, (synced, size, mtime, tail) in sorted(state.items()):
            if name not in on_disk:
                return f"segment {name} is gone from the log" if synced else None
            segment, st = on_disk[name]
            if st.st_size < synced:
                return f"segment {name} is {st.st_size:,} bytes, shorter than the {synced:,} already cataloged (cut or replaced)"
            if (size, mtime) != (st.st_size, st.st_mtime_ns) and tail:
                with segment.open("rb") as handle:
                    handle.seek(synced - len(tail))
                    if handle.read(len(tail)) != tail:
                        return f"segment {name} changed before byte {synced:,} (edited or replaced in place)"
        return None

    def _read_from(self, segment: Path, start: int, tail: bytes) -> tuple[list[tuple[Any, ...]], int, bytes]:
        """Rows of the complete lines from ``start``, the offset after the last one, and the
        bytes just before that offset. Lines that are not records are kept aside."""
        rows, damaged = [], []
        end = start
        if start and not tail:  # a catalog made before tails were kept: take them from here on
            with segment.open("rb") as handle:
                handle.seek(max(0, start - TAIL))
                tail = handle.read(start - max(0, start - TAIL))
        for line in self.log.scan(segment, start):
            problem = line.problem or self.log.problem(line.record)
            if problem:
                damaged.append((line.offset, line.raw, problem))
            else:
                rows.append(row_of(line.record, segment.name, line.offset, len(line.raw)))  # type: ignore[arg-type]
            tail = (tail + line.raw)[-TAIL:]
            end = line.end
        self.log.quarantine.keep_lines(segment.name, damaged)
        return rows, end, tail

    # -- reading ------------------------------------------------------------------------------

    def read(self, locations: list[tuple[str, int, int]]) -> list[dict[str, Any]]:
        """The records at (segment, offset, length), in that order.

        If a line there is no longer the record that was cataloged (the log was changed in a way
        the sync could not see), the catalog is rebuilt from the log and this raises
        ``ServiceUnavailable``: asking again gets an answer from the rebuilt catalog.
        """
        records = []
        handles: dict[str, int] = {}
        try:
            for segment, offset, length in locations:
                try:
                    if segment not in handles:
                        handles[segment] = os.open(self.log.directory / segment, os.O_RDONLY)
                    record, problem = parse_line(os.pread(handles[segment], length, offset))
                except FileNotFoundError:
                    record, problem = None, "the segment is gone"
                problem = problem or self.log.problem(record)
                if problem:
                    reason = f"the line cataloged at {segment} byte {offset:,} is no longer a record: {problem}"
                    self.rebuild(reason)
                    raise ServiceUnavailable(
                        f"the invocation catalog did not match the log ({reason}); it was rebuilt from the log "
                        f"and damaged lines were kept aside in {self.log.quarantine.lines_path}. Ask again."
                    )
                records.append(record)
        finally:
            for fd in handles.values():
                os.close(fd)
        return records  # type: ignore[return-value]

    def query(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        return self._guarded(lambda: self.connect().execute(sql, params).fetchall())

    def rows_after(self, seq: int, limit: int) -> list[tuple[Any, ...]]:
        """(seq, segment, offset, length) of records after ``seq``, in log order (for indexing)."""
        return self.query("SELECT seq, segment, offset, length FROM invocations WHERE seq > ? ORDER BY seq LIMIT ?", [seq, limit])

    def count(self) -> int:
        """How many records are cataloged."""
        return self.query("SELECT COUNT(*) FROM invocations", [])[0][0]

    def max_seq(self) -> int:
        return self.query("SELECT COALESCE(MAX(seq), 0) FROM invocations", [])[0][0]

    def iter_all(self, batch: int = 2000) -> Iterator[list[tuple[Any, ...]]]:
        seq = 0
        while rows := self.rows_after(seq, batch):
            yield rows
            seq = rows[-1][0]

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            os.close(self._local.fd)
            self._local.conn = None
