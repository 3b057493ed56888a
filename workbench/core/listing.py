"""Sorting and pagination shared by every list operation (tools, versions, invocations)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from workbench.errors import ValidationFailed

T = TypeVar("T")
K = TypeVar("K")
SortKey = Callable[[Any], Any]


def parse_sort_by(sort_by: Sequence[str], fields: Mapping[str, K]) -> list[tuple[K, bool]]:
    """``["+name", "-deprecated"]`` -> [(what to sort by, descending)]; an unknown field is a 422."""
    keys: list[tuple[K, bool]] = []
    for raw in sort_by:
        item = raw.strip()
        descending = item.startswith("-")
        field = item[1:] if item[:1] in "+-" else item
        if field not in fields:
            allowed = ", ".join(f"+{name}, -{name}" for name in fields)
            raise ValidationFailed(f"cannot sort by {raw!r}; allowed: {allowed}")
        keys.append((fields[field], descending))
    return keys


def sort_records(items: list[T], keys: list[tuple[SortKey, bool]]) -> list[T]:
    """Sort by several keys, each ascending or descending; the first key wins ties last."""
    result = list(items)
    for key, descending in reversed(keys):
        result.sort(key=key, reverse=descending)
    return result


def paginate(items: Sequence[T], limit: int, continuation_token: int) -> tuple[list[T], bool, int | None]:
    """One page from offset ``continuation_token``; returns (page, has_more, next token or None).
    A page of ``limit=0`` is empty and the last: a client following the tokens always stops."""
    if limit <= 0:
        return [], False, None
    end = continuation_token + limit
    page = list(items[continuation_token:end])
    has_more = end < len(items)
    return page, has_more, (end if has_more else None)
