"""Which runtime runs tools here, and why; what `workbench doctor` reports, guarantees included."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workbench.runtime.process import ProcessRunner
from workbench.runtime.sandbox import ProbeResult, sandbox_problem
from workbench.runtime.sandbox import probe as probe_sandbox
from workbench.settings import DataPaths, Settings

# What a sealed run guarantees, the same in both runtimes (see README, "Sealed runs").
GUARANTEES = {
    "read-only code": "the version's code and environment are read-only",
    "fresh scratch": "each run starts with an empty /tmp (its cwd, HOME and TMPDIR), removed when it ends",
    "no data directory": "a run sees no data directory (no secrets.json, no logs), repository or other build",
    "processes end with the run": "everything a run starts, detached or not, is killed when it ends",
    "no network in simulation": "conversation-simulation runs have no network (unless the project allows it)",
    "limits": "memory, process-count and CPU limits; output and logs are bounded",
    "secrets only in the run": "secret values travel over the worker's socket into the run's environment only",
    "not root": "tools run as an unprivileged user without capabilities",
}
SANDBOX_WIDE = ("read-only code", "no data directory", "no network in simulation", "secrets only in the run", "not root")


@dataclass
class Guarantee:
    """One guarantee of sealed runs, and whether it holds on this machine."""

    name: str
    holds: bool
    what: str


@dataclass
class RuntimeReport:
    """The active runtime and the facts it was chosen on, with how to fix what is missing."""

    active: str
    reason: str
    setting: str
    daemon: str | None = None  # the Docker version, if a daemon answered
    daemon_error: str | None = None
    base_image: str = ""
    base_image_present: bool | None = None
    sandboxed: bool = False  # do runs happen in a sandbox (the app's header says "unsandboxed" if not)
    sandbox: str = ""  # what the sandbox is, or why there is none
    guarantees: list[Guarantee] = field(default_factory=list)  # only when probed (`workbench doctor`)
    fixes: list[str] = field(default_factory=list)


def _docker_client(timeout: int = 3) -> tuple[Any, str | None, str | None]:
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        version = client.version().get("Version", "?")
        client.close()
        return docker.from_env(timeout=300), version, None
    except Exception as error:  # no SDK, no socket, daemon down, permission denied
        return None, None, str(error).splitlines()[0][:200]


def _process_sandbox(settings: Settings, report: RuntimeReport) -> None:
    if settings.unsandboxed:
        report.sandbox = "none: WORKBENCH_UNSANDBOXED=1 runs tools as plain local processes, unsealed"
        return
    problem = sandbox_problem()
    if problem:
        report.sandbox = f"none: {problem}; tools will not run"
        report.fixes.append("install bubblewrap (as root: workbench runtime prepare), or use Docker, or set WORKBENCH_UNSANDBOXED=1 to run tools unsandboxed")
        return
    report.sandboxed = True
    report.sandbox = "bubblewrap, each run sealed in its own namespaces"


def inspect_runtime(settings: Settings, probe: bool = False) -> tuple[RuntimeReport, Any]:
    """Which runtime would run tools, and why. ``probe`` also starts a real sandbox to list the
    guarantees that hold here (half a second or so; `workbench doctor` does)."""
    report = RuntimeReport(active="process", reason="", setting=settings.runtime, base_image=settings.base_image)
    client = _choose(settings, report)
    if report.active == "docker":
        report.sandboxed = not settings.unsandboxed
        report.sandbox = "Docker containers, each run sealed in its own namespaces" if report.sandboxed else "Docker containers; runs unsealed (WORKBENCH_UNSANDBOXED=1)"
    else:
        _process_sandbox(settings, report)
    if probe:
        report.guarantees = _probe_guarantees(settings, report, client)
    return report, client


def _choose(settings: Settings, report: RuntimeReport) -> Any:
    if settings.runtime == "process":
        report.reason = "WORKBENCH_RUNTIME=process"
        return None
    client, report.daemon, report.daemon_error = _docker_client()
    if client is None:
        report.reason = "no Docker daemon answers"
        report.fixes.append("start a Docker daemon (as root: workbench runtime prepare), or set WORKBENCH_RUNTIME=process")
        return None
    import docker.errors

    try:
        client.images.get(settings.base_image)
        report.base_image_present = True
    except docker.errors.ImageNotFound:
        report.base_image_present = False
    if settings.runtime == "docker" or report.base_image_present:
        report.active = "docker"
        report.reason = "a Docker daemon answers" + ("" if report.base_image_present else "; the base image is made or pulled on first build")
        if not report.base_image_present:
            report.fixes.append(f"make the base image now: workbench runtime prepare (as root), or docker pull {settings.base_image}")
        return client
    report.reason = f"a Docker daemon answers, but the base image {settings.base_image} is not present"
    report.fixes.append(
        f"make it: workbench runtime prepare (as root; from Debian packages, no registry needed), "
        f"or set WORKBENCH_BASE_IMAGE to an image you can pull, or WORKBENCH_RUNTIME=docker to pull {settings.base_image} on first build"
    )
    return None


def _probe_guarantees(settings: Settings, report: RuntimeReport, client: Any) -> list[Guarantee]:
    """Which guarantees hold: a container or a bubblewrap sandbox gives the sandbox-wide ones; a
    run sealed inside it gives the rest."""
    if settings.unsandboxed:
        found = ProbeResult(report.active == "docker", False, "WORKBENCH_UNSANDBOXED=1")
    elif report.active == "docker":
        from workbench.runtime.docker_runner import DockerRunner

        problem = DockerRunner(settings, settings.paths(), client).probe()
        found = ProbeResult(True, problem is None, problem)
    else:
        found = probe_sandbox()
    if found.problem:
        report.sandbox += f" (probe: {found.problem})"
    return [Guarantee(name, found.sealed or (found.sandbox and name in SANDBOX_WIDE), what) for name, what in GUARANTEES.items()]


def choose_runner(settings: Settings, paths: DataPaths) -> tuple[Any, RuntimeReport]:
    """The runner that builds new tools here, and the report of why."""
    report, client = inspect_runtime(settings)
    if report.active == "docker":
        from workbench.runtime.docker_runner import DockerRunner

        return DockerRunner(settings, paths, client), report
    return ProcessRunner(settings, paths), report
