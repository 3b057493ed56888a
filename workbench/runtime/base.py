"""What every runner offers the service, and the shapes they exchange."""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

# The outcome a runner reports for one invocation, as the shim describes it:
# {"ok": True, "output": str, "logs": [...]} or
# {"ok": False, "exception_type", "exception_message", "exception_stack_trace", "logs"}
ShimResponse = dict[str, Any]

# The in-sandbox code (standard library only), copied into every build under these names, so a
# tool's own modules cannot collide with them. The worker runs SHIM_NAME.
SHIM_FILES = {
    "shim.py": "_workbench_shim.py",
    "shim_worker.py": "_workbench_worker.py",
    "shim_run.py": "_workbench_run.py",
    "shim_seal.py": "_workbench_seal.py",
}
SHIM_NAME = SHIM_FILES["shim.py"]
TOOL_ROOT = "/opt/tool"  # where a build's files appear inside the sandbox, in both runtimes
SOCKET_DIR = "/run/workbench"  # where the worker's socket directory appears inside the sandbox
SCRATCH_BYTES = 64 << 20  # each run's tmpfs scratch (/tmp, its cwd, HOME and TMPDIR)


def copy_shim(target: Path) -> Path:
    """Put this workbench's in-sandbox code into ``target``, unless it is there already. Workers
    run this copy, mounted read-only, not the one a build was made with: worker and workbench
    always speak the same protocol, builds made by an older workbench included."""
    target.mkdir(parents=True, exist_ok=True)
    target.chmod(0o755)
    for source, name in SHIM_FILES.items():
        text = Path(__file__).with_name(source).read_bytes()
        copy = target / name
        if not copy.exists() or copy.read_bytes() != text:
            partial = copy.with_suffix(f".{os.getpid()}.{threading.get_ident()}.partial")  # threads of one process too
            partial.write_bytes(text)
            partial.replace(copy)  # atomic: a worker starting now sees the old file or the new one
    return target


def parse_size(text: str) -> int:
    """Bytes in a size such as ``512m``, ``1g``, ``65536`` (Docker's notation)."""
    match = re.fullmatch(r"\s*(\d+)\s*([kmg]?)b?\s*", text.lower())
    if not match:
        raise ValueError(f"not a size: {text!r} (use a number with k, m or g, like 512m)")
    return int(match.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[match.group(2)]


def failure(kind: str, message: str) -> ShimResponse:
    """A response for a run that the runtime, not the tool, ended."""
    return {"ok": False, "exception_type": kind, "exception_message": message, "exception_stack_trace": [], "logs": []}


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
    """One project check's outcome, as the publish stage shows it."""

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
