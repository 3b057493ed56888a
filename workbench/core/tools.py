"""Tool operations: create, list, show, modify and deprecate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinydb import Query, TinyDB

from workbench.core.context import ServiceContext, check_object_id, check_org, parse, require
from workbench.errors import Conflict, NotFound, ValidationFailed
from workbench.core.listing import paginate, parse_sort_by, sort_records
from workbench.core.models import ToolInstance, new_id
from workbench.core.requests import (
    CreateToolRequest,
    CreateToolResponse,
    ListToolsQuery,
    ListToolsResponse,
    ModifyToolRequest,
    ToolFilterValues,
)

TOOLS = "tools"
ENVVARS = "envvars"
VERSIONS = "versions"

TOOL_SORT_FIELDS = {
    "name": lambda tool: tool["name"],
    "deprecated": lambda tool: tool["deprecated"],
}


def tags_to_list(tags: dict[str, str | None]) -> list[dict[str, str | None]]:
    return [{"key": key, "value": value} for key, value in tags.items()]


def tag_label(tag: dict[str, Any]) -> str:
    return f"{tag['key']}:{tag['value'] if tag['value'] is not None else ''}"


def _parse_tag_filter(raw: str) -> tuple[str, str | None]:
    """``key:value`` -> (key, value); ``*`` matches any value, an empty value matches null."""
    key, sep, value = raw.partition(":")
    if not sep or not key.strip():
        raise ValidationFailed(
            f"invalid tag filter {raw!r}: use key:value, key:* for any value, or key: for a null value"
        )
    return key.strip(), (value.strip() or None)


def _matches_tag(tool: dict[str, Any], key: str, value: str | None) -> bool:
    for tag in tool["tags"]:
        if tag["key"] == key and (value == "*" or tag["value"] == value):
            return True
    return False


def all_tools(list_tools: Callable[[str, dict[str, Any]], ListToolsResponse], org_id: str) -> list[ToolInstance]:
    """Every page of ``list_tools`` (local or remote), in order."""
    tools, token = [], 0
    while token is not None:
        page = list_tools(org_id, {"limit": 20, "continuation_token": token})
        tools += page.tools
        token = page.continuation_token
    return tools


class ToolOperations:
    """Operations on tools themselves. Mixed into :class:`workbench.core.service.ToolService`."""

    ctx: ServiceContext

    # -- helpers shared with the other operation groups -------------------------------------

    @staticmethod
    def _tool_record(db: TinyDB, org_id: str, tool_id: str) -> dict[str, Any]:
        check_object_id(tool_id, "tool id")
        record = db.table(TOOLS).get((Query().org_id == org_id) & (Query().id == tool_id))
        return require(record, f"tool {tool_id} does not exist in organization {org_id}")

    @staticmethod
    def _tool_instance(db: TinyDB, record: dict[str, Any]) -> ToolInstance:
        variables = db.table(ENVVARS).search(
            (Query().org_id == record["org_id"])
            & (Query().tool_id == record["id"])
            & (Query().deleted_at == None)  # noqa: E711 (TinyDB query syntax)
        )
        plain = sorted(v["name"] for v in variables if not v["is_secret"])
        secret = sorted(v["name"] for v in variables if v["is_secret"])
        return ToolInstance.model_validate({**record, "envvars": plain, "secret_envvars": secret})

    def _retire_versions(self, version_ids: list[str]) -> None:
        """Hook: stop what runs for versions just deprecated (the runtime layer overrides it)."""

    def _user(self, org_id: str, user_id: str | None) -> dict[str, str]:
        return {"org_id": org_id, "user_id": user_id or self.ctx.settings.user}

    # -- operations --------------------------------------------------------------------------

    def create_tool(
        self, org_id: str, request: CreateToolRequest | dict[str, Any], user_id: str | None = None
    ) -> CreateToolResponse:
        """Create a tool. Its name must be unique among the org's non-deprecated tools (409)."""
        check_org(org_id)
        req = parse(CreateToolRequest, request, "create-tool request")
        now = self.ctx.clock().isoformat()
        with self.ctx.metadata.write() as db:
            tools = db.table(TOOLS)
            taken = tools.get(
                (Query().org_id == org_id) & (Query().name == req.name) & (Query().deprecated == False)  # noqa: E712
            )
            if taken:
                raise Conflict(
                    f"a tool named {req.name!r} already exists in organization {org_id} "
                    f"(id {taken['id']}); choose another name or deprecate that tool first"
                )
            record = {
                "id": new_id(),
                "org_id": org_id,
                "created_at": now,
                "updated_at": now,
                "name": req.name,
                "description": req.description,
                "deprecated": False,
                "tags": tags_to_list(req.tags),
                "creator": self._user(org_id, user_id),
                "updated_by": self._user(org_id, user_id),
            }
            tools.insert(record)
        return CreateToolResponse(id=record["id"])

    def list_tools(self, org_id: str, query: ListToolsQuery | dict[str, Any] | None = None) -> ListToolsResponse:
        """List the org's tools with the spec's filters, sort keys and pagination."""
        check_org(org_id)
        q = parse(ListToolsQuery, query, "list-tools query")
        tag_filters = [_parse_tag_filter(raw) for raw in q.tag]
        sort_keys = parse_sort_by(q.sort_by, TOOL_SORT_FIELDS)
        with self.ctx.metadata.read() as db:
            all_tools = db.table(TOOLS).search(Query().org_id == org_id)
            selected = [
                tool
                for tool in all_tools
                if (not q.id or tool["id"] in q.id)
                and (q.deprecated is None or tool["deprecated"] == q.deprecated)
                and all(_matches_tag(tool, key, value) for key, value in tag_filters)
            ]
            selected.sort(key=lambda tool: (tool["created_at"], tool["id"]))
            ordered = sort_records(selected, sort_keys)
            page, has_more, token = paginate(ordered, q.limit, q.continuation_token)
            instances = [self._tool_instance(db, tool) for tool in page]
        filter_values = None
        if q.continuation_token == 0:
            labels = {tag_label(tag) for tool in all_tools for tag in tool["tags"]}
            filter_values = ToolFilterValues(tags=sorted(labels))
        return ListToolsResponse(
            tools=instances, has_more=has_more, continuation_token=token, filter_values=filter_values
        )

    def list_all_tools(self, org_id: str) -> list[ToolInstance]:
        """Every tool of the org, page after page (for faces that show them all)."""
        return all_tools(self.list_tools, org_id)

    def get_tool(self, org_id: str, tool_id: str) -> ToolInstance:
        """One tool by id (404 if it is not in this org)."""
        check_org(org_id)
        with self.ctx.metadata.read() as db:
            return self._tool_instance(db, self._tool_record(db, org_id, tool_id))

    def find_tool(self, org_id: str, name_or_id: str) -> ToolInstance:
        """A tool by id, or by name (the non-deprecated one first, else the newest deprecated)."""
        check_org(org_id)
        with self.ctx.metadata.read() as db:
            tools = db.table(TOOLS)
            same_org = Query().org_id == org_id
            record = tools.get(same_org & (Query().id == name_or_id))
            if record is None:
                named = tools.search(same_org & (Query().name == name_or_id))
                named.sort(key=lambda tool: (not tool["deprecated"], tool["created_at"]))
                record = named[-1] if named else None
            if record is None:
                raise NotFound(f"no tool named or with id {name_or_id!r} in organization {org_id}")
            return self._tool_instance(db, record)

    def modify_tool(
        self,
        org_id: str,
        tool_id: str,
        request: ModifyToolRequest | dict[str, Any],
        user_id: str | None = None,
    ) -> None:
        """Change a tool's description and/or tags; a null field is left as it is."""
        check_org(org_id)
        req = parse(ModifyToolRequest, request, "modify-tool request")
        with self.ctx.metadata.write() as db:
            record = self._tool_record(db, org_id, tool_id)
            changes: dict[str, Any] = {}
            if req.description is not None:
                changes["description"] = req.description
            if req.tags is not None:
                changes["tags"] = tags_to_list(req.tags)
            if changes:
                changes["updated_at"] = self.ctx.clock().isoformat()
                changes["updated_by"] = self._user(org_id, user_id)
                db.table(TOOLS).update(changes, Query().id == record["id"])

    def deprecate_tool(self, org_id: str, tool_id: str, user_id: str | None = None) -> None:
        """Deprecate the tool and all its versions; its name becomes free for a new tool."""
        check_org(org_id)
        check_object_id(tool_id, "tool id")
        with self.ctx.operation_lock(tool_id), self.ctx.metadata.write() as db:
            record = self._tool_record(db, org_id, tool_id)
            now = self.ctx.clock().isoformat()
            updated_by = self._user(org_id, user_id)
            if not record["deprecated"]:
                db.table(TOOLS).update(
                    {"deprecated": True, "updated_at": now, "updated_by": updated_by},
                    Query().id == record["id"],
                )
            live = Query().tool_id == record["id"]
            retired = [v["id"] for v in db.table(VERSIONS).search(live & (Query().deprecated == False))]  # noqa: E712
            db.table(VERSIONS).update(
                {
                    "deprecated": True,
                    "updated_at": now,
                    "updated_by": {"user_id": updated_by["user_id"], "user_org_id": org_id},
                },
                live & (Query().deprecated == False),  # noqa: E712
            )
        self._retire_versions(retired)

