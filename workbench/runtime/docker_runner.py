"""The Docker runner: one image per build, warm worker containers per image.

Containers run with memory, CPU and process limits, a read-only root filesystem, a non-root user
without capabilities (``no-new-privileges``), a small /tmp, and no network in
conversation-simulation mode unless the project allows it (``[tool.workbench] simulation_network
= true``). Inside, the worker seals each run in its own namespaces (see :mod:`shim_seal`), and the
project's checks run there too, so a secret reaches a container only over the worker's socket,
never through its environment (``docker inspect`` shows none).

Docker's default seccomp profile allows the namespace system calls that sealing needs only to
containers that hold CAP_SYS_ADMIN, so the container's capability set lists it; the container's
processes never have it: they run as a non-root user with no-new-privileges, so their effective,
permitted and ambient sets stay empty (a run's namespaces grant capabilities only over the run).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import BadRequest, StageFailed
from workbench.runtime.base import SHIM_NAME, SOCKET_DIR, TOOL_ROOT, Build, BuildSpec, CheckResult, ShimResponse, copy_shim
from workbench.runtime.pool import WorkerLost, WorkerPool
from workbench.runtime.process import run_root
from workbench.runtime.sandbox import NOBODY
from workbench.runtime.warm import WarmRuns, worker_arguments
from workbench.runtime.wheels import PROBE, ImagePython, install_for_image, parse_probe
from workbench.settings import DataPaths, Settings

if TYPE_CHECKING:
    import docker
    import docker.errors
else:

    class _DockerSdk:
        """The ``docker`` package, imported when this module first uses it: reaching a warm
        worker needs only its socket, and importing the SDK costs a command more than a warm
        invocation (see `Runtimes`)."""

        def __getattr__(self, name: str) -> Any:
            import docker
            import docker.errors  # noqa: F401 - so that docker.errors is there to catch

            return getattr(docker, name)

    docker = _DockerSdk()

SHIM_IN_IMAGE = f"{TOOL_ROOT}/shim/{SHIM_NAME}"

DOCKERFILE = """\
FROM {base}
COPY site-packages {root}/site-packages
COPY shim {root}/shim
COPY bin {root}/bin
COPY project {root}/project
ENV PATH={root}/bin:/usr/local/bin:/usr/bin:/bin PYTHONPATH={root}/site-packages:{root}/project PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp
WORKDIR {root}/project
"""


def home_key(paths: DataPaths) -> str:
    return hashlib.sha1(str(paths.home).encode()).hexdigest()[:12]


class DockerRunner:
    """Builds tools into images and runs them in local containers through the docker SDK."""

    name = "docker"

    def __init__(self, settings: Settings, paths: DataPaths, client: docker.DockerClient | None = None) -> None:
        self.settings = settings
        self.paths = paths
        self._client = client
        self.home = home_key(paths)
        self.user = f"{os.getuid()}:{os.getgid()}" if os.getuid() != 0 else f"{NOBODY}:{NOBODY}"
        self.pool = WorkerPool(run_root(paths) / "docker", settings.worker_pool_size)
        self.runs = WarmRuns(self.pool, self._start_worker, lambda: (docker.errors.APIError,))

    @property
    def client(self) -> docker.DockerClient:
        """The daemon's client, made when something must be asked of the daemon (a build, a
        worker to start, a container to remove), not to send a request to a running worker."""
        if self._client is None:
            try:
                self._client = docker.from_env(timeout=300)  # asks the daemon its API version
            except Exception as error:  # noqa: BLE001 - no SDK, no socket, daemon down
                raise BadRequest(
                    f"the Docker runtime needs a Docker daemon, and none answers ({str(error).splitlines()[0][:160]}); "
                    "start one (see `workbench doctor`)"
                ) from None
        return self._client

    # -- images -------------------------------------------------------------------------------

    def ensure_base_image(self) -> None:
        base = self.settings.base_image
        try:
            self.client.images.get(base)
        except docker.errors.ImageNotFound:
            try:
                self.client.images.pull(base)
            except docker.errors.APIError as error:
                raise StageFailed(
                    "build",
                    f"the base image {base} is not present and could not be pulled ({error.explanation or error}); "
                    "make it with `workbench runtime prepare` (as root; from Debian packages), or set WORKBENCH_BASE_IMAGE to an image you have",
                ) from None

    def image_python(self) -> ImagePython:
        """The base image's Python, probed once per image id and remembered in the data dir."""
        image = self.client.images.get(self.settings.base_image)
        cache_file = self.paths.home / "images.json"
        cache = json.loads(cache_file.read_text()) if cache_file.exists() else {}
        if image.id not in cache:
            output = self.client.containers.run(image.id, ["python3", "-c", PROBE], remove=True, network_mode="none")
            cache[image.id] = output.decode()
            cache_file.write_text(json.dumps(cache))
        return parse_probe(cache[image.id])

    def build(self, spec: BuildSpec, directory: Path, log: Callable[[str], None] = lambda _: None) -> Build:
        started = time.perf_counter()
        self.ensure_base_image()
        python = self.image_python()
        context = directory / "context"
        shutil.rmtree(context, ignore_errors=True)
        copy_shim(context / "shim")
        (context / "bin").mkdir()
        launcher = context / "bin" / "python"  # checks say `python`; Debian's image has only python3
        launcher.write_text('#!/bin/sh\nexec python3 "$@"\n')
        launcher.chmod(0o755)
        shutil.copytree(spec.project_dir, context / "project")
        if spec.dependencies:
            site = install_for_image(spec.dependencies, python, self.paths.wheelhouse, self.paths.home / "deps", log)
            shutil.copytree(site, context / "site-packages")
        else:
            (context / "site-packages").mkdir()
        (context / "Dockerfile").write_text(DOCKERFILE.format(base=self.settings.base_image, root=TOOL_ROOT))
        tag = f"workbench-tool:{directory.name}"
        labels = {"workbench": "1", "workbench.home": self.home, "workbench.image": directory.name, **spec.labels}
        try:
            image, stream = self.client.images.build(path=str(context), tag=tag, labels=labels, rm=True, forcerm=True)
        except docker.errors.BuildError as error:
            output = "".join(str(chunk.get("stream", "")) for chunk in error.build_log)
            raise StageFailed("build", f"docker build of {tag} failed: {error.msg}", output) from None
        finally:
            shutil.rmtree(context, ignore_errors=True)
        cached = sum(1 for chunk in stream if "Using cache" in str(chunk.get("stream", "")))
        details = {
            "image": tag,
            "image_id": image.id,
            "python": python.tag,
            "build_ms": int((time.perf_counter() - started) * 1000),
            "cached_layers": cached,
            "simulation_network": spec.simulation_network,
        }
        log(f"built image {tag} on {self.settings.base_image} in {details['build_ms']} ms ({cached} cached layers)")
        return Build(self.name, directory, spec, details)

    def load(self, directory: Path, spec: BuildSpec, details: dict[str, Any]) -> Build:
        return Build(self.name, directory, spec, details)

    # -- containers ---------------------------------------------------------------------------

    def _limits(self) -> dict[str, Any]:
        memory = self.settings.container_memory
        return {
            "mem_limit": memory,
            "memswap_limit": memory,
            "nano_cpus": int(self.settings.container_cpus * 1e9),
            "pids_limit": 4 * self.settings.container_pids,  # the worker, its spares, and several runs
            "read_only": True,
            "user": self.user,
            "cap_drop": ["ALL"],
            "cap_add": ["SYS_ADMIN"],  # only so that Docker's seccomp profile allows a run's namespaces; see above
            "security_opt": ["no-new-privileges"],
            "tmpfs": {"/tmp": "rw,size=64m,mode=1777"},
        }

    def _start_worker(self, build: Build, network: bool, socket_path: Path) -> Callable[[], str | None]:
        run_dir = socket_path.parent
        if os.getuid() == 0:
            os.chown(run_dir, NOBODY, NOBODY)
        os.chmod(run_dir, 0o700)
        name = f"wb-{self.home}-{run_dir.name}-{socket_path.stem}"
        self._free_name(name)
        command = ["python3", SHIM_IN_IMAGE, *worker_arguments(build, self.settings, f"{SOCKET_DIR}/{socket_path.name}", not self.settings.unsandboxed)]
        self.client.containers.run(
            build.details["image"],
            command,
            name=name,
            detach=True,
            auto_remove=True,
            network_mode="bridge" if network else "none",
            environment={"MALLOC_ARENA_MAX": "2"},  # threads' malloc arenas would eat a run's address-space limit
            volumes={str(run_dir): {"bind": SOCKET_DIR, "mode": "rw"}, str(copy_shim(self.pool.run_dir / "shim")): {"bind": f"{TOOL_ROOT}/shim", "mode": "ro"}},
            labels={"workbench": "1", "workbench.home": self.home, "workbench.image": build.directory.name, "workbench.role": "worker"},
            **self._limits(),
        )
        return self._exited_check(name)

    def _exited_check(self, name: str) -> Callable[[], str | None]:
        """Whether the worker container is gone (asked at most twice a second)."""
        asked = [0.0]

        def exited() -> str | None:
            if time.monotonic() - asked[0] < 0.5:
                return None
            asked[0] = time.monotonic()
            try:
                container = self.client.containers.get(name)
            except docker.errors.NotFound:
                return f"the worker container {name} exited"
            if container.status in ("exited", "dead"):
                said = container.logs(tail=5).decode(errors="replace").strip()
                return f"the worker container {name} exited" + (f": {said.splitlines()[-1][:300]}" if said else "")
            return None

        return exited

    def _free_name(self, name: str, wait: float = 20.0) -> None:
        """Remove a dead worker that holds the slot's name, waiting out a removal in progress
        (a killed worker is still being auto-removed when its replacement starts)."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                self.client.containers.get(name).remove(force=True)
            except docker.errors.NotFound:
                return
            except docker.errors.APIError:
                pass  # "removal already in progress": wait for it
            time.sleep(0.05)
        raise WorkerLost(f"the old worker container {name} could not be removed within {wait:g} s")

    def describe(self, build: Build) -> ShimResponse:
        return self.runs.describe(build)

    def invoke(self, build: Build, request: dict[str, Any], env: dict[str, str], timeout: float) -> ShimResponse:
        return self.runs.invoke(build, request, env, timeout)

    def prewarm(self, build: Build) -> None:
        """Start a regular-mode worker now, so the first invocation after publish is warm."""
        self.runs.prewarm(build)

    def run_check(self, build: Build, command: str, env: dict[str, str], timeout: float) -> CheckResult:
        """A check runs in a sealed run of the build's offline worker: the same image, limits and
        sandbox as an invocation, and its environment never in a container's configuration."""
        return self.runs.check(build, command, env, timeout)

    def probe(self) -> str | None:
        """Seal a run in a container made like a worker: None if that works, else what failed."""
        with tempfile.TemporaryDirectory(prefix="workbench-probe-") as tmp:
            copy_shim(Path(tmp) / "shim")
            os.chmod(tmp, 0o755)
            code = f"import sys; sys.path.insert(0, '{TOOL_ROOT}/shim'); import _workbench_seal as s; print(s.probe() or 'sealed')"
            try:
                said = self.client.containers.run(
                    self.settings.base_image, ["python3", "-c", code], remove=True, network_mode="none",
                    volumes={f"{tmp}/shim": {"bind": f"{TOOL_ROOT}/shim", "mode": "ro"}}, **self._limits(),
                ).decode(errors="replace").strip()
            except docker.errors.DockerException as error:
                return f"could not run a probe container: {str(error).splitlines()[0][:300]}"
        return None if said == "sealed" else f"a run cannot be sealed in a container: {said[-300:]}"

    # -- lifecycle ----------------------------------------------------------------------------

    def containers(self, image_name: str | None = None, **filters: Any) -> list[Any]:
        labels = [f"workbench.home={self.home}"] + ([f"workbench.image={image_name}"] if image_name else [])
        return self.client.containers.list(all=True, filters={"label": labels, **filters})

    def retire(self, build: Build) -> None:
        """Stop the build's warm workers (its version was deprecated)."""
        for network in ("net", "nonet"):
            self.pool.forget(self.runs.key(build, network))
        for container in self.containers(build.directory.name):
            try:
                container.remove(force=True)
            except docker.errors.NotFound:
                pass
        for network in ("net", "nonet"):
            shutil.rmtree(self.pool.run_dir / self.runs.key(build, network), ignore_errors=True)

    def discard(self, build: Build) -> None:
        """Undo a build that failed later on: its workers and its image."""
        self.retire(build)
        if build.details.get("image"):
            self.remove_image(build.details["image"])

    def remove_image(self, image: str) -> bool:
        try:
            self.client.images.remove(image, force=True)
            return True
        except docker.errors.ImageNotFound:
            return False

    def purge(self) -> None:
        """Remove everything this data directory has in Docker: containers, images, sockets."""
        for container in self.containers():
            container.remove(force=True)
        for image in self.client.images.list(filters={"label": f"workbench.home={self.home}"}):
            self.client.images.remove(image.id, force=True)
        shutil.rmtree(self.pool.run_dir, ignore_errors=True)
        try:
            self.pool.run_dir.parent.rmdir()  # the data directory's run root, unless the process runtime uses it too
        except OSError:
            pass

    def prune(self, retired_images: list[str]) -> dict[str, int]:
        """Remove this data directory's stopped containers and the images of retired builds."""
        stopped = self.containers(status="exited") + self.containers(status="created")
        for container in stopped:
            try:
                container.remove(force=True)
            except docker.errors.NotFound:
                pass
        removed = sum(self.remove_image(image) for image in retired_images)
        return {"containers": len(stopped), "images": removed}
