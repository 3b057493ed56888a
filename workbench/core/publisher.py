"""Testing a tool from a branch and publishing versions: the stages resolve, export, validate,
build, checks and record, each reported as it happens.

Build comes before checks because the checks (the tool's own tests) import the tool, which needs
its dependencies installed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from workbench.core.builds import Builder, CheckEnvironment, Prepared
from workbench.core.envvars import EnvVars
from workbench.core.events import EventBus, PublishProgress, VersionPublished
from workbench.core.locks import OperationLocks
from workbench.core.lookup import require_tool, version_user
from workbench.core.models import Input
from workbench.core.requests import InvokeResponse, PublishRequest, PublishResponse, TestToolRequest
from workbench.core.results import Outcome, PruneResult, StageEvent, StageListener
from workbench.core.running import run_inputs, validate_inputs
from workbench.core.runtimes import Runtimes
from workbench.core.stages import Stages
from workbench.core.validation import ModelOrDict, check_object_id, check_org, parse
from workbench.core.versions import MAX_ACTIVE_VERSIONS, next_version
from workbench.errors import BadRequest, StageFailed
from workbench.names import IdFactory
from workbench.repo.git import ToolsRepo
from workbench.repo.project import ToolProject
from workbench.settings import DataPaths, Settings
from workbench.store import FileLock
from workbench.store.records import BuildRecord, VersionRecord
from workbench.store.tables import Metadata

BUILD_STAGES = ("export", "validate", "build", "checks")


def check_active_count(active: list[VersionRecord]) -> None:
    if len(active) >= MAX_ACTIVE_VERSIONS:
        labels = ", ".join(v.label for v in active)
        raise BadRequest(f"the tool already has {len(active)} active versions ({labels}); at most {MAX_ACTIVE_VERSIONS} are allowed, deprecate one first")


class Publisher:
    """Test a project at a branch's tip, publish immutable versions, and tidy the runtime."""

    def __init__(
        self,
        metadata: Metadata,
        envvars: EnvVars,
        builder: Builder,
        runtimes: Runtimes,
        locks: OperationLocks,
        events: EventBus,
        settings: Settings,
        paths: DataPaths,
        clock: Callable[[], datetime],
        ids: IdFactory,
    ) -> None:
        self.metadata = metadata
        self.envvars = envvars
        self.builder = builder
        self.runtimes = runtimes
        self.locks = locks
        self.events = events
        self.settings = settings
        self.paths = paths
        self.clock = clock
        self.ids = ids

    def repo(self) -> ToolsRepo:
        return ToolsRepo(self.settings.tools_repo_path())

    def repo_branches(self) -> list[str]:
        """The branches of the tools repository (to pick one to publish or test from)."""
        return self.repo().branches()

    # -- test ---------------------------------------------------------------------------------

    def test_outcomes(self, org_id: str, request: ModelOrDict, on_stage: StageListener | None = None) -> list[Outcome]:
        """Validate, build and check a project at a branch's tip, then run the inputs against it.
        Nothing is published or recorded. The build is reused while the branch tip is the same."""
        check_org(org_id)
        req = parse(TestToolRequest, request, "test request")
        both = sorted(set(req.required_envvars) & set(req.required_secret_envvars))
        if both:
            raise BadRequest(f"{', '.join(both)} given as both a secret and a non-secret environment variable; give each name once")
        secrets = list(req.required_secret_envvars.values())
        env = {**req.required_envvars, **req.required_secret_envvars}

        def declared(project: ToolProject) -> None:
            missing = [n for n in project.required_envvars if n not in req.required_envvars]
            missing += [n for n in project.required_secret_envvars if n not in req.required_secret_envvars]
            if missing:
                raise StageFailed("validate", f"the tool requires {', '.join(missing)}, which the request does not declare")

        prepared, commit = self._tested_build(org_id, req.commit_branch, req.project_path, Stages(on_stage), declared, CheckEnvironment(env, secrets))
        validate_inputs(prepared.input_schema, req.inputs)
        runner = self.runtimes.named(prepared.build.runner)
        outcomes = run_inputs(runner, prepared.build, req.inputs, env, secrets, self.settings.invocation_timeout_seconds)
        return [replace(outcome, branch=req.commit_branch, commit=commit) for outcome in outcomes]

    def test_tool(self, org_id: str, request: ModelOrDict, on_stage: StageListener | None = None) -> InvokeResponse:
        """The API's test: each input's result."""
        return InvokeResponse(invocation_results=[o.result for o in self.test_outcomes(org_id, request, on_stage)])

    def test_branch(self, org_id: str, tool_id: str, branch: str, project_path: str, inputs: list[Input], on_stage: StageListener | None = None) -> list[Outcome]:
        """Test a branch with the tool's own variables, read here: their values never leave the
        service (the app tests this way)."""
        check_org(org_id)
        with self.metadata.read() as view:
            require_tool(view, org_id, tool_id)
            environment = self.envvars.environment(view, org_id, tool_id)
        request = TestToolRequest(
            inputs=inputs, commit_branch=branch, project_path=project_path, required_envvars=environment.plain, required_secret_envvars=environment.secret
        )
        return self.test_outcomes(org_id, request, on_stage)

    def _tested_build(self, org_id: str, branch: str, project_path: str, stages: Stages, declared: Callable[[ToolProject], None], env: CheckEnvironment) -> tuple[Prepared, str]:
        """The checked build of a branch's tip (reused while the tip stays the same), and that tip."""
        with stages.run("resolve"):
            repo = self.repo()
            commit = repo.branch_tip(branch)
        digest = hashlib.sha1(project_path.strip("/").encode()).hexdigest()[:10]
        directory = self.paths.test_builds / f"{commit[:16]}-{digest}"
        marker = directory / "ready.json"
        with FileLock(directory.with_suffix(".lock")):
            if marker.exists():
                prepared = self.builder.load(BuildRecord.model_validate_json(marker.read_text()))
                declared(prepared.project)
                stages.reused(BUILD_STAGES, "reused the build of this commit")
                return prepared, commit
            shutil.rmtree(directory, ignore_errors=True)
            try:
                labels = {"workbench.org": org_id, "workbench.commit": commit, "workbench.test": project_path}
                prepared = self.builder.prepare(repo, commit, project_path, directory, stages, declared, lambda: env, labels)
            except BaseException:
                shutil.rmtree(directory, ignore_errors=True)
                raise
            marker.write_text(prepared.record().model_dump_json())
            return prepared, commit

    # -- publish ------------------------------------------------------------------------------

    def publish_version(
        self, org_id: str, tool_id: str, request: ModelOrDict, user_id: str | None = None, branch: str | None = None, on_stage: StageListener | None = None
    ) -> PublishResponse:
        """Build, check and record a new immutable version from the tip of a branch.

        ``repo`` picks the branch (``team`` -> the team branch, ``main`` -> the main branch);
        ``branch`` names one directly. 400: the commit is older than the last valid one, the tool
        already has 3 active versions, required variables are missing, validation, build or
        checks failed. 409: another publish or deprecate of this tool is running.
        """
        check_org(org_id)
        check_object_id(tool_id, "tool id")
        req = parse(PublishRequest, request, "publish request")
        user = user_id or self.settings.user

        def report(event: StageEvent) -> None:
            if on_stage:
                on_stage(event)
            self.events.emit(PublishProgress(org_id, tool_id, event.stage, event.state, event.detail))

        stages = Stages(report)
        with self.locks.hold(tool_id):
            with stages.run("resolve") as output:
                with self.metadata.read() as view:
                    tool = require_tool(view, org_id, tool_id)
                    versions = view.versions.of_tool(tool_id)
                if tool.deprecated:
                    raise BadRequest(f"tool {tool.name} is deprecated; create a new tool to publish again")
                active = [v for v in versions if not v.deprecated]
                check_active_count(active)
                repo = self.repo()
                branch_name = branch or (self.settings.team_branch if req.repo == "team" else self.settings.main_branch)
                commit = repo.branch_tip(branch_name)
                output(f"{branch_name} is at {commit[:12]}")
                if active and not repo.is_descendant(commit, active[-1].tool_commit_hash):
                    last = active[-1]
                    raise BadRequest(
                        f"commit {commit[:12]} (tip of {branch_name}) is older than the last valid commit "
                        f"{last.tool_commit_hash[:12]} of version {last.label}; publish from a branch that contains it"
                    )
                planned = next_version(versions, req.bump_type).label
            labels = {"workbench.org": org_id, "workbench.tool": tool_id, "workbench.tool_name": tool.name, "workbench.version": planned, "workbench.commit": commit}
            version_id = self.ids()
            directory = self.paths.builds / version_id
            try:
                prepared = self.builder.prepare(
                    repo, commit, req.project_path, directory, stages,
                    lambda project: self._check_envvars_present(org_id, tool_id, project),
                    lambda: self._checks_env(org_id, tool_id),
                    labels,
                )
                with stages.run("record") as output:
                    new_version = self._record_version(org_id, tool_id, version_id, req, branch_name, commit, user, prepared)
                    output(f"version {new_version}")
                    try:
                        self.runtimes.named(prepared.build.runner).prewarm(prepared.build)
                    except Exception as error:  # noqa: BLE001 - a cold first invocation is still an invocation
                        output(f"could not start a warm worker now ({error}); the first invocation will")
            except BaseException:
                shutil.rmtree(directory, ignore_errors=True)
                raise
        self.events.emit(VersionPublished(org_id, tool_id, new_version))
        return PublishResponse(new_version=new_version)

    def _checks_env(self, org_id: str, tool_id: str) -> CheckEnvironment:
        with self.metadata.read() as view:
            environment = self.envvars.environment(view, org_id, tool_id)
        return CheckEnvironment(environment.all, list(environment.secret.values()))

    def _check_envvars_present(self, org_id: str, tool_id: str, project: ToolProject) -> None:
        with self.metadata.read() as view:
            records = view.envvars.live(org_id, tool_id)
        plain = {r.name for r in records if not r.is_secret}
        secret = {r.name for r in records if r.is_secret}
        missing = [n for n in project.required_envvars if n not in plain]
        missing += [f"{n} (secret)" for n in project.required_secret_envvars if n not in secret]
        if missing:
            raise StageFailed("validate", f"the tool version requires environment variables that do not exist on the tool: {', '.join(missing)}; add them first")

    def _record_version(self, org_id: str, tool_id: str, version_id: str, req: PublishRequest, branch: str, commit: str, user: str, prepared: Prepared) -> str:
        now = self.clock()
        with self.metadata.write() as view:
            existing = view.versions.of_tool(tool_id)
            check_active_count([v for v in existing if not v.deprecated])
            version = next_version(existing, req.bump_type)
            creator = version_user(org_id, user)
            view.versions.insert(
                VersionRecord(
                    id=version_id, org_id=org_id, created_at=now, updated_at=now, tool_id=tool_id, version=version,
                    required_envvars=prepared.project.required_envvars, required_secret_envvars=prepared.project.required_secret_envvars,
                    input_schema=prepared.input_schema, tool_repo=req.repo, tool_commit_hash=commit,
                    amigo_scaffold_commit_hash=prepared.project.scaffold, project_directory=req.project_path.strip("/"),
                    lambda_version=len(existing) + 1, creator=creator, updated_by=creator, deprecated=False,
                )
            )
            view.builds.insert(prepared.record(version_id, branch))
        return version.label

    # -- housekeeping -------------------------------------------------------------------------

    def prune_runtime(self) -> PruneResult:
        """Remove the runtime's leftovers: stopped containers, and the images of deprecated
        versions and of test builds (both can be rebuilt; deprecated ones are never run again)."""
        with self.metadata.read() as view:
            deprecated = view.versions.deprecated_ids()
            builds = view.builds.all()
        images = [b.details["image"] for b in builds if b.version_id in deprecated and b.runner == "docker" and "image" in b.details]
        for marker in self.paths.test_builds.glob("*/ready.json"):
            try:
                record = BuildRecord.model_validate(json.loads(marker.read_text()))
            except ValueError:
                marker.unlink()
                continue
            if record.runner == "docker":
                images.append(record.details["image"])
                marker.unlink()
        runner = self.runtimes.default
        if runner.name != "docker":
            return PruneResult(containers=0, images=0)
        removed = runner.prune(images)  # type: ignore[attr-defined]
        return PruneResult(containers=removed["containers"], images=removed["images"])
