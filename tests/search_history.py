"""A real invocation history for the search tests: generated records plus hand-written ones that
hold what users paste (a URL, an identifier, a path, operators as words, a blob), in a real log
and catalog; and a reference matcher that says which records a parsed query must find."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from workbench.search.fields import FILTER_FIELDS, TEXT_FIELDS, document, field_texts
from workbench.search.syntax import And, Everything, Match, Node, Not, Or
from workbench.search.tokens import tokenize
from workbench.store.catalog import InvocationCatalog
from workbench.store.invocations import InvocationLog

BLOB = "Q" * 300  # longer than the longest indexed token
SPECIAL = [
    {"logs": ["GET https://example.com/orders?id=A-1001 returned 200"], "output": '{"x": 1}'},
    {"logs": ["rotated /var/log/x.log at night"], "output": "done"},
    {"output": "the answer is x AND y OR NOT z"},
    {"exception_message": "order A-1001 not found", "exception_type": "LookupError", "stack_trace": ["Traceback (most recent call last):", "LookupError: order A-1001 not found"]},
    {"output": f"alpha {BLOB} omega"},
    {"output": "quokka " * 30},
    {"output": "connection refused by the order gateway", "logs": ["retry 1", "retry 2"]},
]


def make_record(org_id: str, tool_id: str, number: int, created: datetime, output: str = "", logs: list[str] | None = None,
                exception_message: str = "", exception_type: str = "", stack_trace: list[str] | None = None,
                source: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """A record shaped like a recorded ToolInvocationInstance."""
    if exception_type:
        status: dict[str, Any] = {"succeeded": False, "exception_message": exception_message, "exception_type": exception_type, "exception_stack_trace": stack_trace or []}
    else:
        status = {"succeeded": True, "output": output}
    stamp = created.isoformat().replace("+00:00", "Z")
    return {
        "id": f"{number:024x}",
        "org_id": org_id,
        "created_at": stamp,
        "updated_at": stamp,
        "invocation_status": status,
        "invocation_source": source or {"type": "regular-conversation", "conversation_id": f"{number + 1:024x}", "user_id": "u"},
        "logs": logs or [],
        "duration_ms": 3,
        "tool_id": tool_id,
        "tool_version": {"major": 1, "minor": 0, "patch": 0},
        "inputs": {"input_parameters": {}, "invocation_mode": "regular", "nonsensitive_user_variables": {}, "sensitive_user_variables": {}},
    }


def append_special(log: InvocationLog, tool_id: str, start: int = 1 << 80) -> None:
    """The hand-written records, newest of all."""
    now = datetime.now(UTC) + timedelta(days=1)
    log.append_many([(make_record("acme", tool_id, start + i, now + timedelta(seconds=i), **fields), now) for i, fields in enumerate(SPECIAL)])


def open_catalog(home: Path) -> InvocationCatalog:
    return InvocationCatalog(home / "index" / "catalog.sqlite", InvocationLog(home / "invocations"))


def all_records(catalog: InvocationCatalog) -> list[tuple[int, dict[str, Any]]]:
    catalog.sync()
    rows = catalog.rows_after(0, 10**9)
    return list(zip([r[0] for r in rows], catalog.read([tuple(r[1:]) for r in rows])))


# -- the reference: what a query must find, by brute force over the records' tokens --------------


def _has(tokens: list, match: Match) -> bool:
    for i in range(len(tokens) - len(match.words) + 1):
        base = tokens[i].position
        ok = True
        for k, (word, offset) in enumerate(zip(match.words, match.positions)):
            token = tokens[i + k]
            last_prefix = match.prefix and k == len(match.words) - 1
            if token.position != base + offset or not (token.text == word or (last_prefix and token.text.startswith(word))):
                ok = False
                break
        if ok:
            return True
    return False


def matches(record: dict[str, Any], node: Node, fields: tuple[str, ...], cache: dict[str, list] | None = None) -> bool:
    """Whether the record satisfies the parsed query (the reference semantics)."""
    if cache is None:
        cache = {name: tokenize(text) for name, text in field_texts(record).items()}
    if isinstance(node, Everything):
        return True
    if isinstance(node, Match):
        return any(_has(cache[name], node) for name in ([node.field] if node.field else fields))
    if isinstance(node, Not):
        return not matches(record, node.child, fields, cache)
    if isinstance(node, And):
        return all(matches(record, child, fields, cache) for child in node.children)
    if isinstance(node, Or):
        return any(matches(record, child, fields, cache) for child in node.children)
    raise TypeError(node)


def expected_seqs(records: list[tuple[int, dict[str, Any]]], node: Node, fields: tuple[str, ...] = TEXT_FIELDS, **allowed: list[str]) -> list[int]:
    """Seqs of the org's records the query must find, newest first."""
    allowed.setdefault("org_id", ["acme"])
    found = []
    for seq, record in records:
        values = {name: document(seq, record).get(name, "") for name in FILTER_FIELDS}
        if all(values[name] in options for name, options in allowed.items()) and matches(record, node, fields):
            found.append(seq)
    return sorted(found, reverse=True)
