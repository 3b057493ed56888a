"""How each ``result_persistence`` mode of a tool call spec treats a result: the spec's rules,
in one place, for the invoke preview and for conversation simulation.

The two documents that state the threshold agree on this reading, which the boundary tests pin:

- ``persisted-preferred``: kept in all future interaction logs if the result is *less than* 5,000
  characters; otherwise (5,000 and over) treated as ephemeral.
- ``persisted``: kept *unless more than* 5,000 characters (so 5,000 is kept); over that, the tool
  call fails with an error.
- ``ephemeral``: visible in the current interaction only, whatever its size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from workbench.core.models import FailedInvocationResult, SucceededInvocationResult

PERSISTENCE_THRESHOLD = 5_000
ResultPersistence = Literal["ephemeral", "persisted-preferred", "persisted"]
MODES: tuple[ResultPersistence, ...] = ("ephemeral", "persisted-preferred", "persisted")

PersistenceOutcome = Literal["persisted", "ephemeral", "treated-as-ephemeral", "persistence-error"]
"""What became of one result: kept in later logs; visible now only (by its mode, or because
persisted-preferred found it too long); or, in persisted mode, too long, so the call failed."""


@dataclass(frozen=True)
class PersistenceDecision:
    """One result under one mode: what happens to it, whether later interactions see it, and
    why, in words."""

    mode: ResultPersistence
    outcome: PersistenceOutcome
    kept: bool
    fails_call: bool
    explanation: str


def decide(mode: ResultPersistence, size: int) -> PersistenceDecision:
    """What ``mode`` does with a result of ``size`` characters."""
    limit = f"{PERSISTENCE_THRESHOLD:,}"
    if mode == "ephemeral":
        return PersistenceDecision(mode, "ephemeral", False, False, "visible during the current interaction only, never kept in the conversation log")
    if mode == "persisted-preferred":
        if size < PERSISTENCE_THRESHOLD:
            return PersistenceDecision(mode, "persisted", True, False, "kept in future interaction logs")
        return PersistenceDecision(mode, "treated-as-ephemeral", False, False, f"treated as ephemeral: {size:,} characters is not under {limit}, so later interactions do not see it")
    if size <= PERSISTENCE_THRESHOLD:
        return PersistenceDecision(mode, "persisted", True, False, "kept in future interaction logs")
    return PersistenceDecision(mode, "persistence-error", False, True, f"error: {size:,} characters is over {limit}, the tool call fails")


def persistence_outcomes(result: SucceededInvocationResult | FailedInvocationResult) -> dict[str, str]:
    """Mode -> what happens to this result in a conversation (the invoke preview)."""
    if not result.succeeded:
        return {mode: "the invocation failed; there is no output to keep" for mode in MODES}
    return {mode: decide(mode, len(result.output)).explanation for mode in MODES}
