"""Scenario files: a scripted conversation over a context graph. Each turn is one interaction of
the agent: the state it is in, the tool call spec that fires, the parameters the agent would
have generated, and what the turn is expected to show."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator, model_validator

from workbench.core.models import ApiModel, InvocationMode, UserVariableName
from workbench.core.persistence import PersistenceOutcome
from workbench.names import OBJECT_ID_PATTERN

ObjectIdText = Annotated[str, StringConstraints(pattern=OBJECT_ID_PATTERN)]
ScenarioName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+$", min_length=1, max_length=100)]
MAX_RUNS = 100
MAX_TURNS = 200


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Expectation(ApiModel):
    """What a turn should show; a field left out is not checked."""

    succeeded: bool | None = Field(default=None, description="Whether the tool call succeeds, as the agent sees it.")
    output_contains: list[str] = Field(default_factory=list, description="Texts the output contains.")
    output_fields: dict[str, Any] = Field(default_factory=dict, description="Fields of a JSON output (dotted paths) and their values.")
    error_contains: list[str] = Field(default_factory=list, description="Texts the error the agent sees contains.")
    persistence: PersistenceOutcome | None = Field(default=None, description="persisted, ephemeral, treated-as-ephemeral or persistence-error.")
    max_duration_ms: Annotated[int, Field(gt=0)] | None = None
    filler: bool | None = Field(default=None, description="Whether an audio filler would have been spoken.")

    _lists = field_validator("output_contains", "error_contains", mode="before")(_as_list)


class Turn(ApiModel):
    """One interaction: which spec of which state fires, with which parameters."""

    state: str = Field(min_length=1, description="The state the agent is in.")
    spec: str | None = Field(default=None, description="The spec's place in the state: designated_tool, or LIST[INDEX] such as action_tool_call_specs[0].")
    tool: str | None = Field(default=None, description="The tool, as the spec names it or by name; enough when one spec of the state names it.")
    parameters: dict[str, Any] = Field(default_factory=dict, description="The input parameters the agent would have generated.")
    user: str | None = Field(default=None, description="What the user said to start this interaction (shown in the log).")
    expect: Expectation = Field(default_factory=Expectation)

    @model_validator(mode="after")
    def _names_a_spec(self) -> Turn:
        if self.spec is None and self.tool is None:
            raise ValueError("name the tool call spec that fires: 'tool' (the tool) or 'spec' (designated_tool, or LIST[INDEX])")
        return self


class Scenario(ApiModel):
    """A scripted conversation: its graph, the mode of its tool calls, and its turns."""

    name: ScenarioName
    description: str = ""
    graph: str | None = Field(default=None, description="The context graph file, relative to the scenario file.")
    mode: InvocationMode = Field(default="conversation-simulation", description="conversation-simulation records simulation-conversation sources; regular records regular-conversation ones.")
    unit_test_id: ObjectIdText | None = Field(default=None, description="Recorded as the unit test id; made from the name when left out.")
    user_id: str | None = Field(default=None, description="The user of a regular conversation (default: the workbench user).")
    user_variables: dict[UserVariableName, str] = Field(default_factory=dict, max_length=20, description="Nonsensitive user variables every call gets.")
    turns: list[Turn] = Field(min_length=1, max_length=MAX_TURNS)

    @property
    def test_id(self) -> str:
        """The unit test id recorded with each call: the file's, or one made from the name."""
        return self.unit_test_id or hashlib.sha256(f"scenario:{self.name}".encode()).hexdigest()[:24]


class SimulationRequest(ApiModel):
    """What a simulation runs: a scenario, the graph document it refers to, and how many times.
    Scenarios run together (one command, one CI job) share a unit test set run id."""

    scenario: Scenario
    graph: dict[str, Any]
    runs: Annotated[int, Field(ge=1, le=MAX_RUNS)] = 1
    simulation_unit_test_set_run_id: ObjectIdText | None = Field(default=None, description="Given, runs join this set run; else a new one is made.")
