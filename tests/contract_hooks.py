"""Schemathesis hooks for the contract run against the official Tools API document.

The run tests the server against the document as published, with these corrections, each a rule
the document gets wrong in a way no server could follow (``correct_errors``; the served document
states them so too, and the comparison of the two applies them), or states only in prose
(``state_prose_rules``) made machine-readable. They tighten what counts as valid; nothing is
loosened, no check is skipped:

- security: the document lists Bearer, X-ORG-ID and Basic as one requirement (all three at once,
  which one Authorization header cannot carry) and describes X-ORG-ID as optional: it becomes
  Bearer or Basic, each with or without X-ORG-ID. Sign-in's security names schemes the document
  never defines; its headers are required parameters already, so it is dropped.
- ``sort_by`` values: the descriptions list the fields; they become enums (``[+|-]field``).
- version constraints (``version``, ``versions``, the ``versions``/``version`` path parameters):
  "a semver constraint in the Python packaging specification" becomes a pattern of one.
- ``tag`` filters: "the syntax key:value" becomes a pattern; ``creator``: "the format
  org_id,user_id" too.
- environment variable names: ``[A-Z_]+`` is written unanchored; the names are ``^[A-Z_]+$``.
- the scaffold is a .tar.gz, documented as application/json: it becomes application/gzip.
- the "StrippedNonemptyString" texts (a description, tag keys and values) are stripped before
  their length is checked, as their name says: they must hold a non-whitespace character.
- ``Sec-WebSocket-Protocol``, a WebSocket handshake header on plain HTTP endpoints, is dropped: no
  server can tell its declared "array of strings" from any other header text.
"""

from __future__ import annotations

from typing import Any

import schemathesis

_RELEASE = r"[0-9]{1,4}(\.[0-9]{1,4}){0,2}"
_CLAUSE = rf"((==|!=|>=|<=|>|<){_RELEASE}|~=[0-9]{{1,4}}(\.[0-9]{{1,4}}){{1,2}})"
CONSTRAINT = rf"^({_RELEASE}|{_CLAUSE}(,{_CLAUSE}){{0,2}})$"
ANY_OR_CONSTRAINT = r"^(\*?|" + CONSTRAINT[1:-1] + r")$"
CREATOR = r"^[A-Za-z0-9_.-]{1,20},[A-Za-z0-9_.-]{1,20}$"
TAG_FILTER = r"^[A-Za-z0-9_]{1,20}:([A-Za-z0-9_]{0,20}|\*)$"
SORT_FIELDS = {
    "get-tools": ["name", "deprecated"],
    "get-tool-versions": ["created_at", "version.major", "version.minor", "version.patch", "deprecated"],
    "get-tool-invocations": ["created_at", "version.major", "version.minor", "version.patch", "tool_id", "invocation_source.type", "invocation_status.succeeded"],
}
TOKEN_SECURITY = [
    {"Bearer-Authorization": []},
    {"Bearer-Authorization": [], "Bearer-Authorization-Organization": []},
    {"Basic": []},
    {"Basic": [], "Bearer-Authorization-Organization": []},
]


def correct_errors(document: dict[str, Any]) -> None:
    """What the official document gets wrong, stated as the server (and its own document) does:
    the security requirement, the anchoring of variable names, the scaffold's content type."""
    document["security"] = TOKEN_SECURITY
    for operations in document["paths"].values():
        for operation in operations.values():
            if operation["operationId"] == "sign-in-with-api-key":
                operation["security"] = []
            if operation["operationId"] == "get-tool-scaffold-release":
                operation["responses"]["200"]["content"] = {"application/gzip": {"schema": {"type": "string", "format": "binary"}}}
    document["components"]["schemas"]["StrippedNonemptyString_A-Z______"]["pattern"] = "^[A-Z_]+$"


def state_prose_rules(document: dict[str, Any]) -> None:
    """The rules the official document states in prose, as schema, so that valid data is drawn
    valid (sort keys, constraints, filters, stripped texts; the WebSocket header dropped)."""
    for operations in document["paths"].values():
        for operation in operations.values():
            operation["parameters"] = [p for p in operation.get("parameters", []) if p["name"] != "Sec-WebSocket-Protocol"]
            for parameter in operation["parameters"]:
                _correct_parameter(operation["operationId"], parameter)
    schemas = document["components"]["schemas"]
    schemas["StrippedNonemptyString___w__s_____"]["pattern"] = r"^[\w\s]*\w[\w\s]*$"
    schemas["amigo_lib__pydantic__base_model__StrippedNonemptyString__1"]["pattern"] = r"\S"


def _correct_parameter(operation_id: str, parameter: dict[str, Any]) -> None:
    schema = parameter["schema"]
    name, where = parameter["name"], parameter["in"]
    if name == "sort_by":
        fields = SORT_FIELDS[operation_id]
        schema["items"] = {"type": "string", "enum": [f"{sign}{field}" for field in fields for sign in ("", "+", "-")]}
    elif name == "version" and where == "query":
        schema["items"] = {"type": "string", "pattern": ANY_OR_CONSTRAINT}
    elif name == "versions" and where == "query":
        schema["anyOf"] = [{"type": "string", "pattern": r"^$|" + CONSTRAINT}, {"type": "null"}]
    elif name == "creator":
        schema["items"] = {"type": "string", "pattern": CREATOR}
    elif name in ("versions", "version") and where == "path":
        schema["pattern"] = CONSTRAINT
    elif name == "tag":
        schema["items"] = {"type": "string", "pattern": TAG_FILTER}


@schemathesis.hook
def before_load_schema(context: Any, raw_schema: dict[str, Any]) -> None:
    correct_errors(raw_schema)
    state_prose_rules(raw_schema)
