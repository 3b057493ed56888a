"""The tantivy engine (the default): Rust postings, BM25, and a ``seq`` fast field that gives
newest-first order without scoring every hit.

Text fields use the shared analyzer (``tokens.py``), registered under its name on every index
this opens; filter fields are indexed whole (the ``raw`` tokenizer). Searches go through one
searcher that threads share (tantivy's searcher is immutable and thread-safe); ``refresh`` swaps
in a new one after a commit.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import tantivy

from workbench.search.engine import Engine, EngineBusy, EngineDamaged, EngineWriter, SearchFilters
from workbench.search.fields import FILTER_FIELDS, TEXT_FIELDS
from workbench.search.syntax import And, Everything, Match, Node, Not, Or, split_negatives
from workbench.search.tokens import ANALYZER_NAME, build_analyzer

WRITER_LOCK_WAIT_SECONDS = 5.0


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("seq", fast=True)
    for name in FILTER_FIELDS:
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    for name in TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name=ANALYZER_NAME, index_option="position")
    return builder.build()


class TantivyWriter(EngineWriter):
    """A tantivy IndexWriter for one update: created, fed in batches, committed, dropped."""

    def __init__(self, index: tantivy.Index, bulk: bool) -> None:
        self._schema = index.schema
        deadline = time.monotonic() + WRITER_LOCK_WAIT_SECONDS
        while True:
            try:
                # A rebuild gets two threads and a bigger arena; the background indexer keeps a
                # small footprint in a long-running server.
                self._writer: Any = index.writer(heap_size=200_000_000 if bulk else 40_000_000, num_threads=2 if bulk else 1)
                break
            except ValueError as error:
                if "LockBusy" not in str(error) and "lock" not in str(error).lower():
                    raise EngineDamaged(f"tantivy could not open a writer: {error}") from None
                if time.monotonic() > deadline:
                    raise EngineBusy("another tantivy writer holds this index") from None
                time.sleep(0.05)  # a writer of this process still being dropped, most likely

    def add(self, documents: list[dict[str, Any]]) -> None:
        add, schema, convert = self._writer.add_document, self._schema, tantivy.Document.from_dict
        for fields in documents:
            add(convert(fields, schema))  # the schema makes seq an unsigned integer

    def commit(self) -> None:
        self._writer.commit()

    def close(self) -> None:
        if self._writer is None:
            return
        writer, self._writer = self._writer, None
        try:
            writer.rollback()  # nothing uncommitted survives a failed update
        finally:
            writer.wait_merging_threads()  # finishes merges and releases tantivy's writer lock


class TantivyEngine(Engine):
    """A tantivy index in one directory."""

    name = "tantivy"
    batch_size = 10_000

    def __init__(self, index: tantivy.Index) -> None:
        self._index = index
        self._schema = index.schema
        self._index.register_tokenizer(ANALYZER_NAME, build_analyzer())
        self._index.config_reader(reload_policy="manual")  # the index manager says when
        self._lock = threading.Lock()
        self._searcher = self._index.searcher()

    @classmethod
    def create(cls, path: Path) -> TantivyEngine:
        path.mkdir(parents=True, exist_ok=True)
        return cls(tantivy.Index(_schema(), path=str(path), reuse=False))

    @classmethod
    def open(cls, path: Path) -> TantivyEngine:
        try:
            if not path.is_dir() or not tantivy.Index.exists(str(path)):
                raise EngineDamaged(f"no tantivy index in {path.name}")
            engine = cls(tantivy.Index.open(str(path)))
            missing = [name for name in (*FILTER_FIELDS, *TEXT_FIELDS) if engine._field_missing(name)]
            if missing:
                raise EngineDamaged(f"the tantivy index lacks the fields {', '.join(missing)}")
            engine.max_seq()  # reads the seq fast field of every segment: damage shows now
            return engine
        except EngineDamaged:
            raise
        except BaseException as error:  # tantivy raises ValueError, OSError, or panics on damage
            if isinstance(error, KeyboardInterrupt | SystemExit):
                raise
            raise EngineDamaged(f"tantivy cannot read it ({_first_line(error)})") from None

    def _field_missing(self, name: str) -> bool:
        try:
            tantivy.Query.term_query(self._schema, name, "x")
            return False
        except ValueError:
            return True

    def _guarded(self, action: Any) -> Any:
        try:
            return action()
        except BaseException as error:  # pyo3 turns a Rust panic on a damaged file into a BaseException
            if isinstance(error, KeyboardInterrupt | SystemExit):
                raise
            raise EngineDamaged(f"tantivy failed reading the index ({_first_line(error)})") from None

    def max_seq(self) -> int:
        searcher = self._searcher
        hits = self._guarded(lambda: searcher.search(tantivy.Query.all_query(), 1, count=False, order_by_field="seq", order=tantivy.Order.Desc).hits)
        return int(hits[0][0]) if hits else 0

    def count(self) -> int:
        return int(self._searcher.num_docs)

    def writer(self, bulk: bool = False) -> EngineWriter:
        return TantivyWriter(self._index, bulk)

    def refresh(self) -> None:
        with self._lock:
            self._guarded(self._index.reload)
            self._searcher = self._index.searcher()

    def search(self, root: Node, fields: list[str], filters: SearchFilters, newest_first: bool, limit: int) -> list[tuple[int, float]]:
        query = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, self._compile(root, fields)), (tantivy.Occur.Must, tantivy.Query.const_score_query(self._filter(filters), 0.0))]
        )
        searcher = self._searcher  # this search keeps using it even if a refresh swaps it
        if newest_first:
            result = self._guarded(lambda: searcher.search(query, limit, count=False, order_by_field="seq", order=tantivy.Order.Desc))
            return [(int(seq), 0.0) for seq, _ in result.hits]
        result = self._guarded(lambda: searcher.search(query, limit, count=False))
        seqs = self._guarded(lambda: searcher.fast_field_values("seq", [address for _, address in result.hits]))
        return [(int(seq), float(score)) for seq, (score, _) in zip(seqs, result.hits)]

    def _filter(self, filters: SearchFilters) -> tantivy.Query:
        clauses = []
        for name, values in filters.allowed().items():
            if len(values) == 1:
                clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(self._schema, name, values[0])))
            else:
                clauses.append((tantivy.Occur.Must, tantivy.Query.term_set_query(self._schema, name, values)))
        return tantivy.Query.boolean_query(clauses)

    def _compile(self, node: Node, fields: list[str]) -> tantivy.Query:
        if isinstance(node, Match):
            per_field = [self._match(node, name) for name in ([node.field] if node.field else fields)]
            return per_field[0] if len(per_field) == 1 else tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in per_field])
        if isinstance(node, Everything):
            return tantivy.Query.all_query()
        if isinstance(node, And):
            positive, negative = split_negatives(node.children)
            return tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, self._compile(c, fields)) for c in positive]
                + [(tantivy.Occur.MustNot, self._compile(c, fields)) for c in negative]
            )
        if isinstance(node, Or):
            return tantivy.Query.boolean_query([(tantivy.Occur.Should, self._compile(c, fields)) for c in node.children])
        if isinstance(node, Not):  # normalized queries only hold a Not inside an And
            return tantivy.Query.boolean_query([(tantivy.Occur.Must, tantivy.Query.all_query()), (tantivy.Occur.MustNot, self._compile(node.child, fields))])
        raise TypeError(f"not a query node: {node!r}")

    def _match(self, match: Match, field: str) -> tantivy.Query:
        if not match.is_phrase:
            word = match.words[0]
            if match.prefix:  # tokens hold only letters and digits: nothing to escape
                return tantivy.Query.regex_query(self._schema, field, f"{word}.*")
            return tantivy.Query.term_query(self._schema, field, word)
        words = list(zip(match.positions, match.words))
        if match.prefix:
            return tantivy.Query.phrase_prefix_query(self._schema, field, words)
        return tantivy.Query.phrase_query(self._schema, field, words)

    def close(self) -> None:
        """Nothing to release by hand: a search still running keeps its searcher, and the
        index's files are unmapped when the last reference to this engine goes."""


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
