"""What a graph check and a simulation return: typed, serializable (the HTTP endpoint sends them
as JSON, the remote service reads them back), and rendered by the faces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from workbench.core.models import ApiModel, InvocationMode, InvocationSource
from workbench.core.persistence import PersistenceOutcome, ResultPersistence


class SpecCheck(ApiModel):
    """One tool call spec of a graph, checked against the organization."""

    state: str
    state_type: str
    location: str = Field(description="designated_tool, or LIST[INDEX]")
    tool_ref: str = Field(description="The tool as the file names it.")
    referenced_by: Literal["id", "name"] | None = None
    tool_id: str | None = None
    tool_name: str | None = None
    version_constraint: str | None = None
    resolved_version: str | None = Field(default=None, description="The active version the constraint resolves to (the highest match).")
    active_versions: list[str] = Field(default_factory=list)
    result_persistence: ResultPersistence | None = None
    audio_fillers: list[str] = Field(default_factory=list)
    audio_filler_triggered_after: float | None = None
    input_schema: dict[str, Any] | None = None
    problems: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def label(self) -> str:
        """``state 'lookup' (action), action_tool_call_specs[0] (order_status)``."""
        return f"state {self.state!r} ({self.state_type}), {self.location} ({self.tool_name or self.tool_ref})"


class GraphCheck(ApiModel):
    """A context graph checked: each spec, and every problem, each naming its state and spec."""

    graph_name: str
    graph_version: int | None = None
    states: int
    specs: list[SpecCheck]
    problems: list[str] = Field(default_factory=list, description="Every problem, the states' and specs' included.")
    graph_problems: list[str] = Field(default_factory=list, description="Problems of the graph as a whole (its name, version, states list).")
    state_problems: dict[str, list[str]] = Field(default_factory=dict, description="State name -> problems of its own fields (not its specs').")
    notes: list[str] = Field(default_factory=list)
    resolved: dict[str, Any] | None = Field(default=None, description="The graph with tool ids in place of names (when it has no problems).")

    @property
    def ok(self) -> bool:
        return not self.problems

    def spec(self, state: str, location: str) -> SpecCheck | None:
        return next((s for s in self.specs if s.state == state and s.location == location), None)


class LogEntry(ApiModel):
    """One line of the interaction log an agent sees."""

    turn: int
    kind: Literal["user", "tool-call", "tool-result", "tool-error"]
    tool: str | None = None
    text: str
    current: bool = Field(description="From this turn's interaction (else kept from an earlier turn).")


class Omission(ApiModel):
    """A result of an earlier turn that this turn's log does not have, and why."""

    turn: int
    tool: str
    reason: str


class PersistenceView(ApiModel):
    """The persistence decision for a turn's result."""

    mode: ResultPersistence
    outcome: PersistenceOutcome
    kept: bool = Field(description="Later interactions see it.")
    characters: int
    explanation: str


class FillerTiming(ApiModel):
    """Whether the call ran past ``audio_filler_triggered_after``, and which filler was spoken."""

    triggered_after_s: float
    duration_ms: int
    fired: bool
    spoken: str | None
    note: str


class ExpectationResult(ApiModel):
    name: str
    passed: bool
    message: str


class TurnReport(ApiModel):
    """One turn of one run: the call, its result, the log at that turn, the expectations."""

    index: int
    state: str
    state_type: str
    spec: str
    tool_name: str
    tool_id: str
    version_constraint: str
    version: str
    mode: InvocationMode
    parameters: dict[str, Any]
    user: str | None = None
    invocation_id: str | None = None
    source: InvocationSource
    succeeded: bool = Field(description="As the agent sees it (a persisted result over the threshold fails the call).")
    tool_succeeded: bool = Field(description="Whether the tool's own run succeeded.")
    output: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    stack_trace: list[str] = Field(default_factory=list)
    logs: list[str] = Field(default_factory=list)
    duration_ms: int
    output_characters: int
    over_output_cap: bool
    persistence: PersistenceView
    filler: FillerTiming
    interaction_log: list[LogEntry]
    omitted: list[Omission] = Field(default_factory=list)
    expectations: list[ExpectationResult] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(e.passed for e in self.expectations)

    @property
    def title(self) -> str:
        return f"turn {self.index} · {self.state} · {self.tool_name} {self.version}"


class RunReport(ApiModel):
    run_index: int
    conversation_id: str | None = None
    turns: list[TurnReport]

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.turns)


class SimulationReport(ApiModel):
    """A scenario's runs, turn by turn, and whether every expectation held."""

    scenario: str
    description: str = ""
    mode: InvocationMode
    graph_name: str
    graph_version: int
    state_machine_id: str
    simulation_unit_test_set_run_id: str | None = None
    unit_test_id: str | None = None
    started_at: datetime
    duration_ms: int
    runs: list[RunReport]
    warnings: list[str] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.runs)

    def failures(self) -> list[str]:
        """Every failed expectation, naming its run and turn."""
        return [
            f"run {run.run_index}, {turn.title}: {e.message}"
            for run in self.runs
            for turn in run.turns
            for e in turn.expectations
            if not e.passed
        ]

    def invocation_ids(self) -> list[str]:
        return [t.invocation_id for r in self.runs for t in r.turns if t.invocation_id]


@dataclass(frozen=True)
class SimulationStep:
    """Progress: turn ``turn`` of ``turns`` in run ``run`` (0-based) of ``runs`` has finished."""

    run: int
    runs: int
    turn: int
    turns: int
    label: str

    @property
    def done(self) -> int:
        return self.run * self.turns + self.turn

    @property
    def total(self) -> int:
        return self.runs * self.turns


SimulationProgress = Callable[[SimulationStep], None]
