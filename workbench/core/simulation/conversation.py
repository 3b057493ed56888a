"""The interaction log an agent sees, turn by turn, under each call's ``result_persistence``.

A turn is one interaction. Its log holds what earlier turns left in the conversation, then this
turn's user message, tool call and result. What a later turn keeps of a call:

- ``ephemeral``: nothing; the result was for its own interaction only.
- ``persisted-preferred``: the call and its result if under 5,000 characters; otherwise nothing
  (treated as ephemeral), and each later turn notes what it does not have.
- ``persisted``: the call and its result up to 5,000 characters; over that the call itself
  failed with an error (the agent saw the error, not the output), and the failed call is kept.

A failed tool run is a result too: its error follows the same rules. User messages are always kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from workbench.core.persistence import PERSISTENCE_THRESHOLD, PersistenceDecision, ResultPersistence, decide
from workbench.core.simulation.report import LogEntry, Omission, PersistenceView

TOO_LARGE_TO_PERSIST = "ToolResultTooLarge"


@dataclass(frozen=True)
class CallOutcome:
    """What one turn's call came to, as the agent sees it."""

    succeeded: bool
    content: str
    error_type: str | None
    error_message: str | None
    persistence: PersistenceView


def call_outcome(mode: ResultPersistence, output: str | None, error_type: str | None, error_message: str | None) -> CallOutcome:
    """Apply ``mode`` to a tool run's output (or error)."""
    if output is None:
        text = f"{error_type}: {error_message}"
        view = _view(decide(mode, len(text)), len(text))
        view.explanation = f"the tool failed; its error: {view.explanation}"
        return CallOutcome(False, text, error_type, error_message, view)
    decision = decide(mode, len(output))
    if decision.fails_call:
        message = (
            f"the tool's result is {len(output):,} characters; result_persistence 'persisted' allows at most "
            f"{PERSISTENCE_THRESHOLD:,}, so the tool call failed (return less, or use persisted-preferred or ephemeral)"
        )
        return CallOutcome(False, f"{TOO_LARGE_TO_PERSIST}: {message}", TOO_LARGE_TO_PERSIST, message, _view(decision, len(output)))
    return CallOutcome(True, output, None, None, _view(decision, len(output)))


def _view(decision: PersistenceDecision, size: int) -> PersistenceView:
    # a persisted call that failed for its size is kept as a failed call (its short error)
    kept = decision.kept or decision.fails_call
    explanation = decision.explanation + ("; later interactions see the failed call" if decision.fails_call else "")
    return PersistenceView(mode=decision.mode, outcome=decision.outcome, kept=kept, characters=size, explanation=explanation)


def call_text(tool: str, version: str, parameters: dict[str, Any]) -> str:
    return f"{tool} {version} {json.dumps(parameters, sort_keys=True, ensure_ascii=False)}"


@dataclass
class Conversation:
    """The conversation log of one run, built turn by turn."""

    kept: list[LogEntry] = field(default_factory=list)
    omitted: list[Omission] = field(default_factory=list)

    def turn(self, index: int, user: str | None, tool: str, version: str, parameters: dict[str, Any], outcome: CallOutcome) -> tuple[list[LogEntry], list[Omission]]:
        """This turn's log (what earlier turns kept, then this turn's entries) and what earlier
        turns left out; then remember what later turns keep of this one."""
        current = []
        if user:
            current.append(LogEntry(turn=index, kind="user", text=user, current=True))
        current.append(LogEntry(turn=index, kind="tool-call", tool=tool, text=call_text(tool, version, parameters), current=True))
        current.append(LogEntry(turn=index, kind="tool-result" if outcome.succeeded else "tool-error", tool=tool, text=outcome.content, current=True))
        log = [*self.kept, *current]
        omitted = list(self.omitted)
        self.kept += [entry.model_copy(update={"current": False}) for entry in current if outcome.persistence.kept or entry.kind == "user"]
        if not outcome.persistence.kept:
            self.omitted.append(Omission(turn=index, tool=tool, reason=outcome.persistence.explanation))
        return log, omitted
