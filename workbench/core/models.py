"""Resources of the Tools API, field for field, with the JSON keys of ``tools-openapi.json``.

Where the seed document and the OpenAPI description differ, both are served: invocations keep the
seed's ``logs`` and carry the OpenAPI ``inputs``; versions carry the seed's ``tool_repo``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema, field_validator

from workbench.core.sizes import (
    MAX_DESCRIPTION,
    MAX_ENVVAR_NAME,
    MAX_INPUT_PARAMETERS,
    MAX_TAG_TEXT,
    MAX_USER_VARIABLE_VALUE,
    MAX_USER_VARIABLES,
)
from workbench.names import INVOCATION_SOURCE_TYPES as INVOCATION_SOURCE_TYPES
from workbench.names import InvocationSourceType as InvocationSourceType
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
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ENVVAR_NAME, pattern=ENVVAR_NAME_PATTERN)
]
TagText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TAG_TEXT, pattern=TAG_TEXT_PATTERN)
]
NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_DESCRIPTION)]
UserVariableName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, pattern=USER_VARIABLE_PATTERN)
]

InvocationMode = Literal["regular", "conversation-simulation"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class ApiModel(BaseModel):
    """Base of every API shape: unknown keys are rejected, so typos surface as 422.

    Each model's validator is built when the model is first used, not when its module is
    imported (``defer_build``): a command uses a handful of the API's shapes, and building all
    of them would cost it more than its own work."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class RequestModel(ApiModel):
    """Base of request bodies and queries: unknown keys are ignored, as the hosted API ignores
    them (a program that sends a field this version does not know still runs)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)


def keyed_map(key: Any, value: Any, max_items: int) -> WithJsonSchema:
    """The JSON schema of a map whose keys and values are constrained, as the API states them
    (``propertyNames`` and ``additionalProperties``, not pydantic's ``patternProperties``)."""
    return WithJsonSchema({"type": "object", "propertyNames": key, "additionalProperties": value, "maxProperties": max_items})


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


InvocationSource = Annotated[
    Union[RegularConversationInvocationSource, SimulationConversationInvocationSource],
    Field(discriminator="type"),
]


# -- the workbench's own runs, as the spec's sources --------------------------------------------

InvocationOrigin = Literal["cli", "app", "api"]
"""Which face of the workbench ran an invocation (its CLI, its app, or ``workbench serve``)."""
INVOCATION_ORIGINS: tuple[InvocationOrigin, ...] = get_args(InvocationOrigin)
WORKBENCH_STATE_MACHINE = ("workbench", 1)
"""The state machine named in the metadata of the workbench's own runs: no agent ran them."""
ORIGIN_STATE_PREFIX = "workbench:"


def workbench_source(origin: InvocationOrigin, user_id: str, mode: InvocationMode) -> dict[str, Any]:
    """The spec's source for a run the workbench made itself: a ``conversation-simulation`` run
    is a simulation-conversation (without a test set run), a regular one a regular conversation
    of the workbench's user (without a conversation); both carry tool-call-state metadata whose
    state is ``workbench:<origin>``, so the history still tells where the run came from."""
    metadata = {"type": "tool-call-state", "current_state_machine_and_version": list(WORKBENCH_STATE_MACHINE), "state_name": ORIGIN_STATE_PREFIX + origin}
    if mode == "conversation-simulation":
        return {"type": "simulation-conversation", "simulation_unit_test_set_run_id": None, "unit_test_id": None, "run_index": None, "invocation_metadata": metadata}
    return {"type": "regular-conversation", "user_id": user_id, "conversation_id": None, "interaction_id": None, "invocation_metadata": metadata}


LEGACY_SOURCE_TYPE = "workbench"
"""The source type older workbenches recorded for their own runs (outside the spec); such records
are converted on read by :func:`spec_source`, never rewritten."""
_LEGACY_INTERFACES: dict[str, InvocationOrigin] = {"cli": "cli", "tui": "app", "api": "api"}


def spec_source(source: Any) -> Any:
    """A stored ``invocation_source`` as the spec allows it: an older workbench's
    ``{"type": "workbench", "user_id", "interface"}`` becomes a regular conversation of that user
    with ``workbench:<origin>`` metadata (whatever its mode: the catalog, which filters by the
    stored type, counts it as one); anything else is unchanged.
    A face that passes stored records through without validating them applies this too."""
    if isinstance(source, dict) and source.get("type") == LEGACY_SOURCE_TYPE:
        origin = _LEGACY_INTERFACES.get(str(source.get("interface")), "cli")
        return workbench_source(origin, str(source.get("user_id") or ""), "regular")
    return source


def invocation_origin(source: RegularConversationInvocationSource | SimulationConversationInvocationSource) -> InvocationOrigin | None:
    """Which face of the workbench made a run (``"cli"``, ``"app"``, ``"api"``), or None for a
    run from an agent's conversation or simulation."""
    metadata = source.invocation_metadata
    if isinstance(metadata, ToolCallStateInvocationMetadata):
        for origin in INVOCATION_ORIGINS:
            if metadata.state_name == ORIGIN_STATE_PREFIX + origin:
                return origin
    return None


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

    @field_validator("invocation_source", mode="before")
    @classmethod
    def _older_sources_read_as_the_spec(cls, source: Any) -> Any:
        return spec_source(source)


# -- invoking -----------------------------------------------------------------------------------


UserVariableValue = Annotated[str, StringConstraints(max_length=MAX_USER_VARIABLE_VALUE)]
UserVariables = Annotated[
    dict[UserVariableName, UserVariableValue],
    Field(max_length=MAX_USER_VARIABLES),
    keyed_map(
        {"type": "string", "minLength": 1, "pattern": USER_VARIABLE_PATTERN}, {"type": "string", "maxLength": MAX_USER_VARIABLE_VALUE}, MAX_USER_VARIABLES
    ),
]


class Input(RequestModel):
    """One input of an invoke or test request."""

    input_parameters: dict[str, Any]
    invocation_mode: InvocationMode
    nonsensitive_user_variables: UserVariables = Field(default_factory=dict)
    sensitive_user_variables: UserVariables = Field(default_factory=dict)

    @field_validator("input_parameters")
    @classmethod
    def _parameters_fit_the_log(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        size = len(json.dumps(parameters, ensure_ascii=False, default=str))
        if size > MAX_INPUT_PARAMETERS:
            raise ValueError(f"the input parameters are {size:,} characters of JSON; at most {MAX_INPUT_PARAMETERS:,} are accepted")
        return parameters


class InputBody(Input):
    """An input as the API takes it: both maps of user variables are given (the faces may omit them)."""

    nonsensitive_user_variables: UserVariables
    sensitive_user_variables: UserVariables


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
