"""How large a request and each of its fields may be: what the workbench agrees to store.

The Tools API's document names no sizes; without them one 5 MB description slows every listing and
one 10 MB input becomes a 21 MB log line. These limits are documented (README, the served OpenAPI
document) and enforced at the service's door, so every face gets the same answer: a 422 that names
the field and its limit (a tool name over its limit is the spec's 400 "The tool name is too long";
a request body over its limit is a 413 before it is read whole).
"""

from __future__ import annotations

from typing import Any

MAX_BODY_BYTES = 1_048_576
"""A request body, in bytes (an invoke of 10 inputs at their largest fits)."""
MAX_JSON_DEPTH = 32
"""How deeply objects and arrays may nest in a request."""

MAX_TOOL_NAME = 64
MAX_DESCRIPTION = 4_000
MAX_TAGS = 20
MAX_TAG_TEXT = 128
"""A tag's key or value."""
MAX_ENVVAR_NAME = 128
MAX_ENVVAR_VALUE = 16_384
"""A variable's or a secret's value."""
MAX_ENVVAR_CHANGES = 100
"""Inserts, updates or deletes in one request (each)."""
MAX_INPUT_PARAMETERS = 65_536
"""One input's parameters, as JSON text."""
MAX_USER_VARIABLES = 20
MAX_USER_VARIABLE_VALUE = 4_096
MAX_BRANCH = 255
MAX_PROJECT_PATH = 255
MAX_SEARCH_QUERY = 1_000
MAX_VERSION_CONSTRAINT = 200
MAX_FILTER_VALUES = 100
"""Values of one repeatable query parameter (ids, tags, sort keys, versions)."""
MAX_FILTER_TEXT = 200
"""One value of a free-text query parameter (a tag filter, a sort key, a creator)."""
MAX_API_KEY_NAME = 100
MAX_USER_ID = 128


def unstorable_text(data: Any, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """What text in a request the workbench refuses to store, or None: a NUL character (it breaks
    environments and C strings), a lone surrogate (it cannot be written as UTF-8, so a stored one
    breaks every later read), or nesting deeper than ``max_depth``."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                return f"{where or 'the request'} {problem}"
        elif isinstance(value, (dict, list, tuple)):
            if depth >= max_depth:
                return f"{where or 'the request'} nests deeper than {max_depth} levels"
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                path = f"{where}.{key}" if where else str(key)
                if isinstance(key, str):
                    problem = _text_problem(key)
                    if problem:
                        return f"a key in {where or 'the request'} {problem}"
                stack.append((item, path, depth + 1))
    return None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which cannot be stored"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (an unpaired \\ud800-\\udfff), which is not valid Unicode text"
    return None
