"""The Whoosh engine (``whoosh-reloaded``): pure Python, no compiled dependency of its own, and
much slower than tantivy on large histories (see the README's search benchmark). Kept as a
supported engine, selected with ``WORKBENCH_SEARCH_ENGINE=whoosh``.

Text fields are analyzed by the shared tokenizer through ``SharedTokenizer``, so Whoosh indexes
exactly the tokens tantivy would. A Whoosh searcher reads files through shared handles and is not
safe to use from two threads at once, so searches of one engine take turns (one shared searcher
per partition).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.analysis import Token as WhooshToken
from whoosh.analysis import Tokenizer
from whoosh.fields import ID, NUMERIC, TEXT, Schema
from whoosh.query import And as WAnd
from whoosh.query import AndNot, Every, Phrase, Prefix, Query, Sequence, Term
from whoosh.query import Or as WOr

from workbench.search.engine import Engine, EngineDamaged, EngineWriter, SearchFilters
from workbench.search.fields import FILTER_FIELDS, TEXT_FIELDS
from workbench.search.syntax import (
    And,
    Everything,
    Match,
    Node,
    Not,
    Or,
    split_negatives,
)
from workbench.search.tokens import tokenize


class SharedTokenizer(Tokenizer):
    """Whoosh's side of the shared tokenizer (``tokens.tokenize``): same tokens, same positions
    (a left-out long token leaves a gap), same character offsets."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False, removestops: bool = True,
                 start_pos: int = 0, start_char: int = 0, tokenize: bool = True, mode: str = "", **kwargs: Any) -> Iterator[WhooshToken]:  # fmt: skip
        token = WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pieces = [(value, 0, 0, len(value))] if not tokenize else [(t.text, t.position, t.start, t.end) for t in _tokenize(value)]
        for text, position, start, end in pieces:
            token.text, token.boost, token.stopped = text, 1.0, False
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = start_pos + position
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


_tokenize = tokenize  # the parameter named ``tokenize`` shadows it inside __call__
PARTITION_SIZE = 10_000
MARKER = "whoosh-partitions.json"


REOPEN_ATTEMPTS = 4


def _schema() -> Schema:
    fields: dict[str, Any] = {"seq": NUMERIC(int, bits=64, signed=False, stored=True, sortable=True)}
    fields |= {name: ID() for name in FILTER_FIELDS}
    fields |= {name: TEXT(analyzer=SharedTokenizer(), phrase=True) for name in TEXT_FIELDS}
    return Schema(**fields)


class WhooshWriter(EngineWriter):
    """Routes documents to their partitions; a commit commits the touched partitions oldest
    first, so what a crash leaves committed is still every document up to some seq."""

    def __init__(self, engine: WhooshEngine, bulk: bool) -> None:
        self._engine = engine
        self._limitmb = 256 if bulk else 64
        self._pending: dict[int, list[dict[str, Any]]] = {}

    def add(self, documents: list[dict[str, Any]]) -> None:
        for fields in documents:
            self._pending.setdefault((fields["seq"] - 1) // PARTITION_SIZE, []).append(fields)

    def commit(self) -> None:
        for number in sorted(self._pending):
            writer = self._engine.partition_index(number, create=True).writer(limitmb=self._limitmb)
            try:
                for fields in self._pending[number]:
                    writer.add_document(**fields)
            except BaseException:
                writer.cancel()
                raise
            writer.commit()  # merges small segments, so their number stays bounded
        self._pending.clear()

    def close(self) -> None:
        self._pending.clear()


class WhooshEngine(Engine):
    """A Whoosh index in one directory, cut into partitions of ``PARTITION_SIZE`` seqs.

    Whoosh sorts every match in Python, so a newest-first search of a common word over one big
    index costs about half a second at 100,000 documents. Over partitions it reads the newest
    first and stops once it has enough hits. A best-match search visits every partition and
    merges their best (each partition scores with its own statistics)."""

    name = "whoosh"
    batch_size = 5_000

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._indexes: dict[int, Any] = {}
        self._searchers: dict[int, Any] = {}
        self.refresh()

    @classmethod
    def create(cls, path: Path) -> WhooshEngine:
        path.mkdir(parents=True, exist_ok=True)
        (path / MARKER).write_text(json.dumps({"partition_size": PARTITION_SIZE}))
        return cls(path)

    @classmethod
    def open(cls, path: Path) -> WhooshEngine:
        try:
            marker = json.loads((path / MARKER).read_text())
        except (OSError, ValueError):
            raise EngineDamaged(f"no Whoosh index in {path.name}") from None
        if not isinstance(marker, dict) or marker.get("partition_size") != PARTITION_SIZE:
            raise EngineDamaged(f"the Whoosh index has partitions of {marker!r}, this workbench uses {PARTITION_SIZE}")
        engine = cls(path)
        engine.max_seq()
        return engine

    def partition_index(self, number: int, create: bool = False) -> Any:
        """The Whoosh index of a partition (made empty when ``create`` and missing)."""
        with self._lock:
            return self._partition_index(number, create)

    def _partition_index(self, number: int, create: bool = False) -> Any:
        if number not in self._indexes:
            path = self._path / f"p{number:06d}"
            if create and not whoosh_index.exists_in(str(path)):
                path.mkdir(exist_ok=True)
                self._indexes[number] = whoosh_index.create_in(str(path), _schema())
            else:
                index = _guarded(lambda: whoosh_index.open_dir(str(path)))
                if set(index.schema.names()) != set(_schema().names()):
                    raise EngineDamaged(f"Whoosh partition {number} has other fields than this workbench writes")
                self._indexes[number] = index
        return self._indexes[number]

    def _numbers(self) -> list[int]:
        """Partitions on disk with an index in them (a writer may be creating the next one)."""
        found = (p for p in self._path.glob("p*") if p.name[1:].isdigit() and whoosh_index.exists_in(str(p)))
        return sorted(int(p.name[1:]) for p in found)

    def refresh(self) -> None:
        """Reopen the partitions another commit changed. A commit of another process replaces
        the table of contents and merged segments' files while this one reads them: a file gone
        between listing and opening is read again, a few times, before the index is called damaged."""
        with self._lock:
            for attempt in range(REOPEN_ATTEMPTS):
                try:
                    self._reopen_changed()
                    return
                except (OSError, EngineDamaged) as error:
                    if attempt == REOPEN_ATTEMPTS - 1:
                        raise error if isinstance(error, EngineDamaged) else EngineDamaged(f"Whoosh failed reading the index ({error})") from None
                    time.sleep(0.02 * (attempt + 1))

    def _reopen_changed(self) -> None:
        for number in self._numbers():
            searcher = self._searchers.get(number)
            if searcher is not None and _guarded(searcher.up_to_date):
                continue
            # Reopened rather than Searcher.refresh(), which can fail when a concurrent
            # commit merged the segments it holds.
            self._searchers[number] = _guarded(self._partition_index(number).searcher)
            if searcher is not None:
                searcher.close()

    def max_seq(self) -> int:
        with self._lock:
            for number in sorted(self._searchers, reverse=True):
                hits = _guarded(lambda n=number: [hit["seq"] for hit in self._searchers[n].search(Every(), limit=1, sortedby="seq", reverse=True)])
                if hits:
                    return int(hits[0])
        return 0

    def count(self) -> int:
        with self._lock:
            return sum(int(searcher.doc_count()) for searcher in self._searchers.values())

    def writer(self, bulk: bool = False) -> EngineWriter:
        return WhooshWriter(self, bulk)

    def search(self, root: Node, fields: list[str], filters: SearchFilters, newest_first: bool, limit: int) -> list[tuple[int, float]]:
        query = self._compile(root, fields)
        allowed = WAnd([WOr([Term(name, v) for v in values]) if len(values) > 1 else Term(name, values[0]) for name, values in filters.allowed().items()])
        hits: list[tuple[int, float]] = []
        with self._lock:
            if self._searchers is None:
                raise EngineDamaged("this Whoosh engine was closed")
            for number in sorted(self._searchers, reverse=True):
                if newest_first and len(hits) >= limit:
                    break
                searcher = self._searchers[number]
                if newest_first:
                    wanted = limit - len(hits)
                    found = _guarded(lambda s=searcher, n=wanted: s.search(query, filter=allowed, limit=n, sortedby="seq", reverse=True))
                    hits += [(int(hit["seq"]), 0.0) for hit in found]
                else:
                    found = _guarded(lambda s=searcher: s.search(query, filter=allowed, limit=limit))
                    hits += [(int(hit["seq"]), float(hit.score or 0.0)) for hit in found]
        return hits if newest_first else sorted(hits, key=lambda hit: (-hit[1], -hit[0]))[:limit]

    def _compile(self, node: Node, fields: list[str]) -> Query:
        if isinstance(node, Match):
            per_field = [self._match(node, name) for name in ([node.field] if node.field else fields)]
            return per_field[0] if len(per_field) == 1 else WOr(per_field)
        if isinstance(node, Everything):
            return Every()
        if isinstance(node, And):
            positive, negative = split_negatives(node.children)
            query = WAnd([self._compile(c, fields) for c in positive]) if len(positive) > 1 else self._compile(positive[0], fields)
            return AndNot(query, WOr([self._compile(c, fields) for c in negative])) if negative else query
        if isinstance(node, Or):
            return WOr([self._compile(c, fields) for c in node.children])
        if isinstance(node, Not):  # normalized queries only hold a Not inside an And
            return AndNot(Every(), self._compile(node.child, fields))
        raise TypeError(f"not a query node: {node!r}")

    @staticmethod
    def _match(match: Match, field: str) -> Query:
        if not match.is_phrase:
            return Prefix(field, match.words[0]) if match.prefix else Term(field, match.words[0])
        # A phrase across a left-out long token has a gap in its positions: allow it as slop.
        slop = 1 + max(b - a - 1 for a, b in zip(match.positions, match.positions[1:]))
        if match.prefix:
            return Sequence([Term(field, w) for w in match.words[:-1]] + [Prefix(field, match.words[-1])], slop=slop)
        return Phrase(field, list(match.words), slop=slop)

    def close(self) -> None:
        with self._lock:
            searchers, self._searchers = self._searchers, None  # type: ignore[assignment]
            for searcher in (searchers or {}).values():
                searcher.close()


def _guarded(action: Any) -> Any:
    try:
        return action()
    except EngineDamaged:
        raise
    except Exception as error:  # Whoosh raises many kinds on a missing or damaged file
        raise EngineDamaged(f"Whoosh failed reading the index ({type(error).__name__}: {str(error)[:160]})") from None
