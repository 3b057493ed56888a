"""Highlighted snippets of a hit, computed from the parsed query (not by an engine), so both
engines show the same fragments: the record's text is tokenized with the shared tokenizer and
every word, prefix and phrase of the query that makes a document a hit is marked where it occurs."""

from __future__ import annotations

import re
from typing import Any

from workbench.search.fields import TEXT_FIELDS, field_texts
from workbench.search.syntax import Match, Node, ParsedQuery, positive_matches
from workbench.search.tokens import raw_tokens

MARK_START, MARK_END = "\ue000", "\ue001"  # private-use characters around a match in a snippet
MAX_FRAGMENTS = 3
CONTEXT_CHARS = 40  # shown before the first and after the last match of a fragment
FRAGMENT_MATCH_CHARS = 80  # matches this close together share one fragment
BETWEEN = " … "


def snippets(record: dict[str, Any], query: ParsedQuery | Node, fields: list[str]) -> dict[str, str]:
    """For each searched field with a match (and each field the query names): up to three
    fragments around the matches, the matches wrapped in MARK_START / MARK_END."""
    root = query.root if isinstance(query, ParsedQuery) else query
    matches = list(positive_matches(root))
    texts = field_texts(record)
    found = {}
    for field in TEXT_FIELDS:
        wanted = [m for m in matches if m.field == field or (m.field is None and field in fields)]
        if not wanted or not texts[field]:
            continue
        lowered = texts[field].lower()
        if not any(m.words[0] in lowered for m in wanted):
            continue  # a cheap necessary condition: tokens are lowercased pieces of the text
        spans = _spans(texts[field], wanted)
        if spans:
            found[field] = _fragments(texts[field], spans)
    return found


def _spans(text: str, matches: list[Match]) -> list[tuple[int, int]]:
    """Character ranges of the matches in a text, sorted, overlapping ones merged."""
    by_first: dict[str, list[Match]] = {}
    prefixes = []  # single-word prefixes: the only matches a token can start without equalling
    for match in matches:
        if match.prefix and not match.is_phrase:
            prefixes.append(match.words[0])
        else:
            by_first.setdefault(match.words[0], []).append(match)
    tokens = raw_tokens(text)
    words = [token.text for token in tokens]
    starts = tuple(prefixes)
    spans = []
    for i, word in enumerate(words):
        if word in by_first:
            for match in by_first[word]:
                if _matches_at(tokens, words, i, match):
                    spans.append((tokens[i].char_offset_from, tokens[i + len(match.words) - 1].char_offset_to))
        if starts and word.startswith(starts):
            spans.append((tokens[i].char_offset_from, tokens[i].char_offset_to))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _matches_at(tokens: list[Any], words: list[str], i: int, match: Match) -> bool:
    if i + len(match.words) > len(words):
        return False
    base = tokens[i].position
    last = len(match.words) - 1
    for k, (word, offset) in enumerate(zip(match.words, match.positions)):
        if not (words[i + k] == word or (k == last and match.prefix and words[i + k].startswith(word))):
            return False
        if k and tokens[i + k].position != base + offset:
            return False
    return True


def _fragments(text: str, spans: list[tuple[int, int]]) -> str:
    """Spans grouped into fragments with some context; the three with the most matches, in
    text order."""
    groups: list[list[tuple[int, int]]] = []
    for span in spans:
        if groups and span[1] - groups[-1][0][0] <= FRAGMENT_MATCH_CHARS:
            groups[-1].append(span)
        else:
            groups.append([span])
    best = sorted(sorted(groups, key=lambda g: (-len(g), g[0][0]))[:MAX_FRAGMENTS], key=lambda g: g[0][0])
    return BETWEEN.join(_fragment(text, group) for group in best)


def _fragment(text: str, group: list[tuple[int, int]]) -> str:
    start = max(0, group[0][0] - CONTEXT_CHARS)
    while 0 < start < group[0][0] and text[start - 1].isalnum() and text[start].isalnum():
        start += 1  # do not begin inside a word
    end = min(len(text), group[-1][1] + CONTEXT_CHARS)
    while group[-1][1] < end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        end -= 1  # nor end inside one
    pieces, at = [], start
    for span_start, span_end in group:
        pieces += [text[at:span_start], MARK_START, text[span_start:span_end], MARK_END]
        at = span_end
    pieces.append(text[at:end])
    return "".join(pieces)


def split_marks(snippet: str) -> list[tuple[str, bool]]:
    """A snippet as (text, is_match) pieces, whitespace collapsed to single spaces, for a face
    to style."""
    flat = re.sub(r"\s+", " ", snippet).strip()
    pieces = flat.replace(MARK_END, MARK_START).split(MARK_START)
    return [(piece, index % 2 == 1) for index, piece in enumerate(pieces) if piece]
