"""Which runtime runs tools here, and why: what `workbench doctor` reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workbench.runtime.process import ProcessRunner
from workbench.settings import DataPaths, Settings


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


def inspect_runtime(settings: Settings) -> tuple[RuntimeReport, Any]:
    report = RuntimeReport(active="process", reason="", setting=settings.runtime, base_image=settings.base_image)
    if settings.runtime == "process":
        report.reason = "WORKBENCH_RUNTIME=process"
        return report, None
    client, report.daemon, report.daemon_error = _docker_client()
    if client is None:
        report.reason = "no Docker daemon answers"
        report.fixes.append("start a Docker daemon (as root: scripts/start-docker), or set WORKBENCH_RUNTIME=process")
        return report, None
    import docker.errors

    try:
        client.images.get(settings.base_image)
        report.base_image_present = True
    except docker.errors.ImageNotFound:
        report.base_image_present = False
    if settings.runtime == "docker" or report.base_image_present:
        report.active = "docker"
        report.reason = "a Docker daemon answers" + ("" if report.base_image_present else "; the base image will be pulled on first build")
        if not report.base_image_present:
            report.fixes.append(f"docker pull {settings.base_image}, or scripts/build-base-image {settings.base_image} where there is no registry")
        return report, client
    report.reason = f"a Docker daemon answers, but the base image {settings.base_image} is not present"
    report.fixes.append(
        f"docker pull {settings.base_image}; or, without a registry, scripts/build-base-image and "
        "WORKBENCH_BASE_IMAGE=workbench-base:bookworm; or set WORKBENCH_RUNTIME=docker to pull on first build"
    )
    return report, None


def choose_runner(settings: Settings, paths: DataPaths) -> tuple[Any, RuntimeReport]:
    report, client = inspect_runtime(settings)
    if report.active == "docker":
        from workbench.runtime.docker_runner import DockerRunner

        return DockerRunner(settings, paths, client), report
    return ProcessRunner(paths.wheelhouse), report
