"""The one tokenizer of search: indexing (both engines), query parsing and highlighting use it.

Logs are not prose, so nothing is dropped for being short or common: ``x``, ``a`` and ``the`` are
words like any other. Text is split on every character that is not a letter or a digit and
lowercased, so an identifier such as ``A-1001`` becomes the tokens ``a``, ``1001``, a path
``/var/log/x.log`` becomes ``var log x log``, and the query parser turns such a word into a phrase
of its tokens. Only tokens of ``MAX_TOKEN_BYTES`` bytes or more (in UTF-8) are left out: they are
blobs (base64, minified data), not words anyone types.

The tokenizer is tantivy's ``simple`` tokenizer with a length filter and a lowercaser. It is one
implementation for both engines: tantivy indexes with it as the registered analyzer ``workbench``,
and the Whoosh engine, the query parser and the highlighter call it from Python. Two
implementations (say a Python regex and tantivy's) would disagree on edge cases of Unicode, and a
query token that the index tokenized differently is a silent miss.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import tantivy

ANALYZER_NAME = "workbench"
MAX_TOKEN_BYTES = 256


def build_analyzer() -> tantivy.TextAnalyzer:
    """The analyzer, as tantivy needs it registered on every index it opens."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_TOKEN_BYTES))
        .filter(tantivy.Filter.lowercase())
        .build()
    )


_ANALYZER = build_analyzer()  # stateless and safe to share between threads


class Token(NamedTuple):
    """One token of a text: its lowercased text, its position (left-out long tokens leave a gap,
    as they do in the index) and the character offsets of its original text."""

    text: str
    position: int
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text`` with positions and character offsets."""
    if not text:
        return []
    return [Token(t.text, t.position, t.char_offset_from, t.char_offset_to) for t in _ANALYZER.pre_tokenize(text).tokens]


def raw_tokens(text: str) -> list[Any]:
    """tantivy's own token objects (``text``, ``position``, ``char_offset_from``,
    ``char_offset_to``), for a caller that reads the offsets of only a few of them: reading
    every attribute of every token costs more than tokenizing."""
    return _ANALYZER.pre_tokenize(text).tokens if text else []


def words(text: str) -> list[str]:
    """Just the token texts of ``text`` (cheaper than ``tokenize``)."""
    return _ANALYZER.analyze(text) if text else []
