"""The search query language (Whoosh's: words, "phrases", field:value, wild*cards, AND/OR/NOT,
parentheses), the API's field names, and highlighted snippets of hits."""

from __future__ import annotations

import re
from typing import Any

from whoosh import highlight
from whoosh.analysis import StandardAnalyzer
from whoosh.qparser import MultifieldParser
from whoosh.query import And, NullQuery, Or, Query, Term

from workbench.errors import BadRequest, ValidationFailed
from workbench.search.index import TEXT_FIELDS, make_schema

# The API's names for the searchable fields, and the index's.
API_FIELDS = {
    "invocation_status.output": "output",
    "invocation_status.exception_message": "exception_message",
    "invocation_status.exception_type": "exception_type",
    "invocation_status.exception_stack_trace": "stack_trace",
    "logs": "logs",
}
# What a user may write before a colon in a query.
ALIASES = {
    "output": ["invocation_status.output"],
    "exception_message": ["invocation_status.exception_message", "message"],
    "exception_type": ["invocation_status.exception_type", "type"],
    "stack_trace": ["invocation_status.exception_stack_trace", "exception_stack_trace", "trace"],
    "logs": ["log"],
}
CANONICAL = {field: field for field in TEXT_FIELDS} | {alias: field for field, names in ALIASES.items() for alias in names}
FIELD_PREFIX = re.compile(r'(?:(?<=\s)|^|(?<=\())([A-Za-z_][\w.]*):(?=\S)')
MARK_START, MARK_END = "\ue000", "\ue001"  # private-use characters around a match in a snippet


def index_fields(query_against: list[str]) -> list[str]:
    """API field names -> index fields; all of them when none are given."""
    if not query_against:
        return list(TEXT_FIELDS)
    unknown = [f for f in query_against if f not in API_FIELDS]
    if unknown:
        raise ValidationFailed(f"cannot search {', '.join(unknown)}; query_against may be: {', '.join(API_FIELDS)}")
    return [API_FIELDS[f] for f in query_against]


def parse_query(text: str, fields: list[str]) -> Query:
    """Parse a user's query, or say clearly (400) what is wrong with it."""
    if not text or not text.strip():
        raise BadRequest("the search query is empty; give words, a \"phrase\", field:value or a wild*card")
    if text.count('"') % 2:
        raise BadRequest(f"the search query has an unclosed quote: {text}")
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            break
    if depth != 0:
        raise BadRequest(f"the search query has unbalanced parentheses: {text}")
    canonical = _canonical_fields(text)
    parser = MultifieldParser(fields, schema=make_schema())
    try:
        query = parser.parse(canonical)
    except Exception as error:  # the parser is lenient; anything it still rejects is the user's query
        raise BadRequest(f"the search query could not be parsed: {error}") from None
    if query is NullQuery or (not query.is_leaf() and not query.children()):
        raise BadRequest(f"the search query {text!r} has nothing to search for (only stop words?)")
    return query


def _canonical_fields(text: str) -> str:
    """Rewrite every field name the user may write (API names, short aliases) to the index's,
    outside quoted phrases; an unknown one is a 400."""
    parts = re.split(r'("[^"]*")', text)

    def rename(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in CANONICAL:
            raise BadRequest(
                f"unknown field {name!r} in the search query; fields: {', '.join(sorted(CANONICAL))} "
                "(to search for text with a colon, such as a URL, put it in quotes)"
            )
        return f"{CANONICAL[name]}:"

    return "".join(part if part.startswith('"') else FIELD_PREFIX.sub(rename, part) for part in parts)


def filter_query(org_id: str, **values: list[str] | None) -> Query:
    """org_id=... AND each given filter (a list means any of its values)."""
    parts: list[Query] = [Term("org_id", org_id)]
    for field, options in values.items():
        if options:
            parts.append(Or([Term(field, option) for option in options]) if len(options) > 1 else Term(field, options[0]))
    return And(parts)


class _Marks(highlight.Formatter):
    """Matches wrapped in private-use marks that each face renders its own way."""

    between = " … "

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return f"{MARK_START}{highlight.get_text(text, token, replace)}{MARK_END}"


_ANALYZER = StandardAnalyzer()


def snippets(record: dict[str, Any], terms: set[tuple[str, bytes]], fields: list[str]) -> dict[str, str]:
    """For each searched field with a match: up to three fragments around the matches."""
    status = record.get("invocation_status") or {}
    texts = {
        "output": status.get("output") or "",
        "exception_message": status.get("exception_message") or "",
        "exception_type": status.get("exception_type") or "",
        "stack_trace": "\n".join(status.get("exception_stack_trace") or []),
        "logs": "\n".join(record.get("logs") or []),
    }
    found = {}
    for field in fields:
        words = {t.decode() if isinstance(t, bytes) else t for f, t in terms if f == field}
        if not words or not texts[field]:
            continue
        fragment = highlight.highlight(texts[field], frozenset(words), _ANALYZER, highlight.ContextFragmenter(maxchars=160, surround=40), _Marks(), top=3)
        if fragment:
            found[field] = fragment
    return found


def split_marks(snippet: str) -> list[tuple[str, bool]]:
    """A snippet as (text, is_match) pieces, whitespace collapsed to single spaces, for a face
    to style."""
    flat = re.sub(r"\s+", " ", snippet).strip()
    pieces = flat.replace(MARK_END, MARK_START).split(MARK_START)
    return [(piece, index % 2 == 1) for index, piece in enumerate(pieces) if piece]
