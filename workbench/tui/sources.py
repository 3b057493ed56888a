"""The invocation source types the app filters by, read from the core's model in one place (the
History filter uses them; when the core names its allowed values, this is the line to change)."""

from __future__ import annotations

import typing
from functools import cache

from workbench.core.models import InvocationSource


@cache
def source_types() -> tuple[str, ...]:
    """The ``type`` of each kind of invocation source the core records, in the model's order."""
    union = typing.get_args(InvocationSource)[0]  # Annotated[Union[...], discriminator]
    return tuple(str(kind.model_fields["type"].default) for kind in typing.get_args(union))
