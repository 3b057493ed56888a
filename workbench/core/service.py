"""The local service: the Tools API over one data directory, as a small front over one
collaborator per area. Each area is built here with exactly the parts it uses; none of them
reaches another through ``self``.

    tools       Tools       create, list, modify, deprecate (and with it, the tool's versions)
    envvars     EnvVars     variables and secrets
    versions    Versions    list, resolve, deprecate by constraint
    publisher   Publisher   test from a branch, publish, prune the runtime
    invoker     Invoker     run inputs, record every invocation
    history     History     pages, counts, search and the index
    insight     Insight     statistics per tool and version, activity per tool
    reruns      Reruns      replay an invocation, compare two versions
    fixtures    Fixtures    export recorded invocations as fixtures, check them against a branch
    apikeys     ApiKeys     keys, sign-in, tokens
    simulations Simulations context graph checks and conversation simulation
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from workbench.core.context import Workspace, made_on_first_use
from workbench.core.events import Event, InvocationsRecorded
from workbench.core.models import utcnow
from workbench.core.offline import OfflineOperations
from workbench.core.permissions import DEFAULT_ROLE
from workbench.names import IdFactory, new_id
from workbench.settings import Settings

if TYPE_CHECKING:  # the areas are imported where they are built, on first use
    from workbench.core.apikeys import ApiKeys
    from workbench.core.envvars import EnvVars
    from workbench.core.history import History
    from workbench.core.invoker import Invoker
    from workbench.core.models import Input, InvocationOrigin, ToolInstance, ToolInvocationInstance, ToolVersionInstance
    from workbench.core.publisher import Publisher
    from workbench.core.requests import (
        CreateToolResponse,
        InvokeResponse,
        ListInvocationsResponse,
        ListToolsResponse,
        ListVersionsResponse,
        PublishResponse,
        SearchInvocationsResponse,
    )
    from workbench.core.results import (
        ApiKeyInfo,
        CreatedApiKey,
        EnvVarInfo,
        HealthReport,
        Identity,
        IndexStatus,
        Outcome,
        Progress,
        PrepareStep,
        PruneResult,
        RepairOutcome,
        RuntimeReport,
        SearchPage,
        SignedIn,
        StageListener,
        ToolSummary,
    )
    from workbench.core.simulation.report import GraphCheck, SimulationProgress, SimulationReport
    from workbench.core.simulation.simulator import Simulations
    from workbench.core.tools import Tools
    from workbench.core.validation import ModelOrDict
    from workbench.core.versions import Versions

if TYPE_CHECKING:  # the insight areas are made on first use: a command that needs none loads none
    from workbench.core.fixtures import Fixtures
    from workbench.core.insight import Insight
    from workbench.core.insight_models import Comparison, ExportedFixtures, FixtureReport, ReplayResult, ToolActivity, ToolStats
    from workbench.core.replay import Reruns


class ToolService(OfflineOperations):
    """Tools, their environment variables, versions and invocations, for any organization, over
    one data directory. Implements :class:`workbench.core.api.ServedApi`.

    Each area is built (and its module imported) when an operation first needs it, so a command
    pays only for what it does: an invocation loads neither git, the publisher, the search engine
    nor the simulator."""

    def __init__(self, settings: Settings | None = None, clock: Callable[[], datetime] = utcnow, ids: IdFactory = new_id) -> None:
        self.workspace = Workspace(settings or Settings(), clock, ids)
        self.settings = self.workspace.settings
        self._making = threading.RLock()
        self._stop_following: Callable[[], None] | None = None

    @made_on_first_use
    def versions(self) -> Versions:
        from workbench.core.versions import Versions

        ws = self.workspace
        return Versions(ws.metadata, ws.runtimes, ws.locks, ws.events, ws.clock, ws.settings.user)

    @made_on_first_use
    def tools(self) -> Tools:
        from workbench.core.tools import Tools

        ws = self.workspace
        return Tools(ws.metadata, self.versions, ws.runtimes, ws.locks, ws.events, ws.clock, ws.ids, ws.settings.user)

    @made_on_first_use
    def envvars(self) -> EnvVars:
        from workbench.core.envvars import EnvVars

        ws = self.workspace
        return EnvVars(ws.metadata, ws.secrets, ws.events, ws.clock, ws.recovery_window)

    @made_on_first_use
    def publisher(self) -> Publisher:
        from workbench.core.builds import Builder
        from workbench.core.publisher import Publisher

        ws = self.workspace
        builder = Builder(ws.runtimes, ws.settings.check_timeout_seconds, ws.settings.invocation_timeout_seconds)
        return Publisher(ws.metadata, self.envvars, builder, ws.runtimes, ws.locks, ws.events, ws.settings, ws.paths, ws.clock, ws.ids)

    @made_on_first_use
    def invoker(self) -> Invoker:
        from workbench.core.invoker import Invoker

        ws = self.workspace
        return Invoker(ws.metadata, self.envvars, ws.runtimes, ws.invocations, ws.events, ws.clock, ws.ids, ws.settings.user, ws.settings.invocation_timeout_seconds)

    @made_on_first_use
    def history(self) -> History:
        from workbench.core.history import History

        ws = self.workspace
        return History(ws.queries, ws.search_index, ws.indexer, ws.clock)

    @made_on_first_use
    def apikeys(self) -> ApiKeys:
        from workbench.core.apikeys import ApiKeys

        ws = self.workspace
        return ApiKeys(ws.metadata, ws.paths.signing_key, ws.clock, ws.ids)

    @made_on_first_use
    def simulations(self) -> Simulations:
        from workbench.core.simulation.simulator import Simulations

        ws = self.workspace
        return Simulations(ws.metadata, self.invoker, ws.clock, ws.ids, ws.settings.user)

    # -- tools --------------------------------------------------------------------------------

    def create_tool(self, org_id: str, request: ModelOrDict, user_id: str | None = None) -> CreateToolResponse:
        return self.tools.create_tool(org_id, request, user_id)

    def list_tools(self, org_id: str, query: ModelOrDict = None) -> ListToolsResponse:
        return self.tools.list_tools(org_id, query)

    def list_all_tools(self, org_id: str) -> list[ToolInstance]:
        return [summary.tool for summary in self.tools.overview(org_id)]

    def tool_overview(self, org_id: str) -> list[ToolSummary]:
        return self.tools.overview(org_id)

    def get_tool(self, org_id: str, tool_id: str) -> ToolInstance:
        return self.tools.get_tool(org_id, tool_id)

    def find_tool(self, org_id: str, name_or_id: str) -> ToolInstance:
        return self.tools.find_tool(org_id, name_or_id)

    def modify_tool(self, org_id: str, tool_id: str, request: ModelOrDict, user_id: str | None = None) -> None:
        self.tools.modify_tool(org_id, tool_id, request, user_id)

    def deprecate_tool(self, org_id: str, tool_id: str, user_id: str | None = None) -> list[str]:
        return self.tools.deprecate_tool(org_id, tool_id, user_id)

    def list_organizations(self) -> list[str]:
        with self.workspace.metadata.read() as view:
            return view.tools.organizations()

    # -- environment variables ----------------------------------------------------------------

    def modify_envvars(self, org_id: str, tool_id: str, request: ModelOrDict, user_id: str | None = None) -> None:
        self.envvars.modify_envvars(org_id, tool_id, request, user_id)

    def list_envvars(self, org_id: str, tool_id: str) -> list[EnvVarInfo]:
        return self.envvars.list_envvars(org_id, tool_id)

    # -- versions -----------------------------------------------------------------------------

    def publish_version(
        self, org_id: str, tool_id: str, request: ModelOrDict, user_id: str | None = None, branch: str | None = None, on_stage: StageListener | None = None
    ) -> PublishResponse:
        return self.publisher.publish_version(org_id, tool_id, request, user_id, branch, on_stage)

    def list_versions(self, org_id: str, tool_id: str, query: ModelOrDict = None) -> ListVersionsResponse:
        return self.versions.list_versions(org_id, tool_id, query)

    def matching_versions(self, org_id: str, tool_id: str, constraint: str) -> list[ToolVersionInstance]:
        return self.versions.matching_versions(org_id, tool_id, constraint)

    def deprecate_versions(self, org_id: str, tool_id: str, constraint: str, user_id: str | None = None) -> list[str]:
        return self.versions.deprecate_versions(org_id, tool_id, constraint, user_id)

    def repo_branches(self) -> list[str]:
        return self.publisher.repo_branches()

    # -- running ------------------------------------------------------------------------------

    def invoke_version(
        self, org_id: str, tool_id: str, version: str, request: ModelOrDict, user_id: str | None = None, origin: InvocationOrigin = "cli"
    ) -> InvokeResponse:
        return self.invoker.invoke_version(org_id, tool_id, version, request, user_id, origin)

    def invoke_outcomes(
        self, org_id: str, tool_id: str, version: str, request: ModelOrDict, user_id: str | None = None, origin: InvocationOrigin = "cli"
    ) -> list[Outcome]:
        return self.invoker.invoke_outcomes(org_id, tool_id, version, request, user_id, origin)

    def test_tool(self, org_id: str, request: ModelOrDict, on_stage: StageListener | None = None) -> InvokeResponse:
        return self.publisher.test_tool(org_id, request, on_stage)

    def test_outcomes(self, org_id: str, request: ModelOrDict, on_stage: StageListener | None = None) -> list[Outcome]:
        return self.publisher.test_outcomes(org_id, request, on_stage)

    def test_branch(
        self, org_id: str, tool_id: str, branch: str, project_path: str, inputs: list[Input], on_stage: StageListener | None = None
    ) -> list[Outcome]:
        return self.publisher.test_branch(org_id, tool_id, branch, project_path, inputs, on_stage)

    # -- conversation simulation --------------------------------------------------------------

    def check_graph(self, org_id: str, graph: ModelOrDict) -> GraphCheck:
        return self.simulations.check_graph(org_id, graph)

    def simulate(self, org_id: str, request: ModelOrDict, user_id: str | None = None, on_progress: SimulationProgress | None = None) -> SimulationReport:
        return self.simulations.simulate(org_id, request, user_id, on_progress)

    # -- history and search -------------------------------------------------------------------

    def list_invocations(self, org_id: str, query: ModelOrDict = None) -> ListInvocationsResponse:
        return self.history.list_invocations(org_id, query)

    def count_invocations(self, org_id: str, query: ModelOrDict = None) -> int:
        return self.history.count_invocations(org_id, query)

    def get_invocation(self, org_id: str, invocation_id: str) -> ToolInvocationInstance:
        return self.history.get_invocation(org_id, invocation_id)

    def search_invocations(self, org_id: str, query: ModelOrDict, on_rebuild: Progress | None = None) -> SearchInvocationsResponse:
        return self.history.search_invocations(org_id, query, on_rebuild)

    def search_page(self, org_id: str, query: ModelOrDict, on_rebuild: Progress | None = None) -> SearchPage:
        return self.history.search_page(org_id, query, on_rebuild)

    def list_invocations_json(self, org_id: str, query: ModelOrDict = None) -> bytes:
        return self.history.list_invocations_json(org_id, query)

    def kept_invocations_json(self, org_id: str, query: ModelOrDict = None) -> bytes | None:
        return self.history.kept_invocations_json(org_id, query)

    def search_invocations_json(self, org_id: str, query: ModelOrDict) -> bytes:
        return self.history.search_invocations_json(org_id, query)

    def import_invocations(self, records: list[ToolInvocationInstance]) -> int:
        return self.invoker.import_invocations(records)

    def flush_index(self) -> None:
        self.history.flush_index()

    def catch_up_index(self, progress: Progress | None = None) -> int:
        return self.history.catch_up_index(progress)

    def rebuild_index(self, progress: Progress | None = None) -> int:
        return self.history.rebuild_index(progress)

    def index_status(self) -> IndexStatus:
        return self.history.index_status()

    # -- version insight ----------------------------------------------------------------------

    @made_on_first_use
    def insight(self) -> Insight:
        from workbench.core.insight import Insight
        from workbench.store.invocation_stats import InvocationStats

        return Insight(self.workspace.metadata, InvocationStats(self.workspace.catalog), self.workspace.clock)

    @made_on_first_use
    def reruns(self) -> Reruns:
        from workbench.core.replay import Reruns

        ws = self.workspace
        return Reruns(ws.metadata, ws.queries, self.invoker, ws.ids, ws.settings.user)

    @made_on_first_use
    def fixtures(self) -> Fixtures:
        from workbench.core.fixtures import Fixtures

        ws = self.workspace
        return Fixtures(ws.metadata, self.envvars, ws.queries, self.publisher.test_outcomes, self.publisher.test_branch, ws.clock)

    def tool_stats(self, org_id: str, tool_id: str, query: ModelOrDict = None) -> ToolStats:
        return self.insight.tool_stats(org_id, tool_id, query)

    def tool_activity(self, org_id: str, days: int = 14) -> list[ToolActivity]:
        return self.insight.tool_activity(org_id, days)

    def replay_invocation(self, org_id: str, invocation_id: str, request: ModelOrDict = None, user_id: str | None = None) -> ReplayResult:
        return self.reruns.replay_invocation(org_id, invocation_id, request, user_id)

    def compare_versions(self, org_id: str, tool_id: str, request: ModelOrDict, user_id: str | None = None) -> Comparison:
        return self.reruns.compare_versions(org_id, tool_id, request, user_id)

    def export_fixtures(self, org_id: str, tool_id: str, query: ModelOrDict = None) -> ExportedFixtures:
        return self.fixtures.export_fixtures(org_id, tool_id, query)

    def check_fixtures(self, org_id: str, request: ModelOrDict, on_stage: StageListener | None = None) -> FixtureReport:
        return self.fixtures.check_fixtures(org_id, request, on_stage)

    # -- the workbench itself -----------------------------------------------------------------

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        return self.workspace.events.subscribe(listener)

    def start_background_work(self) -> None:
        indexer = self.workspace.indexer
        indexer.start_background()
        if self._stop_following is None:  # what this process records, and what its watcher sees others record

            def index_what_was_recorded(event: Event) -> None:
                if isinstance(event, InvocationsRecorded):
                    indexer.nudge()

            self._stop_following = self.workspace.events.subscribe(index_what_was_recorded)
        self.workspace.watcher.start()

    def stop_background_work(self) -> None:
        self.workspace.watcher.stop()
        if self._stop_following is not None:
            self._stop_following()
            self._stop_following = None
        self.workspace.indexer.stop()

    def data_health(self) -> HealthReport:
        from workbench.store.health import check

        report = check(self.workspace.data_directory())
        report.findings.append(self.history.index_health())
        return report

    def repair_data(self, plan: HealthReport | None = None) -> RepairOutcome:
        from workbench.core.results import RepairOutcome
        from workbench.store.repair import repair

        plan = plan or self.data_health()
        outcome = repair(self.workspace.data_directory(), plan)  # the stores first: the index derives from them
        if any(f.action == "rebuild_index" for f in plan.findings):
            outcome.done.append(f"rebuilt the search index from the log ({self.rebuild_index():,} invocations)")
        after = self.data_health()
        return RepairOutcome(outcome.done, after.problems, after)

    def runtime_report(self, probe: bool = False) -> RuntimeReport:
        return self.workspace.runtimes.report(probe)

    def prepare_runtime(self, docker: bool = True, say: Callable[[str], None] | None = None) -> list[PrepareStep]:
        from workbench.runtime.prepare import prepare

        return prepare(self.settings, say or (lambda _: None), docker=docker)

    def prune_runtime(self) -> PruneResult:
        return self.publisher.prune_runtime()

    def create_api_key(self, org_id: str, user_id: str, name: str = "", role: str = DEFAULT_ROLE) -> CreatedApiKey:
        return self.apikeys.create_api_key(org_id, user_id, name, role)

    def list_api_keys(self, org_id: str) -> list[ApiKeyInfo]:
        return self.apikeys.list_api_keys(org_id)

    def revoke_api_key(self, org_id: str, key_id: str) -> None:
        self.apikeys.revoke_api_key(org_id, key_id)

    def organization_exists(self, org_id: str) -> bool:
        return self.apikeys.organization_exists(org_id)

    def sign_in(self, org_id: str, key_id: str | None, secret: str | None, user_id: str | None) -> SignedIn:
        return self.apikeys.sign_in(org_id, key_id, secret, user_id)

    def authenticate(self, token: str | None, username: str | None = None) -> Identity:
        return self.apikeys.authenticate(token, username)

    def authorize(
        self, identity: Identity, org_id: str, header_org: str | None, operation: str | None = None, tool_id: str | None = None, request: ModelOrDict = None
    ) -> None:
        self.apikeys.authorize(identity, org_id, header_org, operation, tool_id, request)
