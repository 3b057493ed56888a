"""The search query language: plain text first, with a few extras, and it never fails on text.

Words must all match (``connection refused``). The extras are ``"phrases"``, ``field:value`` (only
for the field names and aliases in ``QUERY_FIELD_NAMES``; any other ``word:`` is plain text, so a
URL is searched as written), ``prefix*``, ``AND`` / ``OR`` / ``NOT`` (upper case; ``-word``
too), parentheses, and ``*`` alone for everything. A word made of several tokens (``A-1001``, a
path, a URL) is a phrase of its tokens.

When the language cannot read the text (an unterminated quote, unbalanced parentheses, a dangling
operator, a lone ``AND``) the text is searched literally: each whitespace-separated chunk is a
phrase of its tokens and all must match. Only a blank query, one without a letter or digit, or
one over the caps below is refused (422), with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from workbench.errors import ValidationFailed
from workbench.search.fields import API_FIELDS, QUERY_FIELD_NAMES, index_fields
from workbench.search.snippets import MARK_END, MARK_START, snippets, split_marks
from workbench.search.syntax import And, Everything, Match, Node, Not, Or, ParsedQuery
from workbench.search.tokens import tokenize

__all__ = ["API_FIELDS", "MARK_END", "MARK_START", "ParsedQuery", "index_fields", "parse_query", "snippets", "split_marks"]

MAX_QUERY_CHARS = 1_000
MAX_CLAUSES = 100  # words and phrases
MAX_PREFIXES = 10  # each one expands to every indexed word it starts
MAX_DEPTH = 16  # parentheses and NOTs nested
OPERATORS = {"AND", "OR", "NOT"}
FIELD_PREFIX = re.compile(r"([A-Za-z_][\w.]*):(?=[^\s)])")


class Unreadable(Exception):
    """The query language cannot read the text; it is searched literally instead."""


@dataclass(frozen=True)
class Lexeme:
    """One piece of a query: a word, a phrase, a field name, a parenthesis or an operator."""

    kind: str  # WORD PHRASE FIELD LP RP AND OR NOT NEG
    text: str = ""


def parse_query(text: str) -> ParsedQuery:
    """A user's query, parsed; literal words when the query language cannot read it. Raises
    ValidationFailed (422) only for a blank query, one with nothing to search for, or one over
    the caps."""
    if not text or not text.strip():
        raise ValidationFailed('the search query is empty; type words to find, a "phrase", field:value or prefix*')
    if len(text) > MAX_QUERY_CHARS:
        raise ValidationFailed(f"the search query is {len(text):,} characters long; at most {MAX_QUERY_CHARS:,} are allowed")
    try:
        root, literal, reason = _Parser(_lex(text)).parse(), False, None
    except Unreadable as problem:
        root, literal, reason = _literal(text), True, str(problem)
    root = _normalize(root)
    if root is None:
        raise ValidationFailed(f"the search query {text!r} has no letters or digits to search for")
    _check_caps(root)
    return ParsedQuery(text=text, root=root, literal=literal, reason=reason)


def _lex(text: str) -> list[Lexeme]:
    lexemes: list[Lexeme] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            lexemes.append(Lexeme("LP" if char == "(" else "RP"))
            i += 1
        elif char == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise Unreadable("it has an unterminated quote")
            lexemes.append(Lexeme("PHRASE", text[i + 1 : end]))
            i = end + 1
        elif char == "-" and i + 1 < n and (text[i + 1].isalnum() or text[i + 1] in '"('):
            lexemes.append(Lexeme("NEG"))
            i += 1
        elif (field := FIELD_PREFIX.match(text, i)) and field.group(1).lower() in QUERY_FIELD_NAMES:
            lexemes.append(Lexeme("FIELD", QUERY_FIELD_NAMES[field.group(1).lower()]))
            i = field.end()
        else:
            end = i
            while end < n and not text[end].isspace() and text[end] not in "()":
                end += 1  # a quote inside a word is just a character (key="value")
            word = text[i:end]
            lexemes.append(Lexeme(word if word in OPERATORS else "WORD", word))
            i = end
    return lexemes


def _match(text: str, field: str | None, allow_prefix: bool) -> Node:
    """A word or phrase as a Match of its tokens (no words when it has no letter or digit)."""
    if allow_prefix and text == "*":
        return Everything()
    prefix = allow_prefix and text.endswith("*")
    tokens = tokenize(text.rstrip("*") if prefix else text)
    if not tokens:
        return Match((), (), field)
    first = tokens[0].position
    return Match(tuple(t.text for t in tokens), tuple(t.position - first for t in tokens), field, prefix)


class _Parser:
    """Recursive descent over the lexemes: OR binds loosest, then AND (or nothing) between
    terms, then NOT / -, then a field, a group, a phrase or a word."""

    def __init__(self, lexemes: list[Lexeme]) -> None:
        self.lexemes = lexemes
        self.at = 0
        self.depth = 0

    def peek(self) -> str | None:
        return self.lexemes[self.at].kind if self.at < len(self.lexemes) else None

    def take(self) -> Lexeme:
        self.at += 1
        return self.lexemes[self.at - 1]

    def parse(self) -> Node:
        node = self.parse_or(None)
        if self.peek() is not None:
            raise Unreadable("it has a ) without its (")
        return node

    def parse_or(self, field: str | None) -> Node:
        children = [self.parse_and(field)]
        while self.peek() == "OR":
            self.take()
            if self.peek() in (None, "RP", "OR", "AND"):
                raise Unreadable("it has an OR with nothing after it")
            children.append(self.parse_and(field))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self, field: str | None) -> Node:
        children = [self.parse_unary(field)]
        while self.peek() not in (None, "RP", "OR"):
            if self.peek() == "AND":
                self.take()
                if self.peek() in (None, "RP", "OR", "AND"):
                    raise Unreadable("it has an AND with nothing after it")
            children.append(self.parse_unary(field))
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_unary(self, field: str | None) -> Node:
        if self.peek() in ("NOT", "NEG"):
            word = "NOT" if self.take().kind == "NOT" else "-"
            if self.peek() in (None, "RP", "OR", "AND"):
                raise Unreadable(f"it has a {word} with nothing after it")
            return Not(self.nested(lambda: self.parse_unary(field)))
        return self.parse_primary(field)

    def parse_primary(self, field: str | None) -> Node:
        kind = self.peek()
        if kind is None:
            raise Unreadable("it ends where a word was expected")
        lexeme = self.take()
        if kind == "FIELD":
            if self.peek() not in ("WORD", "PHRASE", "LP"):
                raise Unreadable(f"{lexeme.text}: is not followed by a word, a phrase or a group")
            return self.parse_primary(lexeme.text)
        if kind == "LP":
            inner = self.nested(lambda: self.parse_or(field))
            if self.peek() != "RP":
                raise Unreadable("it has a ( that is not closed")
            self.take()
            return inner
        if kind == "PHRASE":
            return _match(lexeme.text, field, allow_prefix=False)
        if kind == "WORD":
            return _match(lexeme.text, field, allow_prefix=True)
        if kind == "RP":
            raise Unreadable("it has a ) without its (")
        raise Unreadable(f"it has an {kind} with nothing before it")

    def nested(self, parse: Callable[[], Node]) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ValidationFailed(f"the search query nests parentheses or NOTs more than {MAX_DEPTH} deep; simplify it")
        try:
            return parse()
        finally:
            self.depth -= 1


def _literal(text: str) -> Node:
    """The text as plain words: every whitespace-separated chunk a phrase of its tokens."""
    return And(tuple(_match(chunk, None, allow_prefix=False) for chunk in text.split()))


def _normalize(node: Node) -> Node | None:
    """Drop matches without words, flatten nested And/Or, and give every Not a positive side
    (engines match nothing with a query that only excludes). None: nothing left to search."""
    if isinstance(node, Match):
        return node if node.words else None
    if isinstance(node, Everything):
        return node
    if isinstance(node, Not):
        return _normalize(And((node,)))  # a NOT on its own: everything except
    kind = type(node)
    children: list[Node] = []
    for child in node.children:
        if kind is And and isinstance(child, Not):
            inner = _normalize(child.child)
            children += [Not(inner)] if inner is not None else []
            continue
        normalized = _normalize(child)
        if normalized is not None:
            children += normalized.children if isinstance(normalized, kind) else [normalized]
    if kind is And:
        positive = [c for c in children if not isinstance(c, Not | Everything)]
        negative = [c for c in children if isinstance(c, Not)]
        if positive or negative:
            children = (positive or [Everything()]) + negative
        else:
            children = children[:1]  # Everything, or nothing at all
    if not children:
        return None
    return children[0] if len(children) == 1 else kind(tuple(children))


def _check_caps(root: Node) -> None:
    matches, prefixes = 0, 0
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, Match):
            matches += 1
            prefixes += node.prefix
        elif isinstance(node, Not):
            stack.append(node.child)
        elif isinstance(node, And | Or):
            stack.extend(node.children)
    if matches > MAX_CLAUSES:
        raise ValidationFailed(f"the search query has {matches} words or phrases; at most {MAX_CLAUSES} are allowed")
    if prefixes > MAX_PREFIXES:
        raise ValidationFailed(f"the search query has {prefixes} prefix* words; at most {MAX_PREFIXES} are allowed")
