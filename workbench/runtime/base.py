"""What every runner offers the service, and the shapes they exchange."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

# The outcome a runner reports for one invocation, as the shim describes it:
# {"ok": True, "output": str, "logs": [...]} or
# {"ok": False, "exception_type", "exception_message", "exception_stack_trace", "logs"}
ShimResponse = dict[str, Any]


@dataclass(frozen=True)
class BuildSpec:
    """What to build: an exported project and the dependencies it declares."""

    project_dir: Path
    dependencies: list[str]
    entry_point: str
    input_model: str | None
    simulation_network: bool = False  # may a container reach the network in simulation mode?
    labels: dict[str, str] = field(default_factory=dict)  # org, tool, version, commit


@dataclass
class Build:
    """A built tool, ready to describe, check and invoke."""

    runner: str
    directory: Path
    spec: BuildSpec
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckResult:
    command: str
    passed: bool
    output: str
    duration_ms: int


class Runner(Protocol):
    """Builds tool projects and runs them in a sandbox."""

    name: str

    def build(self, spec: BuildSpec, directory: Path, log: Any) -> Build: ...

    def describe(self, build: Build) -> ShimResponse: ...

    def run_check(self, build: Build, command: str, env: dict[str, str], timeout: float) -> CheckResult: ...

    def invoke(self, build: Build, request: dict[str, Any], env: dict[str, str], timeout: float) -> ShimResponse: ...

    def load(self, directory: Path, spec: BuildSpec, details: dict[str, Any]) -> Build: ...

    def prewarm(self, build: Build) -> None: ...

    def retire(self, build: Build) -> None: ...

    def discard(self, build: Build) -> None: ...
