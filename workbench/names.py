"""The shapes of names and identifiers, defined once for every layer.

The API models (core), the stored records (store) and the rules of the service all read their
patterns and the "major.minor.patch" label from here.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

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


def new_id() -> str:
    """A fresh 24-hex-character id (the default id factory; tests inject their own)."""
    return secrets.token_hex(12)


def version_label(major: int, minor: int, patch: int) -> str:
    """The one way a version is written: ``major.minor.patch``."""
    return f"{major}.{minor}.{patch}"
