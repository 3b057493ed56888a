"""The Whoosh engine (``whoosh-reloaded``): pure Python, no compiled dependency of its own, and
much slower than tantivy on large histories (see the README's search benchmark). Kept as a
supported engine, selected with ``WORKBENCH_SEARCH_ENGINE=whoosh``.

Text fields are analyzed by the shared tokenizer through ``SharedTokenizer``, so Whoosh indexes
exactly the tokens tantivy would. A Whoosh searcher reads files through shared handles and is not
safe to use from two threads at once, so searches of one engine take turns (one shared searcher).
"""

from __future__ import annotations

import threading
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
from workbench.search.syntax import And, Everything, Match, Node, Not, Or, split_negatives
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


def _schema() -> Schema:
    fields: dict[str, Any] = {"seq": NUMERIC(int, bits=64, signed=False, stored=True, sortable=True)}
    fields |= {name: ID() for name in FILTER_FIELDS}
    fields |= {name: TEXT(analyzer=SharedTokenizer(), phrase=True) for name in TEXT_FIELDS}
    return Schema(**fields)


class WhooshWriter(EngineWriter):
    """Whoosh writers are single-use: one per commit."""

    def __init__(self, index: Any, bulk: bool) -> None:
        self._index = index
        self._limitmb = 256 if bulk else 64
        self._writer: Any = None

    def add(self, documents: list[dict[str, Any]]) -> None:
        if self._writer is None:
            self._writer = self._index.writer(limitmb=self._limitmb)
        for fields in documents:
            self._writer.add_document(**fields)

    def commit(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.commit()  # merges small segments, so their number stays bounded

    def close(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.cancel()


class WhooshEngine(Engine):
    """A Whoosh index in one directory."""

    name = "whoosh"
    batch_size = 5_000

    def __init__(self, index: Any) -> None:
        self._index = index
        self._lock = threading.Lock()
        self._searcher: Any = self._guarded(index.searcher)

    @classmethod
    def create(cls, path: Path) -> WhooshEngine:
        path.mkdir(parents=True, exist_ok=True)
        return cls(whoosh_index.create_in(str(path), _schema()))

    @classmethod
    def open(cls, path: Path) -> WhooshEngine:
        try:
            index = whoosh_index.open_dir(str(path))
        except Exception as error:  # Whoosh raises many kinds on a missing or damaged directory
            raise EngineDamaged(f"Whoosh cannot read it ({type(error).__name__}: {str(error)[:160]})") from None
        if set(index.schema.names()) != set(_schema().names()):
            raise EngineDamaged("the Whoosh index has other fields than this workbench writes")
        engine = cls(index)
        engine.max_seq()
        return engine

    @staticmethod
    def _guarded(action: Any) -> Any:
        try:
            return action()
        except EngineDamaged:
            raise
        except Exception as error:
            raise EngineDamaged(f"Whoosh failed reading the index ({type(error).__name__}: {str(error)[:160]})") from None

    def max_seq(self) -> int:
        with self._lock:
            hits = self._guarded(lambda: [hit["seq"] for hit in self._searcher.search(Every(), limit=1, sortedby="seq", reverse=True)])
        return int(hits[0]) if hits else 0

    def count(self) -> int:
        with self._lock:
            return int(self._searcher.doc_count())

    def writer(self, bulk: bool = False) -> EngineWriter:
        return WhooshWriter(self._index, bulk)

    def refresh(self) -> None:
        with self._lock:
            # Reopened rather than Searcher.refresh(), which can fail when a concurrent commit
            # merged the segments it holds.
            fresh = self._guarded(self._index.searcher)
            self._searcher.close()
            self._searcher = fresh

    def search(self, root: Node, fields: list[str], filters: SearchFilters, newest_first: bool, limit: int) -> list[tuple[int, float]]:
        query = self._compile(root, fields)
        allowed = WAnd([WOr([Term(name, v) for v in values]) if len(values) > 1 else Term(name, values[0]) for name, values in filters.allowed().items()])
        with self._lock:
            if newest_first:
                results = self._guarded(lambda: self._searcher.search(query, filter=allowed, limit=limit, sortedby="seq", reverse=True))
            else:
                results = self._guarded(lambda: self._searcher.search(query, filter=allowed, limit=limit))
            return [(int(hit["seq"]), float(hit.score or 0.0) if not newest_first else 0.0) for hit in results]

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
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
