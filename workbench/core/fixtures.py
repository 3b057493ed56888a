"""Fixtures: recorded inputs with their outputs, exported as a file a tool author keeps in the
tool's repository, and checked against a branch or by publish's checks stage.

Export masks every current secret value of the tool (the records were masked when recorded with
the secrets of that time; a secret set since is masked too). A check runs each fixture's input
and judges the result with ``fixture_format.judge``: a failing fixture is a failed check, shown
with its diff.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from workbench.core.diff import fresh_outcome, input_key
from workbench.core.envvars import EnvVars
from workbench.core.fixture_format import expectation, judge, jsonl, pytest_module, read_fixtures
from workbench.core.insight_text import describe_change
from workbench.core.insight_models import ExportedFixtures, ExportQuery, Fixture, FixtureCheckRequest, FixtureInput, FixtureOrigin, FixtureReport, FixtureResult
from workbench.core.lookup import require_tool
from workbench.core.models import Input, ToolInvocationInstance
from workbench.core.requests import TestToolRequest
from workbench.core.results import Outcome, StageListener
from workbench.core.running import MASK, MAX_INPUTS, SecretMask, run_inputs
from workbench.core.validation import ModelOrDict, check_object_id, check_org, parse
from workbench.core.versions import VersionConstraint
from workbench.errors import BadRequest, StageFailed
from workbench.repo.project import ToolProject
from workbench.runtime.base import Build, Runner
from workbench.store.invocation_queries import InvocationFilter, InvocationQueries
from workbench.store.tables import Metadata

SCAN_LIMIT = 20_000  # recorded invocations read at most while collecting distinct inputs
RunInputs = Callable[[list[Input]], list[Outcome]]


def fixture_from(record: ToolInvocationInstance, mask: SecretMask) -> Fixture:
    """A recorded invocation as a fixture, with the tool's current secrets masked."""
    item = mask.json(record.inputs)
    status = record.invocation_status
    expected = (
        expectation(True, mask.text(status.output), None) if status.succeeded else expectation(False, None, status.exception_type)
    )
    return Fixture(
        name=record.id,
        input=FixtureInput.model_validate({k: item.get(k) or {} for k in ("input_parameters", "nonsensitive_user_variables", "sensitive_user_variables")} | {"invocation_mode": item.get("invocation_mode") or "regular"}),
        expected=expected,
        recorded=FixtureOrigin(invocation_id=record.id, version=str(record.tool_version), created_at=record.created_at),
    )


def run_fixtures(fixtures: list[Fixture], run: RunInputs, label: str) -> list[FixtureResult]:
    """Run every fixture's input (up to 10 at a time, in parallel) and judge each result."""
    results: list[FixtureResult] = []
    for start in range(0, len(fixtures), MAX_INPUTS):
        chunk = fixtures[start : start + MAX_INPUTS]
        outcomes = run([parse(Input, f.input.model_dump(), f"input of fixture {f.name}") for f in chunk])
        results += [judge(f, fresh_outcome(o, label, None)) for f, o in zip(chunk, outcomes)]
    return results


def failure_text(results: list[FixtureResult]) -> str:
    """The failed fixtures with their diffs, for people."""
    lines = []
    for result in results:
        if not result.passed:
            lines.append(f"fixture {result.name}: {result.problem}")
            lines += [f"    {describe_change(change)}" for change in result.changes[:20]]
    return "\n".join(lines)


def load_project_fixtures(project: ToolProject) -> list[Fixture]:
    """The fixtures a project declares (``fixtures = "FILE"``), or none; a missing or bad file
    fails the validate stage."""
    if project.fixtures is None:
        return []
    path = project.root / project.fixtures
    if not path.is_file():
        raise StageFailed("validate", f"[tool.workbench] fixtures: the file {project.fixtures!r} does not exist in the project")
    try:
        return read_fixtures(path.read_text(), f"the fixtures in {project.fixtures}")
    except (BadRequest, UnicodeDecodeError) as error:
        raise StageFailed("validate", getattr(error, "message", str(error))) from None


def check_build_fixtures(
    project: ToolProject, fixtures: list[Fixture], runner: Runner, build: Build, env: dict[str, str], secrets: list[str], timeout: float, output: Callable[[str], None]
) -> None:
    """Publish's and test's checks stage: the project's fixtures against the new build; a failing
    fixture fails the stage with its diff."""
    if not fixtures:
        return
    output(f"$ fixtures {project.fixtures} ({len(fixtures)})")
    results = run_fixtures(fixtures, lambda inputs: run_inputs(runner, build, inputs, env, secrets, timeout), "this build")
    failed = [r for r in results if not r.passed]
    output(f"{len(results) - len(failed)} of {len(results)} fixture(s) passed")
    if failed:
        diff = failure_text(results)
        for line in diff.splitlines()[:20]:
            output(line)
        raise StageFailed("checks", f"{len(failed)} of {len(results)} fixture(s) in {project.fixtures} failed; first: {failed[0].name}: {failed[0].problem}", diff)


class Fixtures:
    """Export recorded invocations as fixtures, and check fixtures against a branch."""

    def __init__(
        self,
        metadata: Metadata,
        envvars: EnvVars,
        queries: InvocationQueries,
        test_inputs: Callable[[str, TestToolRequest, StageListener | None], list[Outcome]],
        test_with_tool: Callable[[str, str, str, str, list[Input], StageListener | None], list[Outcome]],
        clock: Callable[[], datetime],
    ) -> None:
        self.metadata = metadata
        self.envvars = envvars
        self.queries = queries
        self.test_inputs = test_inputs
        self.test_with_tool = test_with_tool
        self.clock = clock

    def export_fixtures(self, org_id: str, tool_id: str, query: ModelOrDict = None) -> ExportedFixtures:
        """The tool's most recent distinct recorded inputs (of the versions asked for, with the
        outcome asked for) with what they gave, as a JSONL or pytest fixture file."""
        check_org(org_id)
        q = parse(ExportQuery, query, "export query")
        with self.metadata.read() as view:
            tool = require_tool(view, org_id, tool_id)
            versions = view.versions.of_tool(tool_id)
            environment = self.envvars.environment(view, org_id, tool_id)
            constraint = VersionConstraint(q.version) if q.version else None
            matching = sorted((v for v in versions if constraint is None or constraint.matches_version(v.version)), key=lambda v: v.version.key)
            build = view.builds.for_version(matching[-1].id) if matching else None
        selection = self.queries.tool_selection(org_id, tool_id, None if constraint is None else constraint.matches)
        records = self._distinct_records(InvocationFilter(org_id, tools=(selection,), succeeded=q.succeeded), q.limit)
        if not records:
            raise BadRequest(f"tool {tool.name} has no recorded invocations{' of versions ' + q.version if q.version else ''} to export as fixtures")
        mask = SecretMask(list(environment.secret.values()))
        fixtures = [fixture_from(r, mask) for r in records]
        notes = [f"{len(fixtures)} fixture(s) of {tool.name} from {len({f.recorded.version for f in fixtures if f.recorded})} version(s), newest first"]
        if any(MASK in f.model_dump_json() for f in fixtures):
            notes.append(f"secrets and sensitive user variables appear as {MASK!r}: they were masked when recorded or on export; the fixtures run with the mask")
        if q.format == "jsonl":
            header: dict[str, Any] = {"tool": tool.name, "tool_id": tool_id, "exported_at": self.clock().isoformat(), "notes": notes}
            content = jsonl(fixtures, header)
        else:
            if build is None:
                raise BadRequest(f"no build of {tool.name} here to read its entry point from; export as jsonl instead")
            content = pytest_module(tool.name, fixtures, build.entry_point, build.input_model)
        return ExportedFixtures(format=q.format, count=len(fixtures), content=content, notes=notes)

    def _distinct_records(self, where: InvocationFilter, limit: int) -> list[ToolInvocationInstance]:
        seen: dict[str, ToolInvocationInstance] = {}
        for offset in range(0, SCAN_LIMIT, 100):
            locations, more = self.queries.page(where, [], 100, offset)
            for raw in self.queries.records(locations):
                record = ToolInvocationInstance.model_validate(raw)
                if isinstance(record.inputs.get("input_parameters"), dict):
                    seen.setdefault(input_key(record.inputs), record)
                if len(seen) >= limit:
                    return list(seen.values())
            if not more:
                break
        return list(seen.values())

    def check_fixtures(self, org_id: str, request: ModelOrDict, on_stage: StageListener | None = None) -> FixtureReport:
        """Build and check a branch's tip (as a test does) and run every fixture against it;
        each result says whether it gave what was recorded, and if not, the diff."""
        check_org(org_id)
        q = parse(FixtureCheckRequest, request, "fixture check request")
        fixtures = read_fixtures(q.fixtures)
        label = f"{q.commit_branch} ({q.project_path})"
        if q.tool_id:
            check_object_id(q.tool_id, "tool id")
            if q.required_envvars or q.required_secret_envvars:
                raise BadRequest("give tool_id (to use the tool's stored variables) or the variables, not both")
            tool_id = q.tool_id

            def run(inputs: list[Input], listener: StageListener | None) -> list[Outcome]:
                return self.test_with_tool(org_id, tool_id, q.commit_branch, q.project_path, inputs, listener)
        else:

            def run(inputs: list[Input], listener: StageListener | None) -> list[Outcome]:
                request = {
                    "inputs": inputs, "commit_branch": q.commit_branch, "project_path": q.project_path,
                    "required_envvars": q.required_envvars, "required_secret_envvars": q.required_secret_envvars,
                }
                return self.test_inputs(org_id, parse(TestToolRequest, request, "fixture check request"), listener)

        stages = [on_stage]  # the stages are reported once: later calls reuse the build

        def reported_once(inputs: list[Input]) -> list[Outcome]:
            listener = stages.pop() if stages else None
            return run(inputs, listener)

        results = run_fixtures(fixtures, reported_once, label)
        passed = sum(1 for r in results if r.passed)
        return FixtureReport(passed=passed, failed=len(results) - passed, results=results)

