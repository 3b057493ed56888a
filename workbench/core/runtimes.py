"""The runtimes of one data directory: which one builds new tools, and the one each build runs on."""

from __future__ import annotations

from pathlib import Path

from workbench.errors import BadRequest
from workbench.runtime.base import Build, BuildSpec, Runner
from workbench.runtime.process import ProcessRunner
from workbench.runtime.selection import RuntimeReport, choose_runner, inspect_runtime
from workbench.settings import DataPaths, Settings
from workbench.store.records import BuildRecord


class Runtimes:
    """Picks the runtime for new builds (Docker where it can, processes elsewhere) once, lazily,
    and loads a recorded build on the runtime it was made with: a build always runs where it was
    built, without probing anything else."""

    def __init__(self, settings: Settings, paths: DataPaths) -> None:
        self.settings = settings
        self.paths = paths
        self._default: Runner | None = None
        self._report: RuntimeReport | None = None
        self._by_name: dict[str, Runner] = {}

    @property
    def default(self) -> Runner:
        """The runtime that builds new tools."""
        if self._default is None:
            self._default, self._report = choose_runner(self.settings, self.paths)
            self._by_name.setdefault(self._default.name, self._default)
        return self._default

    def report(self, probe: bool = False) -> RuntimeReport:
        """Which runtime is in use here and why (what `workbench doctor` shows); ``probe`` seals
        a run to find which guarantees hold."""
        if probe:
            return inspect_runtime(self.settings, probe=True)[0]
        self.default
        assert self._report is not None
        return self._report

    def named(self, name: str) -> Runner:
        """The runtime a build was made with."""
        if name not in self._by_name:
            if name == "process":
                self._by_name[name] = ProcessRunner(self.settings, self.paths)
            else:
                self._by_name[name] = self._docker()
        return self._by_name[name]

    def _docker(self) -> Runner:
        from workbench.runtime.docker_runner import DockerRunner

        try:
            return DockerRunner(self.settings, self.paths)
        except Exception as error:  # noqa: BLE001 - no SDK, no socket, daemon down
            raise BadRequest(
                f"this version was built for Docker, and no Docker daemon answers ({str(error).splitlines()[0][:160]}); "
                "start one (see `workbench doctor`)"
            ) from None

    def load(self, record: BuildRecord) -> Build:
        """A recorded build, ready to run on its runtime."""
        spec = BuildSpec(Path(record.project_dir), record.dependencies, record.entry_point, record.input_model, record.simulation_network)
        return self.named(record.runner).load(Path(record.directory), spec, record.details)

    def retire(self, records: list[BuildRecord]) -> None:
        """Stop what runs for these builds (their warm workers); nothing to do where no daemon
        answers, since nothing of them can be running either."""
        for record in records:
            try:
                build = self.load(record)
                self.named(build.runner).retire(build)
            except BadRequest:
                pass
