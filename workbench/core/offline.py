"""Operations that need neither a data directory nor a server: the same for the local and the
remote service, which both inherit them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # each operation imports what it uses when it runs
    from workbench.core.results import Limits
    from workbench.core.simulation.scenario import SimulationRequest


class OfflineOperations:
    """Scaffolding a project, checking inputs before a run, the API's limits, and reading
    context graph and scenario files."""

    def create_project(self, name: str, target: Path, description: str | None = None) -> Path:
        """A complete tool project that passes its own checks, written to ``target``."""
        from workbench.repo.scaffold import create_project

        return create_project(name, target, description)

    def scaffold_archive(self) -> bytes:
        """The scaffold as a .tar.gz."""
        from workbench.repo.scaffold import scaffold_archive

        return scaffold_archive()

    def input_problems(self, schema: dict[str, Any] | None, inputs: Any) -> list[str]:
        """What is wrong with inputs before a run: their count, their shape, the input schema."""
        from workbench.core.running import input_problems

        return input_problems(schema, inputs)

    def limits(self) -> Limits:
        from workbench.core.persistence import PERSISTENCE_THRESHOLD
        from workbench.core.results import Limits
        from workbench.core.running import MAX_INPUTS, OUTPUT_LIMIT
        from workbench.core.versions import MAX_ACTIVE_VERSIONS

        return Limits(max_active_versions=MAX_ACTIVE_VERSIONS, max_inputs=MAX_INPUTS, output_limit=OUTPUT_LIMIT, persistence_threshold=PERSISTENCE_THRESHOLD)

    def read_graph_file(self, path: Path) -> dict[str, Any]:
        """A context graph document from a JSON or YAML file."""
        from workbench.core.simulation import files

        return files.read_graph_file(path)

    def read_scenario_file(self, path: Path, runs: int = 1) -> SimulationRequest:
        """A scenario file and the graph file it names, as a simulation request."""
        from workbench.core.simulation import files

        return files.read_scenario_file(path, runs)

    def find_scenario_files(self, directory: Path) -> list[Path]:
        """The scenario files under a directory."""
        from workbench.core.simulation import files

        return files.find_scenario_files(directory)
