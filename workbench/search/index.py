"""The search index of one data directory: which engine, how far it has indexed, and the rules
that keep it derived data (engine-agnostic).

Layout: ``meta.json`` (schema version, engine, the catalog generation it was built from, the
data directory, ``indexed_seq``, and whether a build is still under way) beside one engine data
directory. The index is rebuilt from the log when it is missing, damaged, of an older schema, of
another engine or of another catalog generation. A rebuild starts a fresh data directory; while
it runs the index answers IndexUnusable (the faces say "being rebuilt"), and a killed rebuild is
resumed, not restarted.

Indexing is incremental and replay-safe: documents go in in catalog ``seq`` order, in batches,
each batch committed whole. The index itself is the truth about how far it got (the highest
``seq`` it holds), so a killed indexer that committed but did not checkpoint is resumed after
its last commit, never replayed. One writer across processes: a file lock beside the index that
the CLI, the TUI and the server all take; the others carry on without waiting (unless they ask
to). One searcher per process, shared by threads, reloaded when ``meta.json`` changed (a stat per
search tells).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import ValidationFailed
from workbench.search.engine import Engine, EngineBusy, EngineDamaged, SearchFilters, engine_class
from workbench.search.fields import TEXT_FIELDS, document
from workbench.search.query import ParsedQuery, parse_query
from workbench.store import FileLock, LockBusy
from workbench.store.atomic import atomic_write_bytes
from workbench.store.catalog import InvocationCatalog

SCHEMA_VERSION = 2
MAX_LIMIT = 1_000

Progress = Callable[[int, int], None]  # (done, total)


class IndexUnusable(Exception):
    """The index cannot answer: missing, damaged, outdated, or being rebuilt. ``building``: a
    build is under way (or was killed and will be resumed)."""

    def __init__(self, message: str, building: bool = False) -> None:
        super().__init__(message)
        self.building = building


@dataclass
class IndexStatus:
    """What ``workbench index status`` shows."""

    usable: bool
    problem: str | None
    engine: str
    indexed: int
    recorded: int
    size_bytes: int


@dataclass
class SearchRequest:
    """A search: the user's text, the index fields to search ([] = all), the filters, the order
    (newest first, or best match first) and how many hits at most."""

    text: str
    fields: list[str]
    filters: SearchFilters
    newest_first: bool = True
    limit: int = 50


@dataclass
class SearchResult:
    """Hits as (seq, score) in order (score 0.0 newest first), whether more matched than were
    returned, and the parsed query (for snippets, and to say when it was read literally)."""

    hits: list[tuple[int, float]]
    has_more: bool
    query: ParsedQuery


class SearchIndex:
    """The full-text index of one data directory's invocations."""

    def __init__(self, directory: Path, catalog: InvocationCatalog, engine: str = "tantivy") -> None:
        self.directory = directory
        self.catalog = catalog
        self.engine_name = engine
        self.engine_type = engine_class(engine)
        self.meta_path = directory / "meta.json"
        self.lock_path = directory.with_name(f"{directory.name}.lock")  # outside: survives a deleted index
        self._lock = threading.RLock()
        self._engine: Engine | None = None
        self._loaded: tuple[Any, dict[str, Any]] | None = None  # (meta.json's stat, its content) the engine reflects
        self._writer: tuple[str, Engine] | None = None  # (data directory, engine) that update() writes with

    # -- state --------------------------------------------------------------------------------

    def meta(self) -> dict[str, Any] | None:
        """The index's metadata as on disk (None when missing or unreadable)."""
        try:
            meta = json.loads(self.meta_path.read_text())
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) else None

    def _stamp(self) -> Any:
        try:
            stat = os.stat(self.meta_path)
        except OSError:
            return None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)  # meta.json is replaced on every change

    def _problem(self, meta: dict[str, Any] | None, allow_building: bool = False) -> str | None:
        if meta is None:
            return "the search index is damaged (meta.json is unreadable)" if self.meta_path.exists() else "the search index does not exist yet"
        if meta.get("schema") != SCHEMA_VERSION:
            return f"the search index has schema {meta.get('schema')}, this workbench uses {SCHEMA_VERSION}"
        if not isinstance(meta.get("data"), str) or not isinstance(meta.get("indexed_seq"), int):
            return "the search index is damaged (meta.json lacks its data directory or checkpoint)"
        if meta.get("engine") != self.engine_name:
            return f"the search index was built with {meta.get('engine')}, this workbench is set to {self.engine_name}"
        if meta.get("generation") != self.catalog.generation:
            return "the invocation catalog was rebuilt since the search index was made"
        if meta.get("building") and not allow_building:
            return f"the search index is being rebuilt ({int(meta.get('indexed_seq', 0)):,} of {int(meta.get('target_seq', 0)):,} invocations)"
        return None

    def check(self) -> dict[str, Any]:
        """The index's metadata if it can serve searches; raises IndexUnusable otherwise. Cheap
        when nothing changed (a stat); reloads the shared searcher after another commit."""
        loaded = self._loaded
        if loaded is not None and loaded[0] == self._stamp() and self._engine is not None:
            if loaded[1].get("generation") == self.catalog.generation:
                return loaded[1]
        with self._lock:
            for _ in range(3):  # a rebuild elsewhere may swap the data directory while we open it
                stamp, meta = self._stamp(), self.meta()
                problem = self._problem(meta)
                if problem:
                    self._forget()
                    raise IndexUnusable(problem, building=bool(meta and meta.get("building")))
                try:
                    self._load(meta)
                except EngineDamaged as damage:
                    self._forget()
                    if self._stamp() == stamp:
                        raise IndexUnusable(f"the search index is damaged: {damage}") from None
                    continue
                self._loaded = (stamp, meta)
                return meta
            raise IndexUnusable("the search index keeps changing while it is opened; try again")

    def _load(self, meta: dict[str, Any]) -> Engine:
        """The engine on the meta's data directory: refreshed if already open, else opened."""
        data = self.directory / str(meta["data"])
        if self._engine is not None and self._loaded is not None and self._loaded[1].get("data") == meta["data"]:
            self._engine.refresh()
        else:
            self._forget()
            self._engine = self.engine_type.open(data)
        return self._engine

    def _forget(self) -> None:
        engine, self._engine, self._loaded = self._engine, None, None
        if engine is not None:
            engine.close()

    def backlog(self) -> int:
        """How many recorded invocations the index does not hold yet."""
        indexed = (self.meta() or {}).get("indexed_seq", 0)
        return max(0, self.catalog.max_seq() - (indexed if isinstance(indexed, int) else 0))

    def status(self) -> IndexStatus:
        """Usable or not (and why), how much is indexed of what is recorded, the size on disk."""
        try:
            meta, usable, problem = self.check(), True, None
        except IndexUnusable as error:
            meta, usable, problem = self.meta() or {}, False, str(error)
        self.catalog.sync()
        indexed = meta.get("indexed_seq", 0)
        return IndexStatus(usable, problem, self.engine_name, indexed if isinstance(indexed, int) else 0, self.catalog.max_seq(), self._size())

    def _size(self) -> int:
        total = 0
        for path in self.directory.rglob("*") if self.directory.is_dir() else ():
            try:
                total += path.stat().st_size if path.is_file() else 0
            except OSError:
                pass  # removed by a rebuild meanwhile
        return total

    # -- writing ------------------------------------------------------------------------------

    def update(self, progress: Progress | None = None, blocking: bool = False) -> int:
        """Index what the log holds beyond the index (rebuilding first if the index is unusable,
        resuming a killed rebuild); returns how many documents were added. If another process
        is indexing, returns 0 at once (unless ``blocking``)."""
        self.catalog.sync()
        try:
            with FileLock(self.lock_path, blocking=blocking):
                meta = self.meta()
                engine = None
                if self._problem(meta, allow_building=True) is None:
                    try:
                        engine = self._writing_engine(meta)
                    except EngineDamaged:
                        pass
                if engine is None:
                    meta, engine = self._start_fresh()
                return self._index_from(engine, meta, progress)
        except (LockBusy, EngineBusy):
            if blocking:
                raise IndexUnusable("another process holds the search index's writer lock; try again") from None
            return 0

    def rebuild(self, progress: Progress | None = None) -> int:
        """Start over from the log (waits for another indexer to finish first); returns how
        many documents were indexed."""
        self.catalog.sync()
        with FileLock(self.lock_path):
            meta, engine = self._start_fresh()
            return self._index_from(engine, meta, progress)

    def _writing_engine(self, meta: dict[str, Any]) -> Engine:
        """The engine this index writes with (its own, apart from the searchers'), on the meta's
        data directory, seeing the latest commit. Called holding the writer lock."""
        data = str(meta["data"])
        if self._writer is not None and self._writer[0] == data:
            self._writer[1].refresh()
        else:
            self._close_writer()
            self._writer = (data, self.engine_type.open(self.directory / data))
            self._remove_all_but(data)  # what a killed rebuild may have left
        return self._writer[1]

    def _close_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer[1].close()

    def _start_fresh(self) -> tuple[dict[str, Any], Engine]:
        """A new, empty data directory that meta.json points at (marked as building); every
        other file of the index removed. Called holding the writer lock."""
        self._close_writer()
        if self.directory.exists() and not self.directory.is_dir():
            self.directory.unlink()
        self.directory.mkdir(parents=True, exist_ok=True)
        data = f"{self.engine_name}-{uuid.uuid4().hex[:12]}"
        engine = self.engine_type.create(self.directory / data)
        meta = {
            "schema": SCHEMA_VERSION,
            "engine": self.engine_name,
            "generation": self.catalog.generation,
            "data": data,
            "indexed_seq": 0,
            "building": True,
            "target_seq": self.catalog.max_seq(),
        }
        self._write_meta(meta)
        self._remove_all_but(data)
        self._writer = (data, engine)
        return meta, engine

    def _remove_all_but(self, data: str) -> None:
        # Searchers of other processes keep the files they have open (POSIX); they see meta.json
        # changed on their next search and load the new data directory. (Temp files of meta.json
        # go too: it is only written under the writer lock, so they are a killed writer's.)
        for stale in self.directory.iterdir():
            if stale.name not in ("meta.json", data):
                shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)

    def _write_meta(self, meta: dict[str, Any]) -> None:
        atomic_write_bytes(self.meta_path, json.dumps(meta, indent=1).encode())

    def _index_from(self, engine: Engine, meta: dict[str, Any], progress: Progress | None) -> int:
        seq = engine.max_seq()  # the last commit, checkpointed or not: never replayed
        total = self.catalog.query("SELECT COUNT(*) FROM invocations WHERE seq > ?", [seq])[0][0]
        done = 0
        if progress:
            progress(0, total)
        with engine.writer(bulk=bool(meta.get("building"))) as writer:
            while rows := self.catalog.rows_after(seq, engine.batch_size):
                records = self.catalog.read([(segment, offset, length) for _, segment, offset, length in rows])
                writer.add([document(row[0], record) for row, record in zip(rows, records)])
                writer.commit()
                seq = rows[-1][0]
                done += len(rows)
                meta = self._checkpoint(meta, seq)
                if progress:
                    progress(done, total)
        if meta.get("building") or int(meta.get("indexed_seq", 0)) != seq:
            self._checkpoint(meta, seq)
        return done

    def _checkpoint(self, meta: dict[str, Any], seq: int) -> dict[str, Any]:
        meta = {**meta, "indexed_seq": seq}
        if meta.get("building") and seq >= int(meta.get("target_seq", 0)):
            meta.pop("building")
        self._write_meta(meta)
        return meta

    # -- reading ------------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResult:
        """Hits of the request, in its order, with ``has_more``. Raises ValidationFailed for a
        blank or over-cap query or an unknown field, IndexUnusable when the index cannot answer
        (damage found while reading included)."""
        parsed = parse_query(request.text)
        fields = list(dict.fromkeys(request.fields)) or list(TEXT_FIELDS)
        unknown = [f for f in fields if f not in TEXT_FIELDS]
        if unknown:
            raise ValidationFailed(f"cannot search the fields {', '.join(unknown)}; fields: {', '.join(TEXT_FIELDS)}")
        if not 0 <= request.limit <= MAX_LIMIT:
            raise ValidationFailed(f"a search returns 0 to {MAX_LIMIT:,} hits; {request.limit} were asked for")
        for attempt in range(2):
            self.check()
            engine = self._engine
            if engine is None:
                continue  # another thread let go of it meanwhile
            try:
                hits = engine.search(parsed.root, fields, request.filters, request.newest_first, request.limit + 1)
            except EngineDamaged as damage:
                if self._engine is not engine and attempt == 0:
                    continue  # swapped for a newer one while this searched: ask the new one
                with self._lock:
                    if self._engine is engine:
                        self._forget()
                raise IndexUnusable(f"the search index is damaged: {damage}") from None
            return SearchResult(hits=hits[: request.limit], has_more=len(hits) > request.limit, query=parsed)
        raise IndexUnusable("the search index keeps changing while it is searched; try again")

    def close(self) -> None:
        """Let go of the engines (a later search or update opens them again)."""
        with self._lock:
            self._forget()
            self._close_writer()
