"""What is indexed of an invocation record, and the names a user may give its fields.

Both engines index the same document: the record's ``seq`` in the catalog (newest-first order and
the way back to the record), the filter fields as exact values, and the text fields through the
shared tokenizer.
"""

from __future__ import annotations

from typing import Any

from workbench.errors import ValidationFailed

TEXT_FIELDS = ("output", "exception_message", "exception_type", "stack_trace", "logs")
FILTER_FIELDS = ("org_id", "tool_id", "source_type", "conversation_id", "sim_run_id", "succeeded")

# The API's names for the searchable fields (``query_against``), and the index's.
API_FIELDS = {
    "invocation_status.output": "output",
    "invocation_status.exception_message": "exception_message",
    "invocation_status.exception_type": "exception_type",
    "invocation_status.exception_stack_trace": "stack_trace",
    "logs": "logs",
}
# What a user may write before a colon in a query, besides the index's own names.
ALIASES = {
    "output": ["invocation_status.output"],
    "exception_message": ["invocation_status.exception_message", "message"],
    "exception_type": ["invocation_status.exception_type", "type"],
    "stack_trace": ["invocation_status.exception_stack_trace", "exception_stack_trace", "trace"],
    "logs": ["log"],
}
QUERY_FIELD_NAMES = {field: field for field in TEXT_FIELDS} | {alias: field for field, names in ALIASES.items() for alias in names}


def index_fields(query_against: list[str]) -> list[str]:
    """API field names -> index fields; all of them when none are given. An unknown name is a
    422 that lists the allowed ones."""
    if not query_against:
        return list(TEXT_FIELDS)
    unknown = [f for f in query_against if f not in API_FIELDS]
    if unknown:
        raise ValidationFailed(f"cannot search {', '.join(unknown)}; query_against may be: {', '.join(API_FIELDS)}")
    return list(dict.fromkeys(API_FIELDS[f] for f in query_against))


def field_texts(record: dict[str, Any]) -> dict[str, str]:
    """The searchable text of a record, by index field (empty strings where it has none)."""
    fields = document(0, record)
    return {name: fields.get(name, "") for name in TEXT_FIELDS}


def document(seq: int, record: dict[str, Any]) -> dict[str, Any]:
    """The document both engines index for a record: seq, filter values and texts (empty values
    left out). Written out in one dict: it runs once per record of a rebuild."""
    status = record.get("invocation_status") or {}
    source = record.get("invocation_source") or {}
    fields = {
        "seq": seq,
        "org_id": record.get("org_id"),
        "tool_id": record.get("tool_id"),
        "source_type": source.get("type"),
        "conversation_id": source.get("conversation_id"),
        "sim_run_id": source.get("simulation_unit_test_set_run_id"),
        "succeeded": "true" if status.get("succeeded") else "false",
        "output": status.get("output"),
        "exception_message": status.get("exception_message"),
        "exception_type": status.get("exception_type"),
        "stack_trace": "\n".join(status.get("exception_stack_trace") or ()),
        "logs": "\n".join(record.get("logs") or ()),
    }
    return {name: value for name, value in fields.items() if value}
