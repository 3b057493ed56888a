"""A context graph's states that carry tool call specs, field for field as the hosted API's
``ActionState``, ``DecisionState``, ``ReflectionState`` and ``ToolCallState`` (the input shapes of
``create_service_hierarchical_state_machine_version``), and the tool call spec they share.

One workbench allowance: a spec's ``tool_id`` may hold a tool's *name* instead of its id, because
ids differ from one data directory (or organization) to the next; ``workbench graph check`` says
which one a file uses and gives the graph with ids in their place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from pydantic import Field, StringConstraints

from workbench.core.models import ApiModel, InvocationMetadata
from workbench.core.persistence import ResultPersistence
from workbench.core.models import EngageUserInvocationMetadata, StateTransitionInvocationMetadata, ToolCallStateInvocationMetadata
from workbench.names import OBJECT_ID, OBJECT_ID_PATTERN

StrippedNonemptyString = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
StateOrRefName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]+$")]
ExternalStateName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+$")]
NextState = Union[StateOrRefName, tuple[ExternalStateName, StateOrRefName]]
FillerDelay = Annotated[float, Field(gt=0, le=10)]
"""Seconds before an audio filler plays: more than 0, at most 10."""
Fillers = Annotated[list[StrippedNonemptyString], Field(max_length=5)]

TOOL_REFERENCE_PATTERN = r"^[a-z0-9_]+$"
"""A tool id (24 lowercase hex characters) or, in workbench files, a tool name."""


class ToolCallSpec(ApiModel):
    """A tool as a state names it: which tool, which versions, how its result persists."""

    tool_id: Annotated[str, StringConstraints(pattern=TOOL_REFERENCE_PATTERN)] = Field(description="The tool's id; workbench files may give its name.")
    version_constraint: str = Field(description="A PEP 440 version constraint of the tool.")
    additional_instruction: StrippedNonemptyString
    audio_fillers: Fillers
    audio_filler_triggered_after: FillerDelay
    result_persistence: ResultPersistence

    @property
    def names_tool_by_id(self) -> bool:
        return bool(OBJECT_ID.match(self.tool_id))


class ExitCondition(ApiModel):
    description: StrippedNonemptyString
    next_state: NextState


class ActionState(ApiModel):
    type: Literal["action"]
    name: StateOrRefName
    objective: StrippedNonemptyString
    actions: Annotated[list[StrippedNonemptyString], Field(min_length=1)]
    intra_state_navigation_guidelines: list[StrippedNonemptyString]
    action_guidelines: list[StrippedNonemptyString]
    boundary_constraints: list[StrippedNonemptyString]
    exit_conditions: list[ExitCondition]
    action_tool_call_specs: list[ToolCallSpec]
    exit_condition_tool_call_specs: list[ToolCallSpec]
    skip_active_memory_retrieval: bool


class DecisionState(ApiModel):
    type: Literal["decision"]
    name: StateOrRefName
    exit_conditions: list[ExitCondition]
    decision_guidelines: list[StrippedNonemptyString]
    objective: StrippedNonemptyString
    tool_call_specs: list[ToolCallSpec]
    audio_fillers: Fillers
    audio_filler_triggered_after: FillerDelay


class ReflectionState(ApiModel):
    type: Literal["reflection"]
    name: StateOrRefName
    problem: StrippedNonemptyString
    word_limit: Annotated[int, Field(gt=0)]
    next_state: NextState
    tool_call_specs: list[ToolCallSpec]
    audio_fillers: Fillers
    audio_filler_triggered_after: FillerDelay


class ToolCallState(ApiModel):
    type: Literal["tool-call"]
    name: StateOrRefName
    next_state: NextState
    designated_tool: ToolCallSpec
    designated_tool_call_params_generation_audio_fillers: Fillers
    designated_tool_call_params_generation_audio_filler_triggered_after: FillerDelay
    designated_tool_call_objective: StrippedNonemptyString
    designated_tool_call_context: StrippedNonemptyString
    designated_tool_call_guidances: list[StrippedNonemptyString]
    designated_tool_call_validations: list[StrippedNonemptyString]
    tool_call_specs: list[ToolCallSpec]


State = Annotated[Union[ActionState, DecisionState, ReflectionState, ToolCallState], Field(discriminator="type")]
STATE_MODELS: dict[str, type[ApiModel]] = {"action": ActionState, "decision": DecisionState, "reflection": ReflectionState, "tool-call": ToolCallState}
SPEC_LISTS: dict[str, tuple[str, ...]] = {
    "action": ("action_tool_call_specs", "exit_condition_tool_call_specs"),
    "decision": ("tool_call_specs",),
    "reflection": ("tool_call_specs",),
    "tool-call": ("tool_call_specs",),
}
"""Per state type, its lists of tool call specs (a tool-call state also has ``designated_tool``)."""
DESIGNATED = "designated_tool"


class GraphHeader(ApiModel):
    """What a graph file says about itself besides its states: the state machine they belong to
    (recorded in each invocation's metadata as its id and version)."""

    name: StateOrRefName
    id: Annotated[str, StringConstraints(pattern=OBJECT_ID_PATTERN)] | None = None
    version: Annotated[int, Field(ge=1)] = 1
    description: str = ""

    @property
    def machine_id(self) -> str:
        """The state machine's id: the file's, or one made from its name (the same every time)."""
        return self.id or hashlib.sha256(f"state-machine:{self.name}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class SpecLocation:
    """Where a spec sits in a state: ``action_tool_call_specs[0]`` or ``designated_tool``."""

    field: str
    index: int | None

    def __str__(self) -> str:
        return self.field if self.index is None else f"{self.field}[{self.index}]"

    @classmethod
    def parse(cls, text: str) -> SpecLocation | None:
        """``designated_tool`` or ``LIST[INDEX]``; None if the text is neither."""
        text = text.strip()
        if text == DESIGNATED:
            return cls(DESIGNATED, None)
        field, sep, rest = text.partition("[")
        if sep and rest.endswith("]") and rest[:-1].isdigit():
            return cls(field, int(rest[:-1]))
        return None


def raw_specs(state_type: str, state: dict[str, Any]) -> Iterator[tuple[SpecLocation, Any]]:
    """Every tool call spec of a state document (valid or not), with its location."""
    if state_type == "tool-call" and DESIGNATED in state:
        yield SpecLocation(DESIGNATED, None), state[DESIGNATED]
    for field in SPEC_LISTS.get(state_type, ()):
        items = state.get(field)
        if isinstance(items, list):
            for index, item in enumerate(items):
                yield SpecLocation(field, index), item


def invocation_metadata(
    state_type: str, location: SpecLocation, state_name: str, machine: tuple[str, int], transition_index: int, round_index: int
) -> InvocationMetadata:
    """The metadata an agent records with a call from this spec. An action's own tools run while
    it engages the user; a tool-call state's designated tool is the state's call; every other
    spec (exit conditions, decisions, reflections, parameter-generation helpers) runs while the
    agent navigates between states."""
    if location.field == DESIGNATED:
        return ToolCallStateInvocationMetadata(current_state_machine_and_version=machine, state_name=state_name)
    if state_type == "action" and location.field == "action_tool_call_specs":
        return EngageUserInvocationMetadata(current_state_machine_and_version=machine, tool_call_round_index=round_index)
    return StateTransitionInvocationMetadata(
        current_state_machine_and_version=machine, state_name=state_name, state_transition_index=transition_index, tool_call_round_index=round_index
    )
