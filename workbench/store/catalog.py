"""The invocation catalog: a derived SQLite index of the log's filter and sort fields.

The JSON Lines log is the record; the catalog is how a filtered, sorted page of 100 out of 100,000
is found in milliseconds. It knows, for each record, its filter columns and where its line is
(segment, offset, length). It is caught up from the log by whoever reads it: new bytes since the
last synced offset of each segment are parsed and inserted, so a record appended by any process
(or by one killed before it could update the catalog) is listed on the next read. It can always be
deleted and rebuilt from the log; its ``generation`` changes when it is, so anything derived from
its row numbers (the search index) knows to rebuild too.

Each row also keeps its line's checksum, and whether the line is the record exactly as readers show
it (``verbatim``), so a page can send those lines as they are, checked by their checksum instead of
parsed and validated again.

It is rebuilt by itself when it no longer matches the log or cannot be read:

* a damaged database file (garbage, cut short): the file is replaced and filled from the log;
* a segment that shrank, vanished, or whose bytes before the synced offset changed (cut, edited
  or replaced in place): each sync compares every segment's size and mtime with what it last
  saw, and where they changed, the last bytes it read, so an append costs one ``pread``. A sync
  with no news from the kernel (:mod:`watch`) of a change to the log or to this file since the
  last one skips the comparison: nothing can have changed;
* a cataloged line that no longer parses, or no longer has its checksum, when it is read.

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
import time
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, NoReturn, TypeVar

from workbench.errors import DataDamaged, ServiceUnavailable
from workbench.store.catalog_schema import COLUMN_COUNT, COLUMNS, META_TABLE, REPLACED_INDEXES, ROLL_UP, SCHEMA, SCHEMA_VERSION, row_of
from workbench.store.connections import ConnectionPool, FileIdentity, OpenConnection, identity
from workbench.store.invocations import SEGMENT_SUFFIX, InvocationLog, parse_line
from workbench.store.locks import FileLock
from workbench.store.watch import ChangeWatch, open_watch

TAIL = 32  # bytes before a segment's synced offset that must not change
READ_GAP = 16384  # lines at most this far apart in a segment are read in one go
WATCH_RETRY = 10.0  # seconds between tries for a watch where the system gave none (each try costs syscalls)

DAMAGE_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED
T = TypeVar("T")


class LogState(NamedTuple):
    """What a catch-up saw: the catalog's generation and each segment's (name, (size, mtime))."""

    generation: str
    segments: frozenset[tuple[str, tuple[int, int]]]


class StoredLine(NamedTuple):
    """Where one record's line is in the log, the line's checksum (CRC-32, newline included), and
    whether its bytes are the record exactly as readers show it."""

    segment: str
    offset: int
    length: int
    crc: int
    verbatim: bool


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
        self._pool = ConnectionPool(path, self._open)  # a server answers in many threads
        self._sync_lock = threading.Lock()
        self._synced_as_of = -1.0  # when the last completed catch-up began (monotonic)
        self._seen = LogState("", frozenset())  # what the last completed catch-up saw (none yet)
        self._watch: ChangeWatch | None = None  # news of changes to the log and this file, where the system gives it
        self._news = True  # a change the watch told of, not yet caught up with
        self._watch_again_at = 0.0  # when to try for a watch again, after the system gave none

    # -- the connection -----------------------------------------------------------------------

    def _open(self, retry: bool = True) -> OpenConnection:
        """A new connection, the schema in place; a damaged file is replaced (once)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:  # a new file is private; an existing one is never opened here (see OpenConnection)
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        before = identity(self.path)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        opened = before if identity(self.path) == before else None  # replaced meanwhile: unknown, so never "still on"
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":  # switching needs the file to itself
                conn.execute("PRAGMA journal_mode=WAL")  # once: the mode stays with the file
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(META_TABLE)  # the version first: an older schema's tables lack columns the indexes name
            version = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if version is not None and version[0] != str(SCHEMA_VERSION):
                raise _SchemaMismatch(f"it has schema {version[0]}, this workbench uses {SCHEMA_VERSION}")
            conn.executescript(SCHEMA)
            for name in REPLACED_INDEXES:
                if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)).fetchone():
                    conn.execute(f"DROP INDEX IF EXISTS {name}")
            if version is None:
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?), ('generation', ?)", (str(SCHEMA_VERSION), uuid.uuid4().hex))
        except (sqlite3.DatabaseError, _SchemaMismatch) as error:
            try:
                if isinstance(error, sqlite3.DatabaseError) and not is_damage(error):
                    raise
                if not retry:
                    raise DataDamaged(self.path, f"it cannot be opened or replaced ({error})", self.log.directory.parent) from None
                self._replace(str(error), opened)  # the connection still open: the file's inode stays its own
            finally:
                conn.close()
            return self._open(retry=False)
        return OpenConnection(conn, opened)

    def _replace(self, reason: str, damaged: FileIdentity | None) -> None:
        """Start a fresh, empty file in place of the damaged one (the next sync fills it from the
        log), unless another process has replaced it already."""
        with self._rebuild_lock():
            if damaged is not None and identity(self.path) == damaged:
                self._start_fresh(f"the catalog file could not be read ({reason})")

    def _rebuild_lock(self) -> FileLock:
        return FileLock(self.path.with_name(self.path.name + ".rebuild.lock"))

    def _start_fresh(self, reason: str) -> None:
        self._pool.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        fresh = self._open(retry=False)
        self._note_rebuild(fresh.conn, reason)
        self._pool.give_back(fresh)

    def replace(self, reason: str) -> int:
        """Throw the file away and build a new one from the log (for a file SQLite calls damaged
        in a way no query has run into yet); returns how many records it holds."""
        with self._rebuild_lock():
            self._start_fresh(reason)
        self.sync()
        return self.count()

    def _guarded(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` on a connection; if the database turns out damaged, replace it, catch up
        and run it again."""
        with self._pool.lease() as held:
            try:
                return work(held.conn)
            except sqlite3.DatabaseError as error:
                if is_busy(error):
                    raise ServiceUnavailable("the invocation catalog is busy: another process has held it for 30 s; try again") from None
                if not is_damage(error):
                    raise
                self._replace(str(error), held.file)  # still open: its inode tells whether it was replaced meanwhile
                held.close()
        try:
            with self._pool.lease() as held:
                self._sync(held.conn)
                return work(held.conn)
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
        return self._guarded(self._generation)

    # -- catching up with the log -------------------------------------------------------------

    def sync(self) -> int:
        """Catch up with the log (rebuilding first if it no longer matches); returns how many
        records were added.

        Concurrent readers share the work: a catch-up that began after this call was made saw
        every append finished before it, so one that has completed meanwhile answers for this
        one too (a server's many threads check the log's segments once per wave, not each). Where
        the system tells of changes (:mod:`watch`), a catch-up with no news since the last one
        is answered without looking at the segments at all."""
        asked = time.monotonic()
        with self._sync_lock:
            if self._synced_as_of >= asked or self._quiet():
                return 0
            began = time.monotonic()
            self._news = False  # what happens from here on is news for the next one
            try:
                added = self._guarded(self._sync)
            except BaseException:
                self._news = True
                raise
            self._synced_as_of = began
            return added

    def caught_up_at_once(self) -> LogState | None:
        """The state :meth:`caught_up` would return, if that is known without waiting or reading
        anything (no news of a change since the last catch-up); else None."""
        if not self._sync_lock.acquire(blocking=False):
            return None  # a catch-up is under way
        try:
            return self._seen if self._quiet() else None
        finally:
            self._sync_lock.release()

    def _quiet(self) -> bool:
        """Whether the watch vouches that neither the log nor this file changed since the last
        completed catch-up began (called holding the sync lock; takes the news it reads)."""
        if self._watch is None or not self._watch.usable:
            if self._watch is not None:
                self._watch.close()
                self._watch, self._watch_again_at = None, 0.0
            if time.monotonic() >= self._watch_again_at:
                self._watch = self._open_watch()  # before the catch-up that follows: it misses nothing after
                self._watch_again_at = time.monotonic() + WATCH_RETRY if self._watch is None else 0.0
            self._news = True
            return False
        if self._watch.changed():
            self._news = True
        return not self._news and bool(self._seen.generation)

    def _open_watch(self) -> ChangeWatch | None:
        try:  # both watched from the start: the log's first segment, and this file's first write, are news
            self.log.directory.mkdir(parents=True, exist_ok=True)
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        names = {self.path.name, f"{self.path.name}-wal", f"{self.path.name}-journal"}
        return open_watch({self.log.directory: lambda name: True, self.path.parent: names.__contains__})

    def caught_up(self) -> LogState:
        """Catch up with the log as :meth:`sync` does; returns what it saw. Two equal states mean
        the same catalog contents: anything read from the catalog after this call (which only
        grows, or is rebuilt under a new generation) is at least as new as the state returned,
        so what was read under an equal state earlier can be answered again."""
        self.sync()
        with self._sync_lock:
            return self._seen

    def rebuild(self, reason: str) -> int:
        """Empty the catalog and fill it from the log again, in one transaction; returns how
        many records it holds."""
        self._guarded(lambda conn: self._sync(conn, rebuild=reason))
        return self.count()

    def _segment_files(self) -> list[tuple[str, os.stat_result]]:
        """The names of the log's segments with their stat, oldest first (one directory read)."""
        found = []
        try:
            with os.scandir(self.log.directory) as entries:
                for entry in entries:
                    if entry.name.endswith(SEGMENT_SUFFIX):
                        try:
                            found.append((entry.name, entry.stat()))
                        except FileNotFoundError:
                            continue  # removed meanwhile
        except FileNotFoundError:
            return []
        return sorted(found)

    def _sync(self, conn: sqlite3.Connection, rebuild: str | None = None) -> int:
        named = self._segment_files()
        marks = {name: (size, mtime) for name, size, mtime in conn.execute("SELECT name, size, mtime_ns FROM segment_marks")}
        seen = {name: (st.st_size, st.st_mtime_ns) for name, st in named}
        if rebuild is None and marks == seen:
            self._seen = LogState(self._generation(conn), frozenset(seen.items()))
            return 0  # nothing appended, cut or changed since the last sync
        files = [(self.log.directory / name, st) for name, st in named]
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
            generation = self._generation(conn)
            conn.execute("COMMIT")
        except BaseException:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # a damaged file can fail the rollback too; _guarded replaces it
            raise
        self._seen = LogState(generation, frozenset(seen.items()))
        return added

    @staticmethod
    def _generation(conn: sqlite3.Connection) -> str:
        return str(conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])

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
            problem, verbatim = self.log.examine(line)
            if problem:
                damaged.append((line.offset, line.raw, problem))
            else:
                rows.append(row_of(line.record, segment.name, line, verbatim))  # type: ignore[arg-type]
            tail = (tail + line.raw)[-TAIL:]
            end = line.end
        self.log.quarantine.keep_lines(segment.name, damaged)
        return rows, end, tail

    # -- reading ------------------------------------------------------------------------------

    def read(self, locations: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        """The records at (segment, offset, length, ...), in that order, parsed and checked.

        If a line there is no longer the record that was cataloged (the log was changed in a way
        the sync could not see), the catalog is rebuilt from the log and this raises
        ``ServiceUnavailable``: asking again gets an answer from the rebuilt catalog.
        """
        return [self._record(location, raw) for location, raw in zip(locations, self._lines(locations))]

    def read_lines(self, lines: Sequence[StoredLine]) -> list[bytes | dict[str, Any]]:
        """Each record as its line's JSON bytes where the catalog marked it verbatim, else parsed
        and checked as :meth:`read` gives it (for the caller to convert). Every line must still
        have the checksum it was cataloged with; one that does not is handled as :meth:`read`
        handles a line that is no longer a record."""
        found: list[bytes | dict[str, Any]] = []
        for line, raw in zip(lines, self._lines(lines)):
            if raw is not None and zlib.crc32(raw) != line.crc:
                self._out_of_step(f"the line cataloged at {line.segment} byte {line.offset:,} changed since (its checksum differs)")
            found.append(raw[:-1] if raw is not None and line.verbatim else self._record(line, raw))
        return found

    def _lines(self, locations: Sequence[Sequence[Any]]) -> list[bytes | None]:
        """The bytes at each (segment, offset, length, ...); None where the segment is gone.
        Lines near each other in a segment (a page of the newest is one run) are read together."""
        lines: list[bytes | None] = [None] * len(locations)
        by_segment: dict[str, list[tuple[int, int, int]]] = {}
        for index, (segment, offset, length, *_) in enumerate(locations):
            by_segment.setdefault(segment, []).append((offset, length, index))
        for segment, wanted in by_segment.items():
            try:
                fd = os.open(self.log.directory / segment, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                wanted.sort()
                start = 0
                while start < len(wanted):
                    end, span_end = start + 1, wanted[start][0] + wanted[start][1]
                    while end < len(wanted) and wanted[end][0] - span_end <= READ_GAP:
                        span_end = max(span_end, wanted[end][0] + wanted[end][1])
                        end += 1
                    base = wanted[start][0]
                    span = os.pread(fd, span_end - base, base)
                    for offset, length, index in wanted[start:end]:
                        lines[index] = span[offset - base:offset - base + length]
                    start = end
            finally:
                os.close(fd)
        return lines

    def _record(self, location: Sequence[Any], raw: bytes | None) -> dict[str, Any]:
        record, problem = parse_line(raw) if raw is not None else (None, "the segment is gone")
        problem = problem or self.log.problem(record)
        if problem:
            self._out_of_step(f"the line cataloged at {location[0]} byte {location[1]:,} is no longer a record: {problem}")
        return record  # type: ignore[return-value]  # checked above

    def _out_of_step(self, reason: str) -> NoReturn:
        self.rebuild(reason)
        raise ServiceUnavailable(
            f"the invocation catalog did not match the log ({reason}); it was rebuilt from the log "
            f"and damaged lines were kept aside in {self.log.quarantine.lines_path}. Ask again."
        )

    def query(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        return self._guarded(lambda conn: conn.execute(sql, params).fetchall())

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
        """Close the connections kept open between operations, and the watch."""
        self._pool.close()
        with self._sync_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch, self._news = None, True
