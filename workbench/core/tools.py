"""Tools: create, list, show, modify and deprecate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from workbench.core.events import EventBus, ToolsChanged, VersionsDeprecated
from workbench.core.listing import paginate, parse_sort_by, sort_records
from workbench.core.locks import OperationLocks
from workbench.core.lookup import require_tool, tool_instance, tool_user
from workbench.core.models import ToolInstance
from workbench.core.requests import (
    CreateToolRequest,
    CreateToolResponse,
    ListToolsQuery,
    ListToolsResponse,
    ModifyToolRequest,
    ToolFilterValues,
)
from workbench.core.results import ToolSummary
from workbench.core.runtimes import Runtimes
from workbench.core.sizes import MAX_TOOL_NAME
from workbench.core.validation import ModelOrDict, check_object_id, check_org, parse
from workbench.core.versions import Versions
from workbench.errors import BadRequest, Conflict, NotFound, ValidationFailed
from workbench.names import IdFactory
from workbench.store.records import TagRecord, ToolRecord
from workbench.store.tables import Metadata

TOOL_SORT_FIELDS: dict[str, Callable[[ToolRecord], Any]] = {
    "name": lambda tool: tool.name,
    "deprecated": lambda tool: tool.deprecated,
}


def tag_label(tag: TagRecord) -> str:
    return f"{tag.key}:{tag.value if tag.value is not None else ''}"


def _parse_tag_filter(raw: str) -> tuple[str, str | None]:
    """``key:value`` -> (key, value); ``*`` matches any value, an empty value matches null."""
    key, sep, value = raw.partition(":")
    if not sep or not key.strip():
        raise ValidationFailed(f"invalid tag filter {raw!r}: use key:value, key:* for any value, or key: for a null value")
    return key.strip(), (value.strip() or None)


def _matches_tag(tool: ToolRecord, key: str, value: str | None) -> bool:
    return any(tag.key == key and (value == "*" or tag.value == value) for tag in tool.tags)


def _tags(tags: dict[str, str | None]) -> list[TagRecord]:
    return [TagRecord(key=key, value=value) for key, value in tags.items()]


class Tools:
    """The organization's tools themselves."""

    def __init__(
        self,
        metadata: Metadata,
        versions: Versions,
        runtimes: Runtimes,
        locks: OperationLocks,
        events: EventBus,
        clock: Callable[[], datetime],
        ids: IdFactory,
        default_user: str,
    ) -> None:
        self.metadata = metadata
        self.versions = versions
        self.runtimes = runtimes
        self.locks = locks
        self.events = events
        self.clock = clock
        self.ids = ids
        self.default_user = default_user

    def create_tool(self, org_id: str, request: ModelOrDict, user_id: str | None = None) -> CreateToolResponse:
        """Create a tool. Its name must be unique among the org's non-deprecated tools (409)."""
        check_org(org_id)
        req = parse(CreateToolRequest, request, "create-tool request")
        if len(req.name) > MAX_TOOL_NAME:
            raise BadRequest(f"The tool name is too long: {len(req.name):,} characters; at most {MAX_TOOL_NAME} are allowed")
        now = self.clock()
        user = tool_user(org_id, user_id or self.default_user)
        with self.metadata.write() as view:
            taken = view.tools.live_named(org_id, req.name)
            if taken:
                raise Conflict(
                    f"a tool named {req.name!r} already exists in organization {org_id} "
                    f"(id {taken.id}); choose another name or deprecate that tool first"
                )
            record = ToolRecord(
                id=self.ids(), org_id=org_id, created_at=now, updated_at=now, name=req.name, description=req.description,
                deprecated=False, tags=_tags(req.tags), creator=user, updated_by=user,
            )
            view.tools.insert(record)
        self.events.emit(ToolsChanged(org_id, record.id))
        return CreateToolResponse(id=record.id)

    def list_tools(self, org_id: str, query: ModelOrDict = None) -> ListToolsResponse:
        """List the org's tools with the spec's filters, sort keys and pagination."""
        check_org(org_id)
        q = parse(ListToolsQuery, query, "list-tools query")
        tag_filters = [_parse_tag_filter(raw) for raw in q.tag]
        sort_keys = parse_sort_by(q.sort_by, TOOL_SORT_FIELDS)
        with self.metadata.read() as view:
            every = view.tools.of_org(org_id)
            variables = view.envvars.live_names_of_org(org_id)
        selected = [
            tool
            for tool in every
            if (not q.id or tool.id in q.id)
            and (q.deprecated is None or tool.deprecated == q.deprecated)
            and all(_matches_tag(tool, key, value) for key, value in tag_filters)
        ]
        selected.sort(key=lambda tool: (tool.created_at, tool.id))
        page, has_more, token = paginate(sort_records(selected, sort_keys), q.limit, q.continuation_token)
        filter_values = None
        if q.continuation_token == 0:
            filter_values = ToolFilterValues(tags=sorted({tag_label(tag) for tool in every for tag in tool.tags}))
        return ListToolsResponse(
            tools=[tool_instance(tool, variables.get(tool.id, [])) for tool in page], has_more=has_more, continuation_token=token, filter_values=filter_values
        )

    def overview(self, org_id: str) -> list[ToolSummary]:
        """Every tool of the org with its active versions, from one read (the Tools list)."""
        check_org(org_id)
        with self.metadata.read() as view:
            every = sorted(view.tools.of_org(org_id), key=lambda tool: (tool.created_at, tool.id))
            variables = view.envvars.live_names_of_org(org_id)
            active = view.versions.active_of_org(org_id)
        return [
            ToolSummary(tool=tool_instance(tool, variables.get(tool.id, [])), active_versions=[v.label for v in active.get(tool.id, [])])
            for tool in every
        ]

    def get_tool(self, org_id: str, tool_id: str) -> ToolInstance:
        """One tool by id (404 if it is not in this org)."""
        check_org(org_id)
        with self.metadata.read() as view:
            record = require_tool(view, org_id, tool_id)
            return tool_instance(record, view.envvars.live(org_id, record.id))

    def find_tool(self, org_id: str, name_or_id: str) -> ToolInstance:
        """A tool by id, or by name (the non-deprecated one first, else the newest deprecated)."""
        check_org(org_id)
        with self.metadata.read() as view:
            record = view.tools.get(org_id, name_or_id)
            if record is None:
                named = sorted(view.tools.named(org_id, name_or_id), key=lambda tool: (not tool.deprecated, tool.created_at))
                record = named[-1] if named else None
            if record is None:
                raise NotFound(f"no tool named or with id {name_or_id!r} in organization {org_id}")
            return tool_instance(record, view.envvars.live(org_id, record.id))

    def modify_tool(self, org_id: str, tool_id: str, request: ModelOrDict, user_id: str | None = None) -> None:
        """Change a tool's description and/or tags; a null field is left as it is."""
        check_org(org_id)
        req = parse(ModifyToolRequest, request, "modify-tool request")
        with self.metadata.write() as view:
            record = require_tool(view, org_id, tool_id)
            if req.description is None and req.tags is None:
                return
            if req.description is not None:
                record.description = req.description
            if req.tags is not None:
                record.tags = _tags(req.tags)
            record.updated_at = self.clock()
            record.updated_by = tool_user(org_id, user_id or self.default_user)
            view.tools.save(record)
        self.events.emit(ToolsChanged(org_id, tool_id))

    def deprecate_tool(self, org_id: str, tool_id: str, user_id: str | None = None) -> list[str]:
        """Deprecate the tool and, with it, every active version (their warm workers stop); the
        tool's name becomes free for a new tool. Returns the versions deprecated."""
        check_org(org_id)
        check_object_id(tool_id, "tool id")
        with self.locks.hold(tool_id), self.metadata.write() as view:
            record = require_tool(view, org_id, tool_id)
            if not record.deprecated:
                record.deprecated = True
                record.updated_at = self.clock()
                record.updated_by = tool_user(org_id, user_id or self.default_user)
                view.tools.save(record)
            retired = view.versions.active(record.id)
            builds = self.versions.deprecate_in(view, org_id, retired, user_id)
        self.runtimes.retire(builds)
        labels = [v.label for v in retired]
        if labels:
            self.events.emit(VersionsDeprecated(org_id, tool_id, tuple(labels)))
        self.events.emit(ToolsChanged(org_id, tool_id))
        return labels
