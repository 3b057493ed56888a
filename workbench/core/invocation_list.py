"""The invocation list's documented extra filters (workbench extensions of the API's list
query): a date range and exception types."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from workbench.core.requests import ListInvocationsQuery
from workbench.core.time_window import TIME_BOUND_HELP, epoch_ms, window


class InvocationListQuery(ListInvocationsQuery):
    """The API's list query plus the workbench's extra filters."""

    created_after: str | None = Field(default=None, description=f"Workbench extension: invocations created at or after this ({TIME_BOUND_HELP}).")
    created_before: str | None = Field(default=None, description=f"Workbench extension: invocations created before this ({TIME_BOUND_HELP}).")
    exception_type: list[str] = Field(default_factory=list, description="Workbench extension: failed invocations with any of these exception types.")


def listed_extras(query: InvocationListQuery | None, now: datetime) -> dict[str, Any]:
    """The catalog filter's fields for the extra filters; none for a plain list query."""
    if query is None:
        return {}
    start, end = window(query.created_after, query.created_before, now, ("created_after", "created_before"))
    return {"created_from_ms": epoch_ms(start), "created_until_ms": epoch_ms(end), "exception_types": tuple(query.exception_type)}
