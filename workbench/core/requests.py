"""Request bodies, list queries and paginated responses of the Tools API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, Field, StringConstraints

from workbench.core.models import (
    ApiModel,
    Description,
    EnvVarName,
    Input,
    InputBody,
    InvocationResult,
    InvocationSourceType,
    ObjectId,
    RequestModel,
    TagText,
    ToolInstance,
    ToolInvocationInstance,
    ToolName,
    ToolVersionInstance,
    VersionUserInfo,
    keyed_map,
)
from workbench.core.sizes import (
    MAX_BRANCH,
    MAX_ENVVAR_CHANGES,
    MAX_ENVVAR_NAME,
    MAX_ENVVAR_VALUE,
    MAX_FILTER_TEXT,
    MAX_FILTER_VALUES,
    MAX_PROJECT_PATH,
    MAX_SEARCH_QUERY,
    MAX_TAG_TEXT,
    MAX_TAGS,
    MAX_TOOL_NAME,
    MAX_VERSION_CONSTRAINT,
)
from workbench.names import QUERY_AGAINST_FIELDS as QUERY_AGAINST_FIELDS
from workbench.names import TAG_TEXT_PATTERN
from workbench.names import QueryAgainst as QueryAgainst

SPEC_QUERY_AGAINST_FIELDS: tuple[QueryAgainst, ...] = QUERY_AGAINST_FIELDS[:4]
"""The ``query_against`` values the hosted API knows."""

T = TypeVar("T")
MAX_CONTINUATION_TOKEN = 2**62


def _unique(values: list[T]) -> list[T]:
    repeated = sorted({str(v) for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"each value may be given once; repeated: {', '.join(repeated)}")
    return values


def _continuation(token: int) -> int:
    # The spec types the token as any integer: a negative one reads as the start, and one past
    # any history stays within what the catalog can take.
    return min(max(token, 0), MAX_CONTINUATION_TOKEN)


UniqueIds = Annotated[
    list[ObjectId], AfterValidator(_unique), Field(max_length=MAX_FILTER_VALUES, json_schema_extra={"uniqueItems": True})
]
FilterText = Annotated[str, StringConstraints(max_length=MAX_FILTER_TEXT)]
FilterTexts = Annotated[list[FilterText], Field(max_length=MAX_FILTER_VALUES)]
UniqueFilterTexts = Annotated[list[FilterText], AfterValidator(_unique), Field(max_length=MAX_FILTER_VALUES, json_schema_extra={"uniqueItems": True})]
ContinuationToken = Annotated[
    int, AfterValidator(_continuation), Field(description="Where the page starts: the previous page's `continuation_token` (a negative one reads as 0).")
]
VersionConstraintText = Annotated[str, StringConstraints(max_length=MAX_VERSION_CONSTRAINT)]

_TAG_TEXT = {"type": "string", "minLength": 1, "maxLength": MAX_TAG_TEXT, "pattern": TAG_TEXT_PATTERN}
TagMap = Annotated[dict[TagText, TagText | None], Field(max_length=MAX_TAGS), keyed_map(_TAG_TEXT, {"anyOf": [_TAG_TEXT, {"type": "null"}]}, MAX_TAGS)]
ProjectPath = Field(pattern=r"^[-\w\d_/]+$", max_length=MAX_PROJECT_PATH)


class CreateToolRequest(RequestModel):
    name: ToolName = Field(description=f"Unique among the org's non-deprecated tools; at most {MAX_TOOL_NAME} characters (400 if longer).")
    description: Description
    tags: TagMap = Field(default_factory=dict)


class CreateToolBody(CreateToolRequest):
    """The create-tool body as the API takes it: ``tags`` is required (the faces may omit it)."""

    tags: TagMap


class CreateToolResponse(ApiModel):
    id: str


class ModifyToolRequest(RequestModel):
    """A field left null is left unchanged."""

    description: Description | None = None
    tags: TagMap | None = None


EnvVarValue = Annotated[str, StringConstraints(max_length=MAX_ENVVAR_VALUE)]


class EnvVarInsert(RequestModel):
    name: EnvVarName
    value: EnvVarValue
    is_secret: bool = Field(strict=True)


class EnvVarUpdate(RequestModel):
    name: EnvVarName
    value: EnvVarValue


class EnvVarDelete(RequestModel):
    name: EnvVarName


class ModifyEnvVarsRequest(RequestModel):
    """Inserts, updates and deletes, applied all or nothing."""

    inserts: list[EnvVarInsert] = Field(default_factory=list, max_length=MAX_ENVVAR_CHANGES)
    updates: list[EnvVarUpdate] = Field(default_factory=list, max_length=MAX_ENVVAR_CHANGES)
    deletes: list[EnvVarDelete] = Field(default_factory=list, max_length=MAX_ENVVAR_CHANGES)


class ListToolsQuery(RequestModel):
    id: UniqueIds = Field(default_factory=list, description="The IDs of the tools to retrieve.")
    deprecated: bool | None = None
    tag: FilterTexts = Field(default_factory=list, description="`key:value`, `key:*` (any value) or `key:` (no value); repeatable.")
    sort_by: FilterTexts = Field(default_factory=list, description="`name`, `deprecated`, each after `+` (ascending) or `-` (descending).")
    limit: int = Field(default=10, gt=0, le=20)
    continuation_token: ContinuationToken = 0


class ListVersionsQuery(RequestModel):
    deprecated: bool | None = None
    versions: VersionConstraintText | None = Field(default=None, description="A PEP 440 constraint the versions match.")
    version_constraint: VersionConstraintText | None = Field(default=None, description="Workbench extra: the seed document's name for `versions`.")
    creator: UniqueFilterTexts = Field(default_factory=list)
    sort_by: FilterTexts = Field(default_factory=list, description="`created_at`, `version.major`, `version.minor`, `version.patch`, each after `+` or `-`.")
    limit: int = Field(default=50, ge=0, le=50, description="0 gives an empty last page.")
    continuation_token: ContinuationToken = 0


class InvocationFilters(RequestModel):
    tool_id: UniqueIds = Field(default_factory=list)
    invocation_source_type: Annotated[list[InvocationSourceType], AfterValidator(_unique), Field(json_schema_extra={"uniqueItems": True})] = Field(default_factory=list)
    conversation_id: UniqueIds = Field(default_factory=list)
    simulation_unit_test_set_run_id: UniqueIds = Field(default_factory=list)
    succeeded: bool | None = None


class ListInvocationsQuery(InvocationFilters):
    version: FilterTexts = Field(default_factory=list, description="A PEP 440 constraint per `tool_id`, by position (`*` or empty: any version); omitted: any version of every tool.")
    sort_by: FilterTexts = Field(
        default_factory=list,
        description="`created_at`, `version.major`, `version.minor`, `version.patch`, `tool_id`, `invocation_source.type`, `invocation_status.succeeded`, each after `+` or `-`.",
    )
    limit: int = Field(default=100, ge=0, le=100, description="0 gives an empty last page.")
    continuation_token: ContinuationToken = 0


class SearchInvocationsQuery(InvocationFilters):
    """A search as the faces ask it: no ``query_against`` means every field."""

    query: str = Field(max_length=MAX_SEARCH_QUERY, description="Plain text (words), or the workbench's query language; a blank query matches every invocation the filters select.")
    query_against: Annotated[list[QueryAgainst], AfterValidator(_unique), Field(json_schema_extra={"uniqueItems": True})] = Field(default_factory=list)
    order: Literal["newest", "relevance"] = Field(default="newest", description="Workbench extra: newest first, or best match first.")
    limit: int = Field(default=50, ge=1, le=100, description="Workbench extra: at most this many hits (the response's `has_more` says whether more match).")


class SearchInvocationsParams(SearchInvocationsQuery):
    """The search as the API takes it: ``query_against`` is required, with at least one field."""

    query_against: Annotated[list[QueryAgainst], AfterValidator(_unique), Field(min_length=1, json_schema_extra={"uniqueItems": True})] = Field(
        description="The fields to search: at least one."
    )


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
    has_more: bool | None = Field(default=None, description="Workbench extra: whether more invocations match than were returned (raise `limit` or narrow the query).")


class InvokeRequest(RequestModel):
    inputs: list[Input] = Field(min_length=1, max_length=10)


class InvokeBody(InvokeRequest):
    """The invoke body as the API takes it: every input names its user variables."""

    inputs: list[InputBody] = Field(min_length=1, max_length=10)  # type: ignore[assignment]  # a stricter Input


class InvokeResponse(ApiModel):
    invocation_results: list[InvocationResult]


EnvValues = dict[Annotated[str, StringConstraints(max_length=MAX_ENVVAR_NAME)], EnvVarValue]


class TestToolRequest(RequestModel):
    inputs: list[Input] = Field(min_length=1, max_length=10)
    commit_branch: str = Field(max_length=MAX_BRANCH)
    project_path: str = ProjectPath
    required_envvars: EnvValues = Field(default_factory=dict, max_length=MAX_ENVVAR_CHANGES)
    required_secret_envvars: EnvValues = Field(default_factory=dict, max_length=MAX_ENVVAR_CHANGES)


class TestToolBody(TestToolRequest):
    """The test body as the API takes it: the inputs name their user variables, and both maps of
    variables are given."""

    inputs: list[InputBody] = Field(min_length=1, max_length=10)  # type: ignore[assignment]  # a stricter Input
    required_envvars: EnvValues = Field(max_length=MAX_ENVVAR_CHANGES)
    required_secret_envvars: EnvValues = Field(max_length=MAX_ENVVAR_CHANGES)


class PublishRequest(RequestModel):
    repo: Literal["team", "main"] = "main"
    project_path: str = ProjectPath
    bump_type: Literal["major", "minor", "patch"]


class PublishResponse(ApiModel):
    new_version: str


class SignInResponse(ApiModel):
    """A token for the Authorization header, and when it expires."""

    id_token: str
    expires_at: datetime


ErrorCode = Literal[
    "bad_request",
    "unauthorized",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "conflict",
    "payload_too_large",
    "validation_error",
    "rate_limited",
    "internal_error",
    "unavailable",
]


class ErrorBody(ApiModel):
    """Every error the API answers, whatever its status: what was wrong and what is allowed, in
    ``detail``; a stable ``code``; and, for some, ``details`` (each problem of a 422, the stage of
    a failed publish, the seconds to wait after a 429)."""

    detail: str
    code: ErrorCode
    details: dict[str, Any] | None = None


def body(model: ApiModel) -> dict[str, Any]:
    """The JSON body of a response, exactly as the API sends it."""
    return model.model_dump(mode="json")
