"""The one declared interface of the workbench: every operation a face (the app, the CLI, the
HTTP server) may call, with typed requests and results.

The local service (``core.service.ToolService``) and the remote one (``remote.service``, a hosted
or served Tools API over HTTP) both implement it, and a type checker holds them to it. Faces
import this module, ``core.models``, ``core.requests``, ``core.results`` and ``errors``, and
nothing else of the workbench's insides. Importing it is free (its types are read by the type
checker only), so a face that only needs the interface's name pays nothing for it.

A request may be given as its model or as its JSON body (a mapping); either is validated the same
way, and a bad one is a 422 that names each bad field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from workbench.core.permissions import DEFAULT_ROLE

if TYPE_CHECKING:  # only named in annotations: importing this module builds and loads nothing
    from pathlib import Path

    from workbench.core.events import Event
    from workbench.core.models import Input, InvocationOrigin, ToolInstance, ToolInvocationInstance, ToolVersionInstance
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
        Limits,
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
    from workbench.core.simulation.scenario import SimulationRequest
    from workbench.core.validation import ModelOrDict
    from workbench.settings import Settings

if TYPE_CHECKING:
    from workbench.core.insight_models import Comparison, ExportedFixtures, FixtureReport, ReplayResult, ToolActivity, ToolStats

Unsubscribe = Callable[[], None]


class ToolsApi(Protocol):
    """Tools, their variables, versions, runs, history and search, for any organization."""

    settings: Settings

    # -- tools --------------------------------------------------------------------------------

    def create_tool(self, org_id: str, request: ModelOrDict, user_id: str | None = None) -> CreateToolResponse:
        """Create a tool; 409 if a live tool of the org has the name."""
        ...

    def list_tools(self, org_id: str, query: ModelOrDict = None) -> ListToolsResponse:
        """A page of the org's tools with the spec's filters and sort keys."""
        ...

    def list_all_tools(self, org_id: str) -> list[ToolInstance]:
        """Every tool of the org."""
        ...

    def tool_overview(self, org_id: str) -> list[ToolSummary]:
        """Every tool of the org with its active versions."""
        ...

    def get_tool(self, org_id: str, tool_id: str) -> ToolInstance:
        """One tool by id; 404 if it is not in the org."""
        ...

    def find_tool(self, org_id: str, name_or_id: str) -> ToolInstance:
        """A tool by id or by name (the live one first)."""
        ...

    def modify_tool(self, org_id: str, tool_id: str, request: ModelOrDict, user_id: str | None = None) -> None:
        """Change a tool's description and/or tags."""
        ...

    def deprecate_tool(self, org_id: str, tool_id: str, user_id: str | None = None) -> list[str]:
        """Deprecate a tool and its active versions; returns the versions deprecated."""
        ...

    def list_organizations(self) -> list[str]:
        """The organizations that have tools here."""
        ...

    # -- environment variables ----------------------------------------------------------------

    def modify_envvars(self, org_id: str, tool_id: str, request: ModelOrDict, user_id: str | None = None) -> None:
        """Inserts, updates and deletes of a tool's variables, all or nothing."""
        ...

    def list_envvars(self, org_id: str, tool_id: str) -> list[EnvVarInfo]:
        """A tool's variables by name, with the versions requiring each; never values."""
        ...

    # -- versions -----------------------------------------------------------------------------

    def publish_version(
        self, org_id: str, tool_id: str, request: ModelOrDict, user_id: str | None = None, branch: str | None = None, on_stage: StageListener | None = None
    ) -> PublishResponse:
        """Build, check and record a new version from a branch's tip, reporting each stage."""
        ...

    def list_versions(self, org_id: str, tool_id: str, query: ModelOrDict = None) -> ListVersionsResponse:
        """A page of a tool's versions with the spec's filters and sort keys."""
        ...

    def matching_versions(self, org_id: str, tool_id: str, constraint: str) -> list[ToolVersionInstance]:
        """The versions a PEP 440 constraint matches (a deprecation's preview)."""
        ...

    def deprecate_versions(self, org_id: str, tool_id: str, constraint: str, user_id: str | None = None) -> list[str]:
        """Deprecate the active versions matching a constraint; returns their labels."""
        ...

    def repo_branches(self) -> list[str]:
        """The branches a tool can be published or tested from."""
        ...

    # -- running ------------------------------------------------------------------------------

    def invoke_version(
        self, org_id: str, tool_id: str, version: str, request: ModelOrDict, user_id: str | None = None, origin: InvocationOrigin = "cli"
    ) -> InvokeResponse:
        """Run 1 to 10 inputs against a version in parallel, and record each with the spec's source
        for its mode, naming ``origin``, the face that ran it (see ``models.invocation_origin``)."""
        ...

    def invoke_outcomes(
        self, org_id: str, tool_id: str, version: str, request: ModelOrDict, user_id: str | None = None, origin: InvocationOrigin = "cli"
    ) -> list[Outcome]:
        """What invoke_version does, with each result's logs and persistence outcomes."""
        ...

    def test_tool(self, org_id: str, request: ModelOrDict, on_stage: StageListener | None = None) -> InvokeResponse:
        """Build and check a branch's tip and run inputs against it; nothing is recorded."""
        ...

    def test_outcomes(self, org_id: str, request: ModelOrDict, on_stage: StageListener | None = None) -> list[Outcome]:
        """What test_tool does, with each result's logs and persistence outcomes."""
        ...

    def test_branch(
        self, org_id: str, tool_id: str, branch: str, project_path: str, inputs: list[Input], on_stage: StageListener | None = None
    ) -> list[Outcome]:
        """Test a branch with the tool's own stored variables (their values stay in the service)."""
        ...

    def create_project(self, name: str, target: Path, description: str | None = None) -> Path:
        """A complete tool project that passes its own checks, written to ``target``."""
        ...

    def scaffold_archive(self) -> bytes:
        """The scaffold as a .tar.gz (the API's get-tool-scaffold-release)."""
        ...

    def input_problems(self, schema: dict[str, Any] | None, inputs: Any) -> list[str]:
        """What is wrong with inputs before a run: their count, their shape, the input schema."""
        ...

    def limits(self) -> Limits:
        """The API's limits (active versions, inputs, output size, persistence threshold)."""
        ...

    # -- conversation simulation --------------------------------------------------------------

    def check_graph(self, org_id: str, graph: ModelOrDict) -> GraphCheck:
        """Check a context graph document's states and tool call specs against the org: each
        tool exists and is live, each constraint resolves to an active version, the persistence
        and audio-filler fields are valid, a designated tool's input schema is usable."""
        ...

    def simulate(self, org_id: str, request: ModelOrDict, user_id: str | None = None, on_progress: SimulationProgress | None = None) -> SimulationReport:
        """Run a scenario (a :class:`SimulationRequest`) over its graph: every call invoked and
        recorded with a conversation source, the interaction log built turn by turn, the
        expectations checked. 400 naming each turn if it cannot run."""
        ...

    def read_graph_file(self, path: Path) -> dict[str, Any]:
        """A context graph document from a JSON or YAML file."""
        ...

    def read_scenario_file(self, path: Path, runs: int = 1) -> SimulationRequest:
        """A scenario file and the graph file it names, as a request to :meth:`simulate`."""
        ...

    def find_scenario_files(self, directory: Path) -> list[Path]:
        """The scenario files (``*.scenario.yaml``, ``.yml``, ``.json``) under a directory."""
        ...

    # -- history and search -------------------------------------------------------------------

    def list_invocations(self, org_id: str, query: ModelOrDict = None) -> ListInvocationsResponse:
        """A page of the org's invocations with the spec's filters and sort keys."""
        ...

    def count_invocations(self, org_id: str, query: ModelOrDict = None) -> int:
        """How many invocations match the filters."""
        ...

    def get_invocation(self, org_id: str, invocation_id: str) -> ToolInvocationInstance:
        """One invocation by id."""
        ...

    def search_invocations(self, org_id: str, query: ModelOrDict, on_rebuild: Progress | None = None) -> SearchInvocationsResponse:
        """The API's full-text search."""
        ...

    def search_page(self, org_id: str, query: ModelOrDict, on_rebuild: Progress | None = None) -> SearchPage:
        """Full-text search with snippets per hit, and whether more hits exist."""
        ...

    def import_invocations(self, records: list[ToolInvocationInstance]) -> int:
        """Add invocations recorded elsewhere (a generated demo history) to the log."""
        ...

    def flush_index(self) -> None:
        """Index what this process recorded (a short-lived command's last act)."""
        ...

    def catch_up_index(self, progress: Progress | None = None) -> int:
        """Index everything recorded so far, now."""
        ...

    def rebuild_index(self, progress: Progress | None = None) -> int:
        """Rebuild the search index from the log."""
        ...

    def index_status(self) -> IndexStatus:
        """How far the search index has caught up with the log."""
        ...

    # -- version insight (workbench extensions) -----------------------------------------------

    def tool_stats(self, org_id: str, tool_id: str, query: ModelOrDict = None) -> ToolStats:
        """Per version of a tool: counts, success rate, latency and output size percentiles, the
        shares at the persistence threshold and over the output limit, top exceptions, first and
        last seen, counts per source, and a time series; over a window, by source and mode."""
        ...

    def tool_activity(self, org_id: str, days: int = 14) -> list[ToolActivity]:
        """Each live tool's invocations and failures per UTC day over the last days."""
        ...

    def replay_invocation(self, org_id: str, invocation_id: str, request: ModelOrDict = None, user_id: str | None = None) -> ReplayResult:
        """Run a recorded invocation's input again (on its version or another), record it, and
        set the result beside the original; what was masked when recorded is said."""
        ...

    def compare_versions(self, org_id: str, tool_id: str, request: ModelOrDict, user_id: str | None = None) -> Comparison:
        """The same inputs on two versions in parallel, each pair judged (same, changed, newly
        failing, newly fixed) with a structural diff and a duration ratio; every run recorded."""
        ...

    def export_fixtures(self, org_id: str, tool_id: str, query: ModelOrDict = None) -> ExportedFixtures:
        """Recorded inputs with their outputs as a fixture file (JSONL or pytest), secrets masked."""
        ...

    def check_fixtures(self, org_id: str, request: ModelOrDict, on_stage: StageListener | None = None) -> FixtureReport:
        """Run fixtures against a branch's tip; each says whether it gave what was recorded."""
        ...

    # -- the workbench itself -----------------------------------------------------------------

    def subscribe(self, listener: Callable[[Event], None]) -> Unsubscribe:
        """Be told what happens (invocations recorded, versions published, tools changed),
        by this process or, once background work runs, by any process on the same data."""
        ...

    def start_background_work(self) -> None:
        """For long-running faces: index new invocations and watch the data for changes."""
        ...

    def stop_background_work(self) -> None:
        """Stop what start_background_work started."""
        ...

    def data_health(self) -> HealthReport:
        """Whether every file of the data directory loads and the derived parts agree with the
        log, and what `repair_data` would do about what does not."""
        ...

    def repair_data(self, plan: HealthReport | None = None) -> RepairOutcome:
        """Carry out the repairs a health check found (restore from kept copies, keep damaged
        lines aside, rebuild the catalog); what only the user can do is left and said."""
        ...

    def runtime_report(self, probe: bool = False) -> RuntimeReport:
        """Which runtime builds and runs tools here, why, its sandbox, and how to fix what is
        missing; ``probe`` seals a run to list which guarantees hold on this machine."""
        ...

    def prepare_runtime(self, docker: bool = True, say: Callable[[str], None] | None = None) -> list[PrepareStep]:
        """Make this machine run tools sealed (bubblewrap; Docker and its base image when
        ``docker``), as far as its privileges allow; each step says what it found or did."""
        ...

    def prune_runtime(self) -> PruneResult:
        """Remove stopped containers and the images of deprecated versions and test builds."""
        ...

    def create_api_key(self, org_id: str, user_id: str, name: str = "", role: str = DEFAULT_ROLE) -> CreatedApiKey:
        """A new API key with a role (``core.permissions.ROLES``: viewer, developer, admin); its
        secret is shown once and only its hash is kept."""
        ...

    def list_api_keys(self, org_id: str) -> list[ApiKeyInfo]:
        """The org's API keys, without secrets."""
        ...

    def revoke_api_key(self, org_id: str, key_id: str) -> None:
        """Revoke a key; its tokens stop working at once."""
        ...


class ServedApi(ToolsApi, Protocol):
    """What the HTTP server needs beyond the operations: sign-in and token checks."""

    def sign_in(self, org_id: str, key_id: str | None, secret: str | None, user_id: str | None) -> SignedIn:
        """A token for a valid API key of the org and its user; 401 otherwise."""
        ...

    def authenticate(self, token: str | None, username: str | None = None) -> Identity:
        """Who a token is; 401 if it is missing, forged, expired or revoked, or if Basic
        authentication's ``username`` is not ``{org_id}_{user_id}`` of the token."""
        ...

    def authorize(
        self, identity: Identity, org_id: str, header_org: str | None, operation: str | None = None, tool_id: str | None = None, request: ModelOrDict = None
    ) -> None:
        """401/403 unless the token may act on the path's organization, and 403 "Missing required
        permissions" unless its key's role grants what ``operation`` needs (a change of variables,
        given as ``request``, that touches a secret needs ``Tool:ManageSecrets`` too)."""
        ...

    def organization_exists(self, org_id: str) -> bool:
        """Whether the org exists here (it has API keys or tools)."""
        ...

    def list_invocations_json(self, org_id: str, query: ModelOrDict = None) -> bytes:
        """``list_invocations``'s response body as JSON bytes: records already stored in the
        API's shape are sent as stored, not validated and serialized again."""
        ...

    def kept_invocations_json(self, org_id: str, query: ModelOrDict = None) -> bytes | None:
        """``list_invocations_json``'s body if it can be answered at once, without waiting for or
        reading anything: the same page was built before and the log is known unchanged since.
        None otherwise (ask ``list_invocations_json``). Cheap enough for an event loop."""
        ...

    def search_invocations_json(self, org_id: str, query: ModelOrDict) -> bytes:
        """``search_invocations``'s response body as JSON bytes, the same way; 503 while the index
        is rebuilt in the background."""
        ...
