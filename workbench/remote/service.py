"""The Tools API of a server (``workbench serve`` or the hosted API), behind the same interface
as the local service, so the CLI and the app work unchanged in remote mode. Where the API has
nothing to match (per-result logs, search snippets, the tools repository's branches, the index,
the runtime, API keys), it does without or says so rather than inventing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from workbench.core.events import Event, EventBus, InvocationsRecorded, ToolsChanged, VersionPublished, VersionsDeprecated
from workbench.core.insight_models import Comparison, ExportedFixtures, FixtureReport, ReplayResult, ToolActivity, ToolStats
from workbench.core.models import Input, InvocationOrigin, ToolInstance, ToolInvocationInstance, ToolVersionInstance
from workbench.core.offline import OfflineOperations
from workbench.core.permissions import DEFAULT_ROLE
from workbench.core.persistence import persistence_outcomes
from workbench.core.requests import (
    CreateToolRequest,
    CreateToolResponse,
    InvokeRequest,
    InvokeResponse,
    ListInvocationsResponse,
    ListToolsResponse,
    ListVersionsResponse,
    PublishResponse,
    SPEC_QUERY_AGAINST_FIELDS,
    SearchInvocationsResponse,
    TestToolRequest,
)
from workbench.core.results import (
    ApiKeyInfo,
    CreatedApiKey,
    EnvVarInfo,
    HealthReport,
    IndexStatus,
    Outcome,
    Progress,
    PrepareStep,
    PruneResult,
    RepairOutcome,
    RuntimeReport,
    SearchHit,
    SearchPage,
    StageListener,
    ToolSummary,
)
from workbench.core.simulation.report import GraphCheck, SimulationProgress, SimulationReport
from workbench.core.validation import ModelOrDict, parse
from workbench.errors import BadRequest, NotFound
from workbench.names import OBJECT_ID
from workbench.remote.client import ToolsClient
from workbench.settings import Settings

COUNT_CAP = 10_000


def _body(value: ModelOrDict) -> dict[str, Any]:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=False)
    return dict(value or {})


def _complete(model: type[BaseModel], value: ModelOrDict) -> dict[str, Any]:
    """A request body with every field the API requires, the faces' omissions filled with their
    defaults (``tags``, user variables, variables); a bad one is a 422 here, before any request."""
    return _body(parse(model, value, "request"))


class LocalOnly(BadRequest):
    """Something only the local workbench can do (it has no API endpoint)."""


def local_only(what: str) -> LocalOnly:
    return LocalOnly(f"{what} is not available in remote mode: the Tools API has no endpoint for it; run it where the data directory is")


def _outcomes(response: InvokeResponse) -> list[Outcome]:
    return [Outcome({}, result, [], persistence_outcomes(result)) for result in response.invocation_results]


class RemoteService(OfflineOperations):
    """What the faces call on the local service, answered by a Tools API server."""

    def __init__(self, settings: Settings, client: ToolsClient) -> None:
        self.settings = settings
        self.client = client
        self.events = EventBus()

    # -- tools --------------------------------------------------------------------------------

    def create_tool(self, org_id: str, request: ModelOrDict, user_id: str | None = None) -> CreateToolResponse:
        created = CreateToolResponse.model_validate(self.client.request("POST", "/tool/", body=_complete(CreateToolRequest, request)))
        self.events.emit(ToolsChanged(org_id, created.id))
        return created

    def list_tools(self, org_id: str, query: ModelOrDict = None) -> ListToolsResponse:
        return ListToolsResponse.model_validate(self.client.request("GET", "/tool/", query=_body(query)))

    def list_all_tools(self, org_id: str) -> list[ToolInstance]:
        tools: list[ToolInstance] = []
        token: int | None = 0
        while token is not None:
            page = self.list_tools(org_id, {"limit": 20, "continuation_token": token})
            tools += page.tools
            token = page.continuation_token
        return tools

    def tool_overview(self, org_id: str) -> list[ToolSummary]:
        """One request per live tool for its versions: the API lists versions per tool only."""
        summaries = []
        for tool in self.list_all_tools(org_id):
            versions = [] if tool.deprecated else self.list_versions(org_id, tool.id, {"deprecated": False}).tool_versions
            ordered = sorted(versions, key=lambda v: (v.version.major, v.version.minor, v.version.patch))
            summaries.append(ToolSummary(tool=tool, active_versions=[str(v.version) for v in ordered]))
        return summaries

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
        named = sorted((t for t in self.list_all_tools(org_id) if t.name == name_or_id), key=lambda t: (not t.deprecated, t.created_at))
        if not named:
            raise NotFound(f"no tool named or with id {name_or_id!r} in organization {org_id}")
        return named[-1]

    def modify_tool(self, org_id: str, tool_id: str, request: ModelOrDict, user_id: str | None = None) -> None:
        self.client.request("POST", f"/tool/{tool_id}", body=_body(request))
        self.events.emit(ToolsChanged(org_id, tool_id))

    def deprecate_tool(self, org_id: str, tool_id: str, user_id: str | None = None) -> list[str]:
        active = [str(v.version) for v in self.list_versions(org_id, tool_id, {"deprecated": False}).tool_versions]
        self.client.request("DELETE", f"/tool/{tool_id}")
        self.events.emit(ToolsChanged(org_id, tool_id))
        return active

    def list_organizations(self) -> list[str]:
        return [self.client.org]

    # -- environment variables ----------------------------------------------------------------

    def modify_envvars(self, org_id: str, tool_id: str, request: ModelOrDict, user_id: str | None = None) -> None:
        self.client.request("POST", f"/tool/{tool_id}/envvar", body=_body(request))
        self.events.emit(ToolsChanged(org_id, tool_id))

    def list_envvars(self, org_id: str, tool_id: str) -> list[EnvVarInfo]:
        """From the tool's variable names: the API keeps no per-variable timestamps, so each
        shows the tool's last change."""
        tool = self.get_tool(org_id, tool_id)
        required: dict[str, list[str]] = {}
        for version in self.list_versions(org_id, tool_id, {"deprecated": False}).tool_versions:
            for name in (*version.required_envvars, *version.required_secret_envvars):
                required.setdefault(name, []).append(str(version.version))
        infos = [EnvVarInfo(n, False, tool.updated_at, tuple(required.get(n, ()))) for n in tool.envvars]
        infos += [EnvVarInfo(n, True, tool.updated_at, tuple(required.get(n, ()))) for n in tool.secret_envvars]
        return sorted(infos, key=lambda i: i.name)

    # -- versions -----------------------------------------------------------------------------

    def publish_version(
        self, org_id: str, tool_id: str, request: ModelOrDict, user_id: str | None = None, branch: str | None = None, on_stage: StageListener | None = None
    ) -> PublishResponse:
        if branch:
            raise local_only("publishing from a named branch (use --repo main or --repo team)")
        published = PublishResponse.model_validate(self.client.request("POST", f"/tool/{tool_id}/version", body=_body(request)))
        self.events.emit(VersionPublished(org_id, tool_id, published.new_version))
        return published

    def list_versions(self, org_id: str, tool_id: str, query: ModelOrDict = None) -> ListVersionsResponse:
        return ListVersionsResponse.model_validate(self.client.request("GET", f"/tool/{tool_id}/version", query=_body(query)))

    def matching_versions(self, org_id: str, tool_id: str, constraint: str) -> list[ToolVersionInstance]:
        return self.list_versions(org_id, tool_id, {"versions": constraint}).tool_versions

    def deprecate_versions(self, org_id: str, tool_id: str, constraint: str, user_id: str | None = None) -> list[str]:
        matching = [str(v.version) for v in self.matching_versions(org_id, tool_id, constraint) if not v.deprecated]
        self.client.request("DELETE", f"/tool/{tool_id}/version/{constraint}")
        self.events.emit(VersionsDeprecated(org_id, tool_id, tuple(matching)))
        return matching

    def repo_branches(self) -> list[str]:
        return [self.settings.main_branch, self.settings.team_branch]

    # -- running ------------------------------------------------------------------------------

    def invoke_version(
        self, org_id: str, tool_id: str, version: str, request: ModelOrDict, user_id: str | None = None, origin: InvocationOrigin = "cli"
    ) -> InvokeResponse:
        response = InvokeResponse.model_validate(self.client.request("POST", f"/tool/{tool_id}/version/{version}/invoke", body=_complete(InvokeRequest, request)))
        self.events.emit(InvocationsRecorded(org_id, tool_id, len(response.invocation_results)))
        return response

    def invoke_outcomes(
        self, org_id: str, tool_id: str, version: str, request: ModelOrDict, user_id: str | None = None, origin: InvocationOrigin = "cli"
    ) -> list[Outcome]:
        return _outcomes(self.invoke_version(org_id, tool_id, version, request, user_id, origin))

    def test_tool(self, org_id: str, request: ModelOrDict, on_stage: StageListener | None = None) -> InvokeResponse:
        return InvokeResponse.model_validate(self.client.request("POST", "/tool/test", body=_complete(TestToolRequest, request)))

    def test_outcomes(self, org_id: str, request: ModelOrDict, on_stage: StageListener | None = None) -> list[Outcome]:
        return _outcomes(self.test_tool(org_id, request, on_stage))

    def test_branch(
        self, org_id: str, tool_id: str, branch: str, project_path: str, inputs: list[Input], on_stage: StageListener | None = None
    ) -> list[Outcome]:
        raise local_only("testing a branch with the tool's stored variables (the API never returns their values; use `workbench test` with --env/--secret)")

    # -- conversation simulation (the workbench server's extra endpoints) ------------------------

    def check_graph(self, org_id: str, graph: ModelOrDict) -> GraphCheck:
        return GraphCheck.model_validate(self.client.request("POST", "/workbench/graph/check", body=_body(graph)))

    def simulate(self, org_id: str, request: ModelOrDict, user_id: str | None = None, on_progress: SimulationProgress | None = None) -> SimulationReport:
        """Run on the server (which records the calls with their conversation sources); the
        report comes back whole, so there is no progress to tell on the way."""
        report = SimulationReport.model_validate(self.client.request("POST", "/workbench/simulation", body=_body(request)))
        self.events.emit(InvocationsRecorded(org_id, None, len(report.invocation_ids())))
        return report

    # -- history and search -------------------------------------------------------------------

    def list_invocations(self, org_id: str, query: ModelOrDict = None) -> ListInvocationsResponse:
        return ListInvocationsResponse.model_validate(self.client.request("GET", "/tool/invocation", query=_body(query)))

    def count_invocations(self, org_id: str, query: ModelOrDict = None) -> int:
        """The API has no count: pages are walked (up to 10,000)."""
        base = {k: v for k, v in _body(query).items() if k not in ("limit", "continuation_token", "sort_by")}
        total: int = 0
        token: int | None = 0
        while token is not None and total < COUNT_CAP:
            page = self.list_invocations(org_id, {**base, "limit": 100, "continuation_token": token})
            total += len(page.tool_invocations)
            token = page.continuation_token
        return total

    def get_invocation(self, org_id: str, invocation_id: str) -> ToolInvocationInstance:
        raise local_only("fetching one invocation by id")

    def search_invocations(self, org_id: str, query: ModelOrDict, on_rebuild: Progress | None = None) -> SearchInvocationsResponse:
        """The API's search; no ``query_against`` asks every field the hosted API knows (it
        requires at least one)."""
        params = _body(query)
        params["query_against"] = params.get("query_against") or list(SPEC_QUERY_AGAINST_FIELDS)
        return SearchInvocationsResponse.model_validate(self.client.request("GET", "/tool/invocation/search", query=params))

    def search_page(self, org_id: str, query: ModelOrDict, on_rebuild: Progress | None = None) -> SearchPage:
        """Hits without snippets: the API returns the invocations only. Whether more match comes
        from ``has_more`` (``workbench serve`` sends it); from the hosted API, a full page says so."""
        response = self.search_invocations(org_id, query)
        found = response.tool_invocations
        has_more = response.has_more if response.has_more is not None else len(found) >= int(_body(query).get("limit") or 50)
        return SearchPage(hits=[SearchHit(inv, {}, 0.0) for inv in found], has_more=has_more)

    def import_invocations(self, records: list[ToolInvocationInstance]) -> int:
        raise local_only("importing invocations")

    def flush_index(self) -> None:
        """The server indexes what it records."""

    def catch_up_index(self, progress: Progress | None = None) -> int:
        return 0

    def rebuild_index(self, progress: Progress | None = None) -> int:
        raise local_only("rebuilding the search index")

    def index_status(self) -> IndexStatus:
        raise local_only("the search index status")

    # -- version insight (the workbench server's extras; the hosted API has none) ---------------

    def tool_stats(self, org_id: str, tool_id: str, query: ModelOrDict = None) -> ToolStats:
        return ToolStats.model_validate(self.client.request("GET", f"/workbench/tool/{tool_id}/stats", query=_body(query)))

    def tool_activity(self, org_id: str, days: int = 14) -> list[ToolActivity]:
        return [ToolActivity.model_validate(item) for item in self.client.request("GET", "/workbench/activity", query={"days": days})]

    def replay_invocation(self, org_id: str, invocation_id: str, request: ModelOrDict = None, user_id: str | None = None) -> ReplayResult:
        replayed = ReplayResult.model_validate(self.client.request("POST", f"/workbench/invocation/{invocation_id}/replay", body=_body(request)))
        self.events.emit(InvocationsRecorded(org_id, None, 1))
        return replayed

    def compare_versions(self, org_id: str, tool_id: str, request: ModelOrDict, user_id: str | None = None) -> Comparison:
        compared = Comparison.model_validate(self.client.request("POST", f"/workbench/tool/{tool_id}/compare", body=_body(request)))
        self.events.emit(InvocationsRecorded(org_id, tool_id, 2 * len(compared.inputs)))
        return compared

    def export_fixtures(self, org_id: str, tool_id: str, query: ModelOrDict = None) -> ExportedFixtures:
        return ExportedFixtures.model_validate(self.client.request("GET", f"/workbench/tool/{tool_id}/fixtures", query=_body(query)))

    def check_fixtures(self, org_id: str, request: ModelOrDict, on_stage: StageListener | None = None) -> FixtureReport:
        """The server reports no stages: the report comes when the check is done."""
        return FixtureReport.model_validate(self.client.request("POST", "/workbench/fixtures/check", body=_body(request)))

    # -- the workbench itself -----------------------------------------------------------------

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Events of what this process did through the server (the API has no change feed)."""
        return self.events.subscribe(listener)

    def start_background_work(self) -> None:
        """The server indexes and keeps its data; nothing runs here."""

    def stop_background_work(self) -> None:
        """Nothing runs here."""

    def data_health(self) -> HealthReport:
        raise local_only("checking the data directory (run `workbench doctor` on the server's machine)")

    def repair_data(self, plan: HealthReport | None = None) -> RepairOutcome:
        raise local_only("repairing the data directory (run `workbench repair` on the server's machine)")

    def runtime_report(self, probe: bool = False) -> RuntimeReport:
        raise local_only("the runtime report (run `workbench doctor` on the server's machine)")

    def prepare_runtime(self, docker: bool = True, say: Callable[[str], None] | None = None) -> list[PrepareStep]:
        raise local_only("preparing the runtime")

    def prune_runtime(self) -> PruneResult:
        raise local_only("pruning the runtime")

    def create_api_key(self, org_id: str, user_id: str, name: str = "", role: str = DEFAULT_ROLE) -> CreatedApiKey:
        raise local_only("managing API keys")

    def list_api_keys(self, org_id: str) -> list[ApiKeyInfo]:
        raise local_only("managing API keys")

    def revoke_api_key(self, org_id: str, key_id: str) -> None:
        raise local_only("managing API keys")

