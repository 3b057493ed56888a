"""The runtimes of one data directory: which one builds new tools, and the one each build runs on."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from workbench.errors import BadRequest
from workbench.runtime.base import Build, BuildSpec, Runner
from workbench.settings import DataPaths, Settings

if TYPE_CHECKING:
    from workbench.runtime.selection import RuntimeReport
    from workbench.store.records import BuildRecord


class Runtimes:
    """Picks the runtime for new builds (Docker where it can, processes elsewhere) once, lazily,
    and loads a recorded build on the runtime it was made with: a build always runs where it was
    built, without probing anything else. Running a build asks no daemon anything until a worker
    has to be started: a warm worker is reached through its socket alone."""

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
            from workbench.runtime.selection import choose_runner

            self._default, self._report = choose_runner(self.settings, self.paths)
            self._by_name.setdefault(self._default.name, self._default)
        return self._default

    def report(self, probe: bool = False) -> RuntimeReport:
        """Which runtime is in use here and why (what `workbench doctor` shows); ``probe`` seals
        a run to find which guarantees hold."""
        if probe:
            from workbench.runtime.selection import inspect_runtime

            return inspect_runtime(self.settings, probe=True)[0]
        self.default
        assert self._report is not None
        return self._report

    def named(self, name: str) -> Runner:
        """The runtime a build was made with. Made without asking a daemon anything: the Docker
        runner connects to the daemon only when it must (a worker to start), and says then if
        none answers."""
        if name not in self._by_name:
            if name == "process":
                from workbench.runtime.process import ProcessRunner

                self._by_name[name] = ProcessRunner(self.settings, self.paths)
            else:
                from workbench.runtime.docker_runner import DockerRunner

                self._by_name[name] = DockerRunner(self.settings, self.paths)
        return self._by_name[name]

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
