"""The service's interface over the Tools API, so the CLI and the app work unchanged in remote
mode. Where the API has nothing to match (per-result logs, search snippets, the tools
repository's branches), it does without and says so rather than inventing."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from workbench.core.envvars import EnvVarInfo
from workbench.core.history import SearchHit
from workbench.core.models import ToolInstance, ToolVersionInstance
from workbench.core.requests import (
    CreateToolResponse,
    InvokeResponse,
    ListInvocationsResponse,
    ListToolsResponse,
    ListVersionsResponse,
    PublishResponse,
    SearchInvocationsResponse,
)
from workbench.core.running import Outcome
from workbench.core.tools import all_tools
from workbench.errors import BadRequest, NotFound
from workbench.remote.client import ToolsClient
from workbench.settings import Settings

OBJECT_ID = re.compile(r"^[a-f0-9]{24}$")


def _body(value: BaseModel | dict[str, Any] | None) -> Any:
    return value.model_dump(mode="json", exclude_none=False) if isinstance(value, BaseModel) else (value or {})


def _version(v: Any) -> str:
    return f"{v.major}.{v.minor}.{v.patch}"


class LocalOnly(BadRequest):
    """Something only the local workbench can do (it has no API endpoint)."""


class RemoteService:
    """What the faces call on a ToolService, answered by a Tools API server."""

    def __init__(self, settings: Settings, client: ToolsClient) -> None:
        self.settings = settings
        self.client = client

    @staticmethod
    def local_only(what: str) -> LocalOnly:
        return LocalOnly(f"{what} is not available in remote mode: the Tools API has no endpoint for it; run it where the data directory is")

    def flush_index(self) -> None:
        """The server indexes what it records."""

    # -- tools --------------------------------------------------------------------------------

    def create_tool(self, org_id: str, request: Any, user_id: str | None = None) -> CreateToolResponse:
        return CreateToolResponse.model_validate(self.client.request("POST", "/tool/", body=_body(request)))

    def list_tools(self, org_id: str, query: Any = None) -> ListToolsResponse:
        return ListToolsResponse.model_validate(self.client.request("GET", "/tool/", query=_body(query)))

    def list_all_tools(self, org_id: str) -> list[ToolInstance]:
        return all_tools(self.list_tools, org_id)

    def get_tool(self, org_id: str, tool_id: str) -> ToolInstance:
        found = self.list_tools(org_id, {"id": [tool_id], "limit": 1}).tools
        if not found:
            raise NotFound(f"tool {tool_id} does not exist in organization {org_id}")
        return found[0]

    def find_tool(self, org_id: str, name_or_id: str) -> ToolInstance:
        if OBJECT_ID.match(name_or_id):
            try:
                return self.get_tool(org_id, name_or_id)
            except NotFound:
                pass
        named = [t for t in self.list_all_tools(org_id) if t.name == name_or_id]
        named.sort(key=lambda t: (not t.deprecated, t.created_at))
        if not named:
            raise NotFound(f"no tool named or with id {name_or_id!r} in organization {org_id}")
        return named[-1]

    def modify_tool(self, org_id: str, tool_id: str, request: Any, user_id: str | None = None) -> None:
        self.client.request("POST", f"/tool/{tool_id}", body=_body(request))

    def deprecate_tool(self, org_id: str, tool_id: str, user_id: str | None = None) -> None:
        self.client.request("DELETE", f"/tool/{tool_id}")

    # -- environment variables ----------------------------------------------------------------

    def modify_envvars(self, org_id: str, tool_id: str, request: Any, user_id: str | None = None) -> None:
        self.client.request("POST", f"/tool/{tool_id}/envvar", body=_body(request))

    def list_envvars(self, org_id: str, tool_id: str) -> list[EnvVarInfo]:
        tool = self.get_tool(org_id, tool_id)
        required: dict[str, list[str]] = {}
        for version in self.list_versions(org_id, tool_id, {"deprecated": False}).tool_versions:
            for name in (*version.required_envvars, *version.required_secret_envvars):
                required.setdefault(name, []).append(_version(version.version))
        stamp = tool.updated_at.isoformat()
        infos = [EnvVarInfo(n, False, stamp, tuple(required.get(n, ()))) for n in tool.envvars]
        infos += [EnvVarInfo(n, True, stamp, tuple(required.get(n, ()))) for n in tool.secret_envvars]
        return sorted(infos, key=lambda i: i.name)

    def envvar_values(self, org_id: str, tool_id: str) -> tuple[dict[str, str], dict[str, str]]:
        raise self.local_only("reading a tool's variable values")

    # -- versions -----------------------------------------------------------------------------

    def publish_version(self, org_id: str, tool_id: str, request: Any, user_id: str | None = None, branch: str | None = None, on_stage: Any = None) -> PublishResponse:
        if branch:
            raise self.local_only("publishing from a named branch (use --repo main or --repo team)")
        return PublishResponse.model_validate(self.client.request("POST", f"/tool/{tool_id}/version", body=_body(request)))

    def list_versions(self, org_id: str, tool_id: str, query: Any = None) -> ListVersionsResponse:
        return ListVersionsResponse.model_validate(self.client.request("GET", f"/tool/{tool_id}/version", query=_body(query)))

    def matching_versions(self, org_id: str, tool_id: str, constraint: str) -> list[ToolVersionInstance]:
        return self.list_versions(org_id, tool_id, {"versions": constraint}).tool_versions

    def deprecate_versions(self, org_id: str, tool_id: str, constraint: str, user_id: str | None = None) -> list[str]:
        matching = [_version(v.version) for v in self.matching_versions(org_id, tool_id, constraint) if not v.deprecated]
        self.client.request("DELETE", f"/tool/{tool_id}/version/{constraint}")
        return matching

    def repo_branches(self) -> list[str]:
        return [self.settings.main_branch, self.settings.team_branch]

    # -- running ------------------------------------------------------------------------------

    def invoke_version(self, org_id: str, tool_id: str, version: str, request: Any, user_id: str | None = None, source: Any = None) -> InvokeResponse:
        return InvokeResponse.model_validate(self.client.request("POST", f"/tool/{tool_id}/version/{version}/invoke", body=_body(request)))

    def invoke_outcomes(self, org_id: str, tool_id: str, version: str, request: Any, user_id: str | None = None, source: Any = None) -> list[Outcome]:
        return [Outcome({}, result, []) for result in self.invoke_version(org_id, tool_id, version, request).invocation_results]

    def test_tool(self, org_id: str, request: Any, on_stage: Any = None) -> InvokeResponse:
        return InvokeResponse.model_validate(self.client.request("POST", "/tool/test", body=_body(request)))

    def test_outcomes(self, org_id: str, request: Any, on_stage: Any = None) -> list[Outcome]:
        return [Outcome({}, result, []) for result in self.test_tool(org_id, request).invocation_results]

    # -- history and search -------------------------------------------------------------------

    def list_invocations(self, org_id: str, query: Any = None) -> ListInvocationsResponse:
        return ListInvocationsResponse.model_validate(self.client.request("GET", "/tool/invocation", query=_body(query)))

    def count_invocations(self, org_id: str, query: Any = None, cap: int = 10_000) -> int:
        """The API has no count: pages are walked (up to ``cap``)."""
        query = {k: v for k, v in _body(query).items() if k not in ("limit", "continuation_token", "sort_by")}
        total, token = 0, 0
        while token is not None and total < cap:
            page = self.list_invocations(org_id, {**query, "limit": 100, "continuation_token": token})
            total += len(page.tool_invocations)
            token = page.continuation_token
        return total

    def search_invocations(self, org_id: str, query: Any, on_rebuild: Any = None) -> SearchInvocationsResponse:
        return SearchInvocationsResponse.model_validate(self.client.request("GET", "/tool/invocation/search", query=_body(query)))

    def search_hits(self, org_id: str, query: Any, on_rebuild: Any = None) -> list[SearchHit]:
        """Hits without snippets: the API returns the invocations only."""
        return [SearchHit(inv, {}, 0.0) for inv in self.search_invocations(org_id, query).tool_invocations]

    def rebuild_index(self, progress: Any = None) -> int:
        raise self.local_only("rebuilding the search index")

    def index_status(self) -> dict[str, Any]:
        raise self.local_only("the search index status")

    def prune_runtime(self) -> dict[str, int]:
        raise self.local_only("pruning the runtime")
