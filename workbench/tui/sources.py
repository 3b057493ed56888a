"""How the app names where an invocation came from: the spec's source types (the History filter's
values, from the core in one place) and, for the workbench's own runs, the face that made them."""

from __future__ import annotations

from workbench.core.models import INVOCATION_SOURCE_TYPES, ToolInvocationInstance, invocation_origin


def source_types() -> tuple[str, ...]:
    """The values the ``invocation_source_type`` filter takes (exactly the spec's)."""
    return tuple(INVOCATION_SOURCE_TYPES)


def source_label(invocation: ToolInvocationInstance) -> str:
    """``regular-conversation``, or ``regular-conversation (app)`` for a run the workbench made."""
    origin = invocation_origin(invocation.invocation_source)
    kind = invocation.invocation_source.type
    return f"{kind} ({origin})" if origin else kind
