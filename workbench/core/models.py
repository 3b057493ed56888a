"""Resources of the Tools API, field for field, with the JSON keys of ``tools-openapi.json``.

Where the seed document and the OpenAPI description differ, both are served: invocations keep the
seed's ``logs`` and carry the OpenAPI ``inputs``; versions carry the seed's ``tool_repo``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from workbench.names import (
    ENVVAR_NAME_PATTERN,
    OBJECT_ID_PATTERN,
    TAG_TEXT_PATTERN,
    TOOL_NAME_PATTERN,
    USER_VARIABLE_PATTERN,
    version_label,
)

ObjectId = Annotated[str, StringConstraints(pattern=OBJECT_ID_PATTERN)]
"""A 24-hex-character identifier, as the hosted API uses for tools, versions and invocations."""

ToolName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, pattern=TOOL_NAME_PATTERN)
]
EnvVarName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, pattern=ENVVAR_NAME_PATTERN)
]
TagText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, pattern=TAG_TEXT_PATTERN)
]
NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
UserVariableName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, pattern=USER_VARIABLE_PATTERN)
]

InvocationMode = Literal["regular", "conversation-simulation"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class ApiModel(BaseModel):
    """Base of every API shape: unknown keys are rejected, so typos surface as 422."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Tag(ApiModel):
    key: str
    value: str | None


class ToolUserInfo(ApiModel):
    """A user as the tool resource records it (``org_id``, ``user_id``)."""

    org_id: str
    user_id: str


class VersionUserInfo(ApiModel):
    """A user as the tool version resource records it (``user_id``, ``user_org_id``)."""

    user_id: str
    user_org_id: str


class Version(ApiModel):
    major: int = Field(ge=0)
    minor: int = Field(ge=0)
    patch: int = Field(ge=0)

    def __str__(self) -> str:
        return version_label(self.major, self.minor, self.patch)


class ToolInstance(ApiModel):
    """A tool: a name, a description, tags and the names of its environment variables."""

    id: str
    org_id: str
    created_at: datetime
    updated_at: datetime
    name: str
    description: str
    deprecated: bool
    envvars: list[str]
    secret_envvars: list[str]
    tags: list[Tag]
    creator: ToolUserInfo
    updated_by: ToolUserInfo


class ToolVersionInstance(ApiModel):
    """An immutable, published version of a tool, pinned to a commit."""

    id: str
    org_id: str
    created_at: datetime
    updated_at: datetime
    tool_id: str
    version: Version
    required_envvars: list[str]
    required_secret_envvars: list[str]
    input_schema: dict[str, Any]
    tool_repo: Literal["team", "main"] = "main"
    tool_commit_hash: str
    amigo_scaffold_commit_hash: str
    project_directory: str
    lambda_version: int
    creator: VersionUserInfo
    updated_by: VersionUserInfo
    deprecated: bool


# -- invocations --------------------------------------------------------------------------------


class SucceededInvocationStatus(ApiModel):
    succeeded: Literal[True] = True
    output: str


class FailedInvocationStatus(ApiModel):
    succeeded: Literal[False] = False
    exception_message: str
    exception_type: str
    exception_stack_trace: list[str]


InvocationStatus = Annotated[
    Union[SucceededInvocationStatus, FailedInvocationStatus], Field(discriminator="succeeded")
]

StateMachineAndVersion = tuple[str, int]


class StateTransitionInvocationMetadata(ApiModel):
    type: Literal["state-transition"] = "state-transition"
    current_state_machine_and_version: StateMachineAndVersion
    state_name: str
    state_transition_index: int
    tool_call_round_index: int


class EngageUserInvocationMetadata(ApiModel):
    type: Literal["engage-user"] = "engage-user"
    current_state_machine_and_version: StateMachineAndVersion
    tool_call_round_index: int


class ToolCallStateInvocationMetadata(ApiModel):
    type: Literal["tool-call-state"] = "tool-call-state"
    current_state_machine_and_version: StateMachineAndVersion
    state_name: str


InvocationMetadata = Annotated[
    Union[
        StateTransitionInvocationMetadata,
        EngageUserInvocationMetadata,
        ToolCallStateInvocationMetadata,
    ],
    Field(discriminator="type"),
]


class RegularConversationInvocationSource(ApiModel):
    type: Literal["regular-conversation"] = "regular-conversation"
    user_id: str
    conversation_id: str | None
    interaction_id: str | None
    invocation_metadata: InvocationMetadata


class SimulationConversationInvocationSource(ApiModel):
    type: Literal["simulation-conversation"] = "simulation-conversation"
    simulation_unit_test_set_run_id: str | None
    unit_test_id: str | None
    run_index: int | None
    invocation_metadata: InvocationMetadata


class WorkbenchInvocationSource(ApiModel):
    """An invocation made from the workbench itself (its CLI, TUI or server), not by an agent's
    conversation. The hosted API has no such source; the workbench adds it so its own runs are
    told apart in the history."""

    type: Literal["workbench"] = "workbench"
    user_id: str
    interface: Literal["cli", "tui", "api"] = "cli"


InvocationSource = Annotated[
    Union[
        RegularConversationInvocationSource,
        SimulationConversationInvocationSource,
        WorkbenchInvocationSource,
    ],
    Field(discriminator="type"),
]


class ToolInvocationInstance(ApiModel):
    """One recorded invocation of a tool version, successful or not."""

    id: str
    org_id: str
    created_at: datetime
    updated_at: datetime
    invocation_status: InvocationStatus
    invocation_source: InvocationSource
    logs: list[str] = Field(default_factory=list)
    duration_ms: int
    tool_id: str
    tool_version: Version
    inputs: dict[str, Any] = Field(default_factory=dict)


# -- invoking -----------------------------------------------------------------------------------


class Input(ApiModel):
    """One input of an invoke or test request."""

    input_parameters: dict[str, Any]
    invocation_mode: InvocationMode
    nonsensitive_user_variables: dict[UserVariableName, str] = Field(
        default_factory=dict, max_length=20
    )
    sensitive_user_variables: dict[UserVariableName, str] = Field(
        default_factory=dict, max_length=20
    )


class SucceededInvocationResult(ApiModel):
    succeeded: Literal[True] = True
    output: str
    duration_ms: int


class FailedInvocationResult(ApiModel):
    succeeded: Literal[False] = False
    exception_message: str
    exception_type: str
    exception_stack_trace: list[str]
    duration_ms: int


InvocationResult = Annotated[
    Union[SucceededInvocationResult, FailedInvocationResult], Field(discriminator="succeeded")
]
