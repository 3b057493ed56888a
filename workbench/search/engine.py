"""The engine interface: what the index manager needs of a full-text engine, and the engines.

An engine stores documents (``fields.document``) in one directory, compiles the parsed query
(``syntax``) to its own queries, and answers with (seq, score) pairs. It knows nothing of the
catalog, the checkpoint or the cross-process writer lock: the index manager (``index.py``) holds
those, and never lets two writers at one directory at once.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

from workbench.search.syntax import Node

ENGINES = {"tantivy": "workbench.search.tantivy_engine:TantivyEngine", "whoosh": "workbench.search.whoosh_engine:WhooshEngine"}


class EngineDamaged(Exception):
    """The engine's files are missing, unreadable or not what this workbench writes."""


class EngineBusy(Exception):
    """The engine's own writer lock is held (by a writer that ignores the workbench's lock)."""


@dataclass
class SearchFilters:
    """Exact-value filters a search is confined to: always one org; each list allows any of its
    values (empty: no filter); ``succeeded`` None: both."""

    org_id: str
    tool_id: list[str] = field(default_factory=list)
    source_type: list[str] = field(default_factory=list)
    conversation_id: list[str] = field(default_factory=list)
    sim_run_id: list[str] = field(default_factory=list)
    succeeded: bool | None = None

    def allowed(self) -> dict[str, list[str]]:
        """Field -> the values a hit may have, for every filter that applies."""
        values = {
            "org_id": [self.org_id],
            "tool_id": self.tool_id,
            "source_type": self.source_type,
            "conversation_id": self.conversation_id,
            "sim_run_id": self.sim_run_id,
            "succeeded": [] if self.succeeded is None else ["true" if self.succeeded else "false"],
        }
        return {name: list(dict.fromkeys(options)) for name, options in values.items() if options}


class EngineWriter(ABC):
    """Adds documents; what is committed survives a crash, what is not is lost whole."""

    @abstractmethod
    def add(self, documents: list[dict[str, Any]]) -> None:
        """Queue documents for the next commit."""

    @abstractmethod
    def commit(self) -> None:
        """Make every added document durable and visible to newly loaded searchers, at once."""

    @abstractmethod
    def close(self) -> None:
        """Discard what was not committed, finish background merges, release the engine's lock."""

    def __enter__(self) -> EngineWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class Engine(ABC):
    """One full-text index in one directory, with one shared searcher that threads may use at
    once. Reading errors surface as EngineDamaged."""

    name: ClassVar[str]
    batch_size: ClassVar[int]  # documents per commit while indexing

    @classmethod
    @abstractmethod
    def create(cls, path: Path) -> Engine:
        """A new, empty index in ``path`` (which must not hold one)."""

    @classmethod
    @abstractmethod
    def open(cls, path: Path) -> Engine:
        """The index in ``path``; raises EngineDamaged if it is missing or unreadable."""

    @abstractmethod
    def max_seq(self) -> int:
        """The highest seq in the index as of the loaded searcher (0 when empty)."""

    @abstractmethod
    def count(self) -> int:
        """How many documents the loaded searcher sees."""

    @abstractmethod
    def writer(self, bulk: bool = False) -> EngineWriter:
        """A writer (``bulk``: a rebuild, which may use more memory and threads). Raises
        EngineBusy when the engine's own lock is held."""

    @abstractmethod
    def refresh(self) -> None:
        """Load a searcher that sees the latest commit (from any process)."""

    @abstractmethod
    def search(self, root: Node, fields: list[str], filters: SearchFilters, newest_first: bool, limit: int) -> list[tuple[int, float]]:
        """Up to ``limit`` hits as (seq, score): newest first (score 0.0), or best match first."""

    @abstractmethod
    def close(self) -> None:
        """Let go of the searcher and files."""


def engine_class(name: str) -> type[Engine]:
    """The engine of that name, imported only when asked for (a command that never searches
    does not pay for loading an engine)."""
    if name not in ENGINES:
        raise ValueError(f"unknown search engine {name!r}; known: {', '.join(ENGINES)}")
    module, _, attribute = ENGINES[name].partition(":")
    return getattr(importlib.import_module(module), attribute)
