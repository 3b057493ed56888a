"""The parsed form of a search query: a small tree that each engine compiles to its own queries
and the highlighter reads to mark matches. It knows no engine."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Match:
    """Text to find: one token, or several at the given relative positions (a phrase; a word
    such as ``A-1001`` is one too). ``prefix``: the last token may be the start of a longer one.
    ``field`` None means every searched field."""

    words: tuple[str, ...]
    positions: tuple[int, ...]
    field: str | None = None
    prefix: bool = False

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


@dataclass(frozen=True)
class Everything:
    """Every document (the query ``*``; the positive side of a query that only excludes)."""


@dataclass(frozen=True)
class And:
    """All children must match."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """At least one child must match."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """Documents the child does not match (only ever a child of And)."""

    child: Node


Node = Match | Everything | And | Or | Not


@dataclass(frozen=True)
class ParsedQuery:
    """A user's query, parsed. ``literal``: the query language could not read the text (the
    ``reason`` says why), so it is searched as plain words."""

    text: str
    root: Node
    literal: bool = False
    reason: str | None = None


def positive_matches(node: Node) -> Iterator[Match]:
    """The matches that make a document a hit (those under a Not do not): what to highlight."""
    if isinstance(node, Match):
        yield node
    elif isinstance(node, And | Or):
        for child in node.children:
            yield from positive_matches(child)


def split_negatives(children: tuple[Node, ...]) -> tuple[list[Node], list[Node]]:
    """An And's children as (what must match, what must not)."""
    positive = [c for c in children if not isinstance(c, Not)]
    negative = [c.child for c in children if isinstance(c, Not)]
    return positive, negative
