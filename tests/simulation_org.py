"""An organization with every sample tool published from a real tools repository, the support
agent's context graph and its scenarios: what the simulation tests run against."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.core.service import ToolService
from workbench.core.simulation.scenario import SimulationRequest
from workbench.demo import seed_demo
from workbench.settings import Settings

ORG = "acme"
GRAPH = "support_agent.graph.yaml"


def counting_ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"{next(counter):024x}"


def published_samples(root: Path, **service_args: Any) -> ToolService:
    """A service over ``root`` whose org has every sample tool published (1.0.0)."""
    settings = Settings(home=root / "home", tools_repo=root / "repo", runtime="process", invocation_timeout_seconds=30, user="ada")
    service = ToolService(settings, **service_args)
    seed_demo(service, ORG)
    return service


def simulations_dir(service: ToolService) -> Path:
    return service.settings.tools_repo_path() / "simulations"


def sample_request(service: ToolService, name: str, runs: int = 1) -> SimulationRequest:
    return service.read_scenario_file(simulations_dir(service) / f"{name}.scenario.yaml", runs)


def request_with_turns(service: ToolService, turns: list[dict[str, Any]], name: str = "adhoc", mode: str = "conversation-simulation", **scenario: Any) -> SimulationRequest:
    """A scenario over the sample graph with the given turns."""
    graph = service.read_graph_file(simulations_dir(service) / GRAPH)
    return SimulationRequest.model_validate({"scenario": {"name": name, "mode": mode, "turns": turns, **scenario}, "graph": graph})
