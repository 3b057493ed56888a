"""How each ``result_persistence`` mode of a tool call spec treats a result (the spec's rules)."""

from __future__ import annotations

from workbench.core.models import FailedInvocationResult, SucceededInvocationResult

PERSISTENCE_THRESHOLD = 5_000
MODES = ("ephemeral", "persisted-preferred", "persisted")


def persistence_outcomes(result: SucceededInvocationResult | FailedInvocationResult) -> dict[str, str]:
    """Mode -> what happens to this result in a conversation."""
    if not result.succeeded:
        return {mode: "the invocation failed; there is no output to keep" for mode in MODES}
    size = len(result.output)
    small = size < PERSISTENCE_THRESHOLD
    return {
        "ephemeral": "visible during the current interaction only, never kept in the conversation log",
        "persisted-preferred": "kept in future interaction logs" if small else f"treated as ephemeral: {size:,} characters is over {PERSISTENCE_THRESHOLD:,}",
        "persisted": "kept in future interaction logs" if small else f"error: {size:,} characters is over {PERSISTENCE_THRESHOLD:,}, the tool call fails",
    }
