"""Reading stored JSON so that what is already on disk never breaks a reader.

Two kinds of trouble are told apart:

* **damage** (a file cut short, emptied, overwritten with garbage, or of the wrong shape): the
  reader cannot know what the file meant, so it says so (``DataDamaged`` for a whole file, a
  reason string for one log line) and nothing is written over it;
* **bad values that JSON allows but text does not**: a lone UTF-16 surrogate (``"\\ud800"``) is
  legal JSON, yet no UTF-8 encoder (an HTTP response, a terminal, the search engine) accepts it.
  Stored ones are read back as U+FFFD, the replacement character, so one such value cannot make
  every later listing fail. A NUL (``"\\u0000"``) is valid text and is returned as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.errors import DataDamaged

LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"

Check = Callable[[Any], "str | None"]  # a parsed document -> what is wrong with its shape, or None


def scrub(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return LONE_SURROGATE.sub(REPLACEMENT, value)
    if isinstance(value, dict):
        return {scrub(key): scrub(item) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item) for item in value]
    return value


def _may_hold_surrogates(text: str) -> bool:
    # json.loads only makes a surrogate from an escape (a raw one is not valid UTF-8), so a
    # document without "\ud"/"\uD" needs no walk: the common case costs one substring search.
    return "\\ud" in text or "\\uD" in text


def holds_lone_surrogate(raw: bytes) -> bool:
    """Whether the JSON text ``raw`` holds a lone surrogate, which :func:`parse` reads back as
    U+FFFD (a surrogate pair, as ``json.dumps`` writes any character beyond U+FFFF, is fine)."""
    if b"\\ud" not in raw and b"\\uD" not in raw:
        return False
    value = json.loads(raw)
    return bool(scrub(value) != value)


def parse(raw: bytes) -> Any:
    """Strict UTF-8 JSON, lone surrogates replaced. Raises ``ValueError`` saying what is wrong."""
    if not raw.strip():
        raise ValueError("it is an empty file" if not raw else f"it holds nothing but {len(raw)} blank character(s)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"it is not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start:,})") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        if error.pos >= len(text.rstrip()):
            raise ValueError(f"it ends in the middle of its JSON after {len(raw):,} bytes (cut short?)") from None
        raise ValueError(f"it is not valid JSON: {error.msg[:1].lower()}{error.msg[1:]} at line {error.lineno}, column {error.colno}") from None
    except RecursionError:
        raise ValueError("its JSON is nested too deeply to read") from None
    return scrub(value) if _may_hold_surrogates(text) else value


def load(path: Path, check: Check) -> Any | None:
    """The document at ``path``, or None if there is no file yet (a new data directory).

    Raises :class:`DataDamaged` naming the file and what is wrong with it.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise DataDamaged(path, "it is a directory, not a file") from None
    except OSError as error:
        raise DataDamaged(path, f"it cannot be read ({error.strerror or error})") from None
    try:
        value = parse(raw)
    except ValueError as error:
        raise DataDamaged(path, str(error)) from None
    problem = check(value)
    if problem:
        raise DataDamaged(path, problem)
    return value


def check_tables(value: Any) -> str | None:
    """The shape of a TinyDB file: {table: {"<document id>": {document}}}."""
    if not isinstance(value, dict):
        return f"it holds a JSON {type(value).__name__}, not an object of tables"
    for table, documents in value.items():
        if not isinstance(documents, dict):
            return f"its table {table!r} is a JSON {type(documents).__name__}, not an object of documents"
        for doc_id, document in documents.items():
            if not (doc_id.isascii() and doc_id.isdigit()) or not isinstance(document, dict):
                return f"its table {table!r} has a malformed document under the id {doc_id[:40]!r}"
    return None


def check_string_map(value: Any) -> str | None:
    """The shape of the secrets file: {reference: value}, all strings."""
    if not isinstance(value, dict):
        return f"it holds a JSON {type(value).__name__}, not an object of values"
    for key, item in value.items():
        if not isinstance(item, str):
            return f"the value under {key[:40]!r} is a JSON {type(item).__name__}, not a string"
    return None
