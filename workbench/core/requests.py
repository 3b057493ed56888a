"""Request bodies, list queries and paginated responses of the Tools API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from workbench.core.models import (
    ApiModel,
    EnvVarName,
    Input,
    InvocationResult,
    NonEmptyText,
    ObjectId,
    TagText,
    ToolInstance,
    ToolInvocationInstance,
    ToolName,
    ToolVersionInstance,
    VersionUserInfo,
)

QUERY_AGAINST_FIELDS = (
    "invocation_status.output",
    "invocation_status.exception_message",
    "invocation_status.exception_type",
    "invocation_status.exception_stack_trace",
    "logs",
)
"""The fields a search may look in (the spec's ``query_against`` values)."""

TagMap = dict[TagText, TagText | None]
ProjectPath = Field(pattern=r"^[-\w\d_/]+$")


class CreateToolRequest(ApiModel):
    name: ToolName = Field(description="Unique among the org's non-deprecated tools.")
    description: NonEmptyText
    tags: TagMap = Field(default_factory=dict, max_length=20)


class CreateToolResponse(ApiModel):
    id: str


class ModifyToolRequest(ApiModel):
    """A field left null is left unchanged."""

    description: NonEmptyText | None = None
    tags: TagMap | None = Field(default=None, max_length=20)


class EnvVarInsert(ApiModel):
    name: EnvVarName
    value: str
    is_secret: bool


class EnvVarUpdate(ApiModel):
    name: EnvVarName
    value: str


class EnvVarDelete(ApiModel):
    name: EnvVarName


class ModifyEnvVarsRequest(ApiModel):
    """Inserts, updates and deletes, applied all or nothing."""

    inserts: list[EnvVarInsert] = Field(default_factory=list)
    updates: list[EnvVarUpdate] = Field(default_factory=list)
    deletes: list[EnvVarDelete] = Field(default_factory=list)


class ListToolsQuery(ApiModel):
    id: list[ObjectId] = Field(default_factory=list)
    deprecated: bool | None = None
    tag: list[str] = Field(default_factory=list)
    sort_by: list[str] = Field(default_factory=list)
    limit: int = Field(default=10, gt=0, le=20)
    continuation_token: int = Field(default=0, ge=0)


class ListVersionsQuery(ApiModel):
    deprecated: bool | None = None
    versions: str | None = None
    version_constraint: str | None = Field(default=None, description="The seed document's name for `versions`.")
    creator: list[str] = Field(default_factory=list)
    sort_by: list[str] = Field(default_factory=list)
    limit: int = Field(default=50, ge=0, le=50)
    continuation_token: int = Field(default=0, ge=0)


class InvocationFilters(ApiModel):
    tool_id: list[ObjectId] = Field(default_factory=list)
    invocation_source_type: list[str] = Field(default_factory=list)
    conversation_id: list[ObjectId] = Field(default_factory=list)
    simulation_unit_test_set_run_id: list[ObjectId] = Field(default_factory=list)
    succeeded: bool | None = None


class ListInvocationsQuery(InvocationFilters):
    version: list[str] = Field(default_factory=list)
    sort_by: list[str] = Field(default_factory=list)
    limit: int = Field(default=100, ge=0, le=100)
    continuation_token: int = Field(default=0, ge=0)


class SearchInvocationsQuery(InvocationFilters):
    query: str
    query_against: list[str] = Field(default_factory=list)
    order: Literal["newest", "relevance"] = Field(default="newest", description="Workbench extension: newest first, or best match first.")
    limit: int = Field(default=50, ge=1, le=100, description="Workbench extension: at most this many hits.")


class ToolFilterValues(ApiModel):
    tags: list[str]


class ListToolsResponse(ApiModel):
    tools: list[ToolInstance]
    has_more: bool
    continuation_token: int | None
    filter_values: ToolFilterValues | None


class VersionFilterValues(ApiModel):
    creators: list[VersionUserInfo]


class ListVersionsResponse(ApiModel):
    tool_versions: list[ToolVersionInstance]
    has_more: bool
    continuation_token: int | None
    filter_values: VersionFilterValues | None


class ListInvocationsResponse(ApiModel):
    tool_invocations: list[ToolInvocationInstance]
    has_more: bool
    continuation_token: int | None


class SearchInvocationsResponse(ApiModel):
    tool_invocations: list[ToolInvocationInstance]


class InvokeRequest(ApiModel):
    inputs: list[Input] = Field(min_length=1, max_length=10)


class InvokeResponse(ApiModel):
    invocation_results: list[InvocationResult]


class TestToolRequest(ApiModel):
    inputs: list[Input] = Field(min_length=1, max_length=10)
    commit_branch: str
    project_path: str = ProjectPath
    required_envvars: dict[str, str] = Field(default_factory=dict)
    required_secret_envvars: dict[str, str] = Field(default_factory=dict)


class PublishRequest(ApiModel):
    repo: Literal["team", "main"] = "main"
    project_path: str = ProjectPath
    bump_type: Literal["major", "minor", "patch"]


class PublishResponse(ApiModel):
    new_version: str


def body(model: ApiModel) -> dict[str, Any]:
    """The JSON body of a response, exactly as the API sends it."""
    return model.model_dump(mode="json")
