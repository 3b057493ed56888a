"""The shapes of names and identifiers, defined once for every layer.

The API models (core), the stored records (store) and the rules of the service all read their
patterns and the "major.minor.patch" label from here, and the faces the API's closed sets of
words (source types, searchable fields) they offer as choices: reading them here costs no
pydantic model (the CLI's help shows them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal, get_args

OBJECT_ID_PATTERN = r"^[a-f0-9]{24}$"
"""Tools, versions, invocations and API keys: 24 lowercase hex characters, as the hosted API."""
TOOL_NAME_PATTERN = r"^[a-z0-9_]+$"
ENVVAR_NAME_PATTERN = r"^[A-Z_]+$"
TAG_TEXT_PATTERN = r"^[\w\s]+$"
USER_VARIABLE_PATTERN = r"^[a-z_][a-z0-9_]+$"
ORG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

OBJECT_ID = re.compile(OBJECT_ID_PATTERN)
ORG = re.compile(ORG_PATTERN)

IdFactory = Callable[[], str]

InvocationSourceType = Literal["regular-conversation", "simulation-conversation"]
INVOCATION_SOURCE_TYPES: tuple[InvocationSourceType, ...] = get_args(InvocationSourceType)
"""The spec's invocation source types: the only values of the ``invocation_source_type`` filter
(the faces offer these)."""

QueryAgainst = Literal[
    "invocation_status.output",
    "invocation_status.exception_message",
    "invocation_status.exception_type",
    "invocation_status.exception_stack_trace",
    "logs",
]
QUERY_AGAINST_FIELDS: tuple[QueryAgainst, ...] = get_args(QueryAgainst)
"""The fields a search may look in: the spec's ``query_against`` values, and ``logs`` (the seed
document's, a workbench extra)."""


def new_id() -> str:
    """A fresh 24-hex-character id (the default id factory; tests inject their own)."""
    import secrets  # here, not at the top: `workbench --help` reads this module and makes no id

    return secrets.token_hex(12)


def version_label(major: int, minor: int, patch: int) -> str:
    """The one way a version is written: ``major.minor.patch``."""
    return f"{major}.{minor}.{patch}"
