"""The search index: Whoosh partitions of the invocation log, newest searched first.

Whoosh is slow on common terms in large indexes, so the index is cut into partitions of
``PARTITION_SIZE`` documents in log order (each covers one stretch of time). A newest-first search
stops as soon as the newest partitions hold enough hits; a relevance search visits every
partition and merges their best. Each commit merges small segments, so segment counts stay
bounded.

Indexing is incremental and replay-safe: documents are added in log order (the catalog's
sequence numbers) in batches, the checkpoint (``indexed_seq``) is written after each commit, and
documents a killed indexer committed but did not checkpoint are recognised and skipped. Only one
process indexes at a time (a file lock); the others carry on and let it. Readers never wait.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.fields import ID, NUMERIC, TEXT, Schema
from whoosh.query import Query

from workbench.store import FileLock, LockBusy
from workbench.store.atomic import atomic_write_bytes
from workbench.store.catalog import InvocationCatalog

SCHEMA_VERSION = 1
PARTITION_SIZE = 10_000
BATCH = 2_000
TEXT_FIELDS = ("output", "exception_message", "exception_type", "stack_trace", "logs")

Progress = Callable[[int, int], None]  # (done, total)


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        seq=NUMERIC(stored=True, sortable=True, bits=64),
        org_id=ID,
        tool_id=ID,
        source_type=ID,
        conversation_id=ID,
        sim_run_id=ID,
        succeeded=ID,
        output=TEXT,
        exception_message=TEXT,
        exception_type=TEXT,
        stack_trace=TEXT,
        logs=TEXT,
    )


def document(seq: int, record: dict[str, Any]) -> dict[str, Any]:
    status = record.get("invocation_status") or {}
    source = record.get("invocation_source") or {}
    doc = {
        "id": record["id"],
        "seq": seq,
        "org_id": record["org_id"],
        "tool_id": record["tool_id"],
        "source_type": source.get("type") or "",
        "succeeded": "true" if status.get("succeeded") else "false",
        "output": status.get("output") or "",
        "exception_message": status.get("exception_message") or "",
        "exception_type": status.get("exception_type") or "",
        "stack_trace": "\n".join(status.get("exception_stack_trace") or []),
        "logs": "\n".join(record.get("logs") or []),
    }
    if source.get("conversation_id"):
        doc["conversation_id"] = source["conversation_id"]
    if source.get("simulation_unit_test_set_run_id"):
        doc["sim_run_id"] = source["simulation_unit_test_set_run_id"]
    return doc


class IndexUnusable(Exception):
    """The index is missing, damaged, of an older schema, or of another catalog: rebuild it."""


class SearchIndex:
    """Partitioned Whoosh index of one data directory's invocations."""

    def __init__(self, directory: Path, catalog: InvocationCatalog) -> None:
        self.directory = directory
        self.catalog = catalog
        self.meta_path = directory / "meta.json"
        self.lock_path = directory.parent / "search-index.lock"
        self._indexes: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._local = threading.local()  # searchers are per thread: a server answers in many

    # -- state --------------------------------------------------------------------------------

    def meta(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.meta_path.read_text())
        except (FileNotFoundError, ValueError):
            return None

    def check(self) -> dict[str, Any]:
        """The index's metadata if it can serve searches; raises IndexUnusable otherwise."""
        meta = self.meta()
        if meta is None:
            raise IndexUnusable("the search index does not exist yet")
        if meta.get("schema") != SCHEMA_VERSION:
            raise IndexUnusable(f"the search index has schema {meta.get('schema')}, this workbench uses {SCHEMA_VERSION}")
        if meta.get("generation") != self.catalog.generation:
            raise IndexUnusable("the invocation catalog was rebuilt since the index was made")
        for number in self.partitions():
            try:
                self._open(number)
            except Exception as error:  # whoosh raises many kinds on a damaged directory
                raise IndexUnusable(f"search index partition {number} is damaged ({type(error).__name__})") from None
        return meta

    def partitions(self) -> list[int]:
        """Partition numbers, newest first."""
        if not self.directory.is_dir():
            return []
        return sorted((int(p.name[1:]) for p in self.directory.glob("p*") if p.is_dir() and p.name[1:].isdigit()), reverse=True)

    def backlog(self) -> int:
        meta = self.meta() or {}
        return max(0, self.catalog.max_seq() - int(meta.get("indexed_seq", 0)))

    def _partition_dir(self, number: int) -> Path:
        return self.directory / f"p{number:06d}"

    def _open(self, number: int, create: bool = False) -> Any:
        with self._lock:
            return self._open_locked(number, create)

    def _open_locked(self, number: int, create: bool) -> Any:
        if number not in self._indexes:
            path = self._partition_dir(number)
            if create and not whoosh_index.exists_in(path):
                path.mkdir(parents=True, exist_ok=True)
                self._indexes[number] = whoosh_index.create_in(path, make_schema())
            else:
                self._indexes[number] = whoosh_index.open_dir(path)
        return self._indexes[number]

    def _write_meta(self, indexed_seq: int) -> None:
        meta = {"schema": SCHEMA_VERSION, "generation": self.catalog.generation, "indexed_seq": indexed_seq, "partition_size": PARTITION_SIZE}
        atomic_write_bytes(self.meta_path, json.dumps(meta).encode())

    # -- writing ------------------------------------------------------------------------------

    def update(self, progress: Progress | None = None, blocking: bool = False) -> int:
        """Index what the log holds beyond the checkpoint; returns how many documents were added.
        If another process is indexing, returns 0 at once (unless ``blocking``)."""
        self.catalog.sync()
        try:
            with FileLock(self.lock_path, blocking=blocking):
                try:
                    meta = self.check()
                except IndexUnusable:
                    self._reset()
                    meta = self.meta()
                return self._index_from(int(meta["indexed_seq"]), progress)
        except LockBusy:
            return 0

    def rebuild(self, progress: Progress | None = None) -> int:
        """Start over from the log (waits for another indexer to finish first)."""
        self.catalog.sync()
        with FileLock(self.lock_path):
            self._reset()
            return self._index_from(0, progress)

    def _reset(self) -> None:
        with self._lock:
            self._indexes.clear()
        self._close_searchers()
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._write_meta(0)

    def _index_from(self, seq: int, progress: Progress | None) -> int:
        total = self.catalog.max_seq() - seq
        done = 0
        if progress:
            progress(0, total)
        while rows := self.catalog.rows_after(seq, BATCH):
            records = self.catalog.read([(segment, offset, length) for _, segment, offset, length in rows])
            by_partition: dict[int, list[dict[str, Any]]] = {}
            for (row_seq, *_), record in zip(rows, records):
                by_partition.setdefault((row_seq - 1) // PARTITION_SIZE, []).append(document(row_seq, record))
            for number, docs in sorted(by_partition.items()):
                self._add(number, docs)
            seq = rows[-1][0]
            self._write_meta(seq)
            done += len(rows)
            if progress:
                progress(done, total)
        return done

    def _add(self, number: int, docs: list[dict[str, Any]]) -> None:
        ix = self._open(number, create=True)
        with ix.searcher() as searcher:
            if searcher.document_number(id=docs[0]["id"]) is not None:
                # a killed indexer committed these without checkpointing: keep only the new ones
                docs = [d for d in docs if searcher.document_number(id=d["id"]) is None]
        if not docs:
            return
        writer = ix.writer(limitmb=128)
        try:
            for doc in docs:
                writer.add_document(**doc)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()  # merges small segments: their number stays bounded

    # -- reading ------------------------------------------------------------------------------

    @property
    def _searchers(self) -> dict[int, Any]:
        if not hasattr(self._local, "searchers"):
            self._local.searchers = {}
        return self._local.searchers

    def _searcher(self, number: int) -> Any:
        """This thread's searcher of a partition, reopened when a commit has changed it.
        (Whoosh's Searcher.refresh() can fail when a concurrent commit merged segments.)"""
        searcher = self._searchers.get(number)
        if searcher is not None and not searcher.up_to_date():
            searcher.close()
            searcher = None
        if searcher is None:
            searcher = self._searchers[number] = self._open(number).searcher()
        return searcher

    def _close_searchers(self) -> None:
        for searcher in self._searchers.values():
            searcher.close()
        self._searchers.clear()

    def search(self, query: Query, filter_query: Query, newest_first: bool, limit: int) -> tuple[list[tuple[int, float]], set[tuple[str, bytes]]]:
        """Hits as (seq, score), and the query's terms as found in the index (for highlights).
        Callers check() the index first."""
        hits: list[tuple[int, float]] = []
        terms: set[tuple[str, bytes]] = set()
        for number in self.partitions():
            searcher = self._searcher(number)
            if newest_first:
                results = searcher.search(query, filter=filter_query, limit=limit - len(hits), sortedby="seq", reverse=True)
            else:
                results = searcher.search(query, filter=filter_query, limit=limit)
            hits += [(hit["seq"], hit.score or 0.0) for hit in results]
            if len(results):
                reader = searcher.reader()
                for leaf in query.leaves():  # Or.existing_terms() keeps only its first child's
                    terms |= set(leaf.existing_terms(reader, expand=True))
            if newest_first and len(hits) >= limit:
                break
        if not newest_first:
            hits = sorted(hits, key=lambda h: (-h[1], -h[0]))[:limit]
        return hits, terms

    def close(self) -> None:
        self._close_searchers()
        self._indexes.clear()

