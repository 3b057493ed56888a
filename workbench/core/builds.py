"""Making a build from a commit: export, validate, build and check, the pipeline that testing
and publishing share; and the build record that says how to run it again."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.running import SecretMask
from workbench.core.runtimes import Runtimes
from workbench.core.stages import Stages
from workbench.errors import StageFailed
from workbench.repo.git import ToolsRepo
from workbench.repo.project import ToolProject, check_input_schema
from workbench.runtime.base import Build, BuildSpec, Runner
from workbench.store.records import BuildRecord


@dataclass(frozen=True)
class CheckEnvironment:
    """What a project's checks run with: the variables, and which values are secret (masked in
    every line of check output shown or raised)."""

    values: dict[str, str]
    secrets: list[str]


@dataclass
class Prepared:
    """A project exported, validated, built and checked: ready to record or to run."""

    project: ToolProject
    build: Build
    input_schema: dict[str, Any]

    def record(self, version_id: str | None = None, branch: str | None = None) -> BuildRecord:
        """How to run this build again, for the metadata (versions) or a marker file (tests)."""
        p, b = self.project, self.build
        return BuildRecord(
            version_id=version_id,
            branch=branch,
            runner=b.runner,
            directory=str(b.directory),
            project_dir=str(b.spec.project_dir),
            dependencies=b.spec.dependencies,
            entry_point=b.spec.entry_point,
            input_model=b.spec.input_model,
            simulation_network=b.spec.simulation_network,
            details=b.details,
            input_schema=self.input_schema,
            required_envvars=p.required_envvars,
            required_secret_envvars=p.required_secret_envvars,
        )


def project_fixtures(project: ToolProject) -> list[Any]:
    """The fixtures the project declares, read (and checked) in the validate stage."""
    if not project.fixtures:
        return []
    from workbench.core.fixtures import load_project_fixtures  # only for a project that declares some

    return load_project_fixtures(project)


class WarmingUp:
    """A build's regular-mode worker, started in a thread while its entry point is described and
    its checks run (they use a worker of their own, without network): a publish then waits for
    the slower of the two, not for both one after the other, and its first invocation is warm.
    A worker that cannot start now is not a failed build: the first invocation starts one."""

    def __init__(self, runner: Runner, build: Build) -> None:
        self.thread = threading.Thread(target=self._start, args=(runner, build), name="workbench-prewarm", daemon=True)
        self.thread.start()

    @staticmethod
    def _start(runner: Runner, build: Build) -> None:
        try:
            runner.prewarm(build)
        except Exception:  # noqa: BLE001 - the publish's record stage tries again and says why
            pass

    def wait(self) -> None:
        self.thread.join()


class Builder:
    """Turns a project at a commit into a checked build on the default runtime."""

    def __init__(self, runtimes: Runtimes, check_timeout: float, run_timeout: float | None = None) -> None:
        """``run_timeout`` bounds each run of the project's fixtures (the invocation timeout)."""
        self.runtimes = runtimes
        self.check_timeout = check_timeout
        self.run_timeout = run_timeout or check_timeout

    def prepare(
        self,
        repo: ToolsRepo,
        commit: str,
        project_path: str,
        directory: Path,
        stages: Stages,
        check_declared: Callable[[ToolProject], None],
        checks_env: Callable[[], CheckEnvironment],
        labels: dict[str, str],
    ) -> Prepared:
        """Export, validate, build and check; a failed stage discards the build and says why."""
        with stages.run("export"):
            project_dir = repo.export(commit, project_path, directory / "project")
        with stages.run("validate"):
            project = ToolProject.load(project_dir)
            file_schema = project.file_input_schema()
            check_declared(project)
            fixtures = project_fixtures(project)
        runner = self.runtimes.default
        build: Build | None = None
        warming: WarmingUp | None = None
        try:
            with stages.run("build") as output:
                spec = BuildSpec(project_dir, project.dependencies, project.entry_point, project.input_model, project.simulation_network, labels)
                build = runner.build(spec, directory, output)
                warming = WarmingUp(runner, build)  # the worker invocations use starts beside the checks
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
                env = checks_env()
                mask = SecretMask(env.secrets)
                for command in project.checks:
                    output(f"$ {command}")
                    result = runner.run_check(build, command, env.values, self.check_timeout)
                    shown = mask.text(result.output)
                    for line in shown.splitlines()[-20:]:
                        output(line)
                    if not result.passed:
                        raise StageFailed("checks", f"check {command!r} failed", shown)
                if fixtures:
                    from workbench.core.fixtures import check_build_fixtures

                    check_build_fixtures(project, fixtures, runner, build, env.values, env.secrets, self.run_timeout, output)
        except BaseException:
            if warming is not None:
                warming.wait()  # a worker still starting would outlive the discard
            if build is not None:
                runner.discard(build)
            raise
        if warming is not None:
            warming.wait()
        return Prepared(project, build, schema)

    def load(self, record: BuildRecord) -> Prepared:
        """A build made earlier (a tested commit's), ready to run again."""
        return Prepared(ToolProject.load(Path(record.project_dir)), self.runtimes.load(record), record.input_schema)
