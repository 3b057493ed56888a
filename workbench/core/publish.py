"""Testing a tool from a branch and publishing versions: the stages resolve, export, validate,
build, checks and record, each reported as it happens.

Build comes before checks because the checks (the tool's own tests) import the tool, which needs
its dependencies installed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinydb import Query

from workbench.core.context import ServiceContext, check_object_id, check_org, parse
from workbench.core.envvars import EnvVarOperations
from workbench.core.models import new_id
from workbench.core.requests import InvokeResponse, PublishRequest, PublishResponse, TestToolRequest
from workbench.core.running import Outcome, SecretMask, run_inputs, validate_inputs
from workbench.core.tools import ENVVARS, VERSIONS
from workbench.core.versions import BUILDS, MAX_ACTIVE_VERSIONS, VersionOperations, key, label, next_version
from workbench.errors import BadRequest, StageFailed, WorkbenchError
from workbench.repo.git import ToolsRepo
from workbench.repo.project import ToolProject, check_input_schema
from workbench.runtime.base import Build, BuildSpec
from workbench.store import FileLock

STAGES = ("resolve", "export", "validate", "build", "checks", "record")


@dataclass(frozen=True)
class StageEvent:
    """A stage started, passed or failed; ``detail`` is a line of its output or the failure."""

    stage: str
    state: str  # "running" | "passed" | "failed" | "output"
    detail: str = ""


StageListener = Callable[[StageEvent], None]


class Stages:
    """Reports each stage's progress to a listener (the TUI shows them live)."""

    def __init__(self, listener: StageListener | None) -> None:
        self.listener = listener or (lambda event: None)

    @contextmanager
    def run(self, stage: str) -> Iterator[Callable[[str], None]]:
        self.listener(StageEvent(stage, "running"))
        try:
            yield lambda line: self.listener(StageEvent(stage, "output", line))
        except WorkbenchError as error:
            self.listener(StageEvent(stage, "failed", error.message))
            if isinstance(error, BadRequest) and not isinstance(error, StageFailed) and stage not in ("resolve", "record"):
                raise StageFailed(stage, error.message) from None
            raise
        except Exception as error:
            self.listener(StageEvent(stage, "failed", str(error)))
            raise StageFailed(stage, f"{type(error).__name__}: {error}") from error
        self.listener(StageEvent(stage, "passed"))


@dataclass
class Prepared:
    """A project exported, validated, built and checked: ready to record or to run."""

    project: ToolProject
    build: Build
    input_schema: dict[str, Any]


class PublishOperations(VersionOperations, EnvVarOperations):
    """Test from a branch, and publish. Mixed into the service."""

    ctx: ServiceContext

    # -- the shared pipeline ------------------------------------------------------------------

    def _prepare(
        self,
        repo: ToolsRepo,
        commit: str,
        project_path: str,
        directory: Path,
        stages: Stages,
        check_env: Callable[[ToolProject], None],
        checks_env: Callable[[], tuple[dict[str, str], list[str]]],
        labels: dict[str, str],
    ) -> Prepared:
        """Export, validate, build and check. ``checks_env`` gives the checks' environment and the
        secret values in it, which are masked in every line of check output shown or raised."""
        with stages.run("export"):
            project_dir = repo.export(commit, project_path, directory / "project")
        with stages.run("validate"):
            project = ToolProject.load(project_dir)
            file_schema = project.file_input_schema()
            check_env(project)
        runner = self.ctx.runner
        build: Build | None = None
        try:
            with stages.run("build") as output:
                spec = BuildSpec(project_dir, project.dependencies, project.entry_point, project.input_model, project.simulation_network, labels)
                build = runner.build(spec, directory, output)
                described = runner.describe(build)
                if not described.get("ok"):
                    trace = "\n".join(described.get("exception_stack_trace", []))
                    raise StageFailed(
                        "build",
                        f"the entry point {project.entry_point} could not be loaded: {described.get('exception_type')}: {described.get('exception_message')}",
                        trace,
                    )
                schema = file_schema if file_schema is not None else check_input_schema(described.get("input_schema"), project.input_model or "")
            with stages.run("checks") as output:
                env, secret_values = checks_env()
                mask = SecretMask(secret_values)
                for command in project.checks:
                    output(f"$ {command}")
                    result = runner.run_check(build, command, env, self.ctx.settings.check_timeout_seconds)
                    shown = mask.text(result.output)
                    for line in shown.splitlines()[-20:]:
                        output(line)
                    if not result.passed:
                        raise StageFailed("checks", f"check {command!r} failed", shown)
        except BaseException:
            if build is not None:
                runner.discard(build)
            raise
        return Prepared(project, build, schema)

    def _repo(self) -> ToolsRepo:
        return ToolsRepo(self.ctx.settings.tools_repo_path())

    def repo_branches(self) -> list[str]:
        """The branches of the tools repository (to pick one to publish or test from)."""
        return self._repo().branches()

    # -- test ---------------------------------------------------------------------------------

    def test_tool(self, org_id: str, request: TestToolRequest | dict[str, Any], on_stage: StageListener | None = None) -> InvokeResponse:
        """Validate, build and check a project at a branch's tip, then run the inputs against it.
        Nothing is published or recorded. The build is reused while the branch tip is the same."""
        return InvokeResponse(invocation_results=[o.result for o in self.test_outcomes(org_id, request, on_stage)])

    def test_outcomes(self, org_id: str, request: TestToolRequest | dict[str, Any], on_stage: StageListener | None = None) -> list[Outcome]:
        """What :meth:`test_tool` does, returning each input's result with its (masked) logs."""
        check_org(org_id)
        req = parse(TestToolRequest, request, "test request")
        both = sorted(set(req.required_envvars) & set(req.required_secret_envvars))
        if both:
            raise BadRequest(f"{', '.join(both)} given as both a secret and a non-secret environment variable; give each name once")
        stages = Stages(on_stage)
        with stages.run("resolve"):
            repo = self._repo()
            commit = repo.branch_tip(req.commit_branch)

        def declared(project: ToolProject) -> None:
            missing = [n for n in project.required_envvars if n not in req.required_envvars]
            missing += [n for n in project.required_secret_envvars if n not in req.required_secret_envvars]
            if missing:
                raise StageFailed("validate", f"the tool requires {', '.join(missing)}, which the request does not declare")

        digest = hashlib.sha1(req.project_path.strip("/").encode()).hexdigest()[:10]
        directory = self.ctx.paths.test_builds / f"{commit[:16]}-{digest}"
        marker = directory / "ready.json"
        with FileLock(directory.with_suffix(".lock")):
            if marker.exists():
                prepared = self._load_prepared(directory, json.loads(marker.read_text()))
                declared(prepared.project)
                for stage in ("export", "validate", "build", "checks"):
                    stages.listener(StageEvent(stage, "passed", "reused the build of this commit"))
            else:
                shutil.rmtree(directory, ignore_errors=True)
                try:
                    labels = {"workbench.org": org_id, "workbench.commit": commit, "workbench.test": req.project_path}
                    prepared = self._prepare(
                        repo, commit, req.project_path, directory, stages, declared,
                        lambda: ({**req.required_envvars, **req.required_secret_envvars}, list(req.required_secret_envvars.values())),
                        labels,
                    )
                except BaseException:
                    shutil.rmtree(directory, ignore_errors=True)
                    raise
                marker.write_text(json.dumps(self._build_record(prepared)))
        validate_inputs(prepared.input_schema, req.inputs)
        env = {**req.required_envvars, **req.required_secret_envvars}
        return run_inputs(self.ctx.runner_for(prepared.build.runner), prepared.build, req.inputs, env, list(req.required_secret_envvars.values()), self.ctx.settings.invocation_timeout_seconds)

    @staticmethod
    def _build_record(prepared: Prepared) -> dict[str, Any]:
        p, b = prepared.project, prepared.build
        return {
            "runner": b.runner,
            "directory": str(b.directory),
            "project_dir": str(b.spec.project_dir),
            "dependencies": b.spec.dependencies,
            "entry_point": b.spec.entry_point,
            "input_model": b.spec.input_model,
            "simulation_network": b.spec.simulation_network,
            "details": b.details,
            "input_schema": prepared.input_schema,
            "required_envvars": p.required_envvars,
            "required_secret_envvars": p.required_secret_envvars,
        }

    def _load_prepared(self, directory: Path, record: dict[str, Any]) -> Prepared:
        project = ToolProject.load(Path(record["project_dir"]))
        return Prepared(project, self._load_build(record), record["input_schema"])

    def _load_build(self, record: dict[str, Any]) -> Build:
        spec = BuildSpec(
            Path(record["project_dir"]), record["dependencies"], record["entry_point"], record["input_model"], record.get("simulation_network", False)
        )
        return self.ctx.runner_for(record["runner"]).load(Path(record["directory"]), spec, record["details"])

    def _retire_versions(self, version_ids: list[str]) -> None:
        """Stop what runs for deprecated versions (their warm containers)."""
        with self.ctx.metadata.read() as db:
            records = [db.table(BUILDS).get(Query().version_id == vid) for vid in version_ids]
        for record in filter(None, records):
            try:
                build = self._load_build(record)
                self.ctx.runner_for(build.runner).retire(build)
            except WorkbenchError:
                pass  # no daemon: nothing of it can be running either

    def prune_runtime(self) -> dict[str, int]:
        """Remove the runtime's leftovers: stopped containers, and the images of deprecated
        versions and of test builds (both can be rebuilt; deprecated ones are never run again)."""
        with self.ctx.metadata.read() as db:
            deprecated = {v["id"] for v in db.table(VERSIONS).search(Query().deprecated == True)}  # noqa: E712
            builds = db.table(BUILDS).all()
        images = [b["details"]["image"] for b in builds if b["version_id"] in deprecated and b["runner"] == "docker"]
        for marker in self.ctx.paths.test_builds.glob("*/ready.json"):
            record = json.loads(marker.read_text())
            if record["runner"] == "docker":
                images.append(record["details"]["image"])
                marker.unlink()
        runner = self.ctx.runner
        if runner.name != "docker":
            return {"containers": 0, "images": 0}
        return runner.prune(images)

    # -- publish ------------------------------------------------------------------------------

    def publish_version(
        self,
        org_id: str,
        tool_id: str,
        request: PublishRequest | dict[str, Any],
        user_id: str | None = None,
        branch: str | None = None,
        on_stage: StageListener | None = None,
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
        user = user_id or self.ctx.settings.user
        stages = Stages(on_stage)
        with self.ctx.operation_lock(tool_id):
            with stages.run("resolve") as output:
                with self.ctx.metadata.read() as db:
                    tool = self._tool_record(db, org_id, tool_id)
                    active = [v for v in db.table(VERSIONS).search(Query().tool_id == tool_id) if not v["deprecated"]]
                if tool["deprecated"]:
                    raise BadRequest(f"tool {tool['name']} is deprecated; create a new tool to publish again")
                self._check_active_count(active)
                repo = self._repo()
                branch_name = branch or (self.ctx.settings.team_branch if req.repo == "team" else self.ctx.settings.main_branch)
                commit = repo.branch_tip(branch_name)
                output(f"{branch_name} is at {commit[:12]}")
                with self.ctx.metadata.read() as db:
                    planned = label(next_version([v["version"] for v in db.table(VERSIONS).search(Query().tool_id == tool_id)], req.bump_type))
                labels = {
                    "workbench.org": org_id,
                    "workbench.tool": tool_id,
                    "workbench.tool_name": tool["name"],
                    "workbench.version": planned,
                    "workbench.commit": commit,
                }
                if active:
                    last = max(active, key=lambda v: key(v["version"]))
                    if not repo.is_descendant(commit, last["tool_commit_hash"]):
                        raise BadRequest(
                            f"commit {commit[:12]} (tip of {branch_name}) is older than the last valid commit "
                            f"{last['tool_commit_hash'][:12]} of version {label(last['version'])}; publish from a branch that contains it"
                        )
            version_id = new_id()
            directory = self.ctx.paths.builds / version_id
            try:
                prepared = self._prepare(
                    repo, commit, req.project_path, directory, stages,
                    lambda project: self._check_envvars_present(org_id, tool_id, project),
                    lambda: self._checks_env(org_id, tool_id),
                    labels,
                )
                with stages.run("record") as output:
                    new_version = self._record_version(org_id, tool_id, version_id, req, branch_name, commit, user, prepared)
                    output(f"version {new_version}")
                    try:
                        self.ctx.runner_for(prepared.build.runner).prewarm(prepared.build)
                    except Exception as error:  # a cold first invocation is still an invocation
                        output(f"could not start a warm worker now ({error}); the first invocation will")
            except BaseException:
                shutil.rmtree(directory, ignore_errors=True)
                raise
        return PublishResponse(new_version=new_version)

    @staticmethod
    def _check_active_count(active: list[dict[str, Any]]) -> None:
        if len(active) >= MAX_ACTIVE_VERSIONS:
            labels = ", ".join(label(v["version"]) for v in sorted(active, key=lambda v: key(v["version"])))
            raise BadRequest(f"the tool already has {len(active)} active versions ({labels}); at most {MAX_ACTIVE_VERSIONS} are allowed, deprecate one first")

    def _checks_env(self, org_id: str, tool_id: str) -> tuple[dict[str, str], list[str]]:
        plain, secret = self.envvar_values(org_id, tool_id)
        return {**plain, **secret}, list(secret.values())

    def _check_envvars_present(self, org_id: str, tool_id: str, project: ToolProject) -> None:
        with self.ctx.metadata.read() as db:
            records = db.table(ENVVARS).search((Query().tool_id == tool_id) & (Query().deleted_at == None))  # noqa: E711
        plain = {r["name"] for r in records if not r["is_secret"]}
        secret = {r["name"] for r in records if r["is_secret"]}
        missing = [n for n in project.required_envvars if n not in plain]
        missing += [f"{n} (secret)" for n in project.required_secret_envvars if n not in secret]
        if missing:
            raise StageFailed("validate", f"the tool version requires environment variables that do not exist on the tool: {', '.join(missing)}; add them first")

    def _record_version(self, org_id: str, tool_id: str, version_id: str, req: PublishRequest, branch: str, commit: str, user: str, prepared: Prepared) -> str:
        now = self.ctx.clock().isoformat()
        with self.ctx.metadata.write() as db:
            table = db.table(VERSIONS)
            existing = table.search(Query().tool_id == tool_id)
            self._check_active_count([v for v in existing if not v["deprecated"]])
            version = next_version([v["version"] for v in existing], req.bump_type)
            creator = {"user_id": user, "user_org_id": org_id}
            table.insert(
                {
                    "id": version_id,
                    "org_id": org_id,
                    "created_at": now,
                    "updated_at": now,
                    "tool_id": tool_id,
                    "version": version,
                    "required_envvars": prepared.project.required_envvars,
                    "required_secret_envvars": prepared.project.required_secret_envvars,
                    "input_schema": prepared.input_schema,
                    "tool_repo": req.repo,
                    "tool_commit_hash": commit,
                    "amigo_scaffold_commit_hash": prepared.project.scaffold,
                    "project_directory": req.project_path.strip("/"),
                    "lambda_version": len(existing) + 1,
                    "creator": creator,
                    "updated_by": creator,
                    "deprecated": False,
                }
            )
            db.table(BUILDS).insert({"version_id": version_id, "branch": branch, **self._build_record(prepared)})
        return label(version)
