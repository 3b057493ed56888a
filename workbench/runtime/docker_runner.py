"""The Docker runner: one image per build, warm worker containers per image, checks in containers.

Containers run with memory, CPU and process limits, a read-only root filesystem, a non-root user,
a small /tmp, and no network in conversation-simulation mode unless the project allows it
(``[tool.workbench] simulation_network = true``).
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
from typing import Any

import docker
import docker.errors
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ReadTimeout

from workbench.errors import StageFailed
from workbench.runtime.base import Build, BuildSpec, CheckResult, ShimResponse
from workbench.runtime.pool import WorkerLost, WorkerPool
from workbench.runtime.process import SHIM_NAME, SHIM_SOURCE
from workbench.runtime.wheels import PROBE, ImagePython, install_for_image, parse_probe
from workbench.settings import DataPaths, Settings

TOOL_ROOT = "/opt/tool"
SHIM_IN_IMAGE = f"{TOOL_ROOT}/shim/{SHIM_NAME}"
NOBODY = 65534

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


def failure(kind: str, message: str) -> ShimResponse:
    return {"ok": False, "exception_type": kind, "exception_message": message, "exception_stack_trace": [], "logs": []}


class DockerRunner:
    """Builds tools into images and runs them in local containers through the docker SDK."""

    name = "docker"

    def __init__(self, settings: Settings, paths: DataPaths, client: docker.DockerClient | None = None) -> None:
        self.settings = settings
        self.paths = paths
        self.client = client or docker.from_env(timeout=300)
        self.home = home_key(paths)
        self.user = f"{os.getuid()}:{os.getgid()}" if os.getuid() != 0 else f"{NOBODY}:{NOBODY}"
        run_root = Path(tempfile.gettempdir()) / f"workbench-{os.getuid()}" / self.home  # short: socket paths max out at 108 bytes
        self.pool = WorkerPool(run_root, settings.worker_pool_size)

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
                    "build one with scripts/build-base-image, or set WORKBENCH_BASE_IMAGE to an image you have",
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
        (context / "shim").mkdir(parents=True)
        shutil.copyfile(SHIM_SOURCE, context / "shim" / SHIM_NAME)
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
            "pids_limit": self.settings.container_pids,
            "read_only": True,
            "user": self.user,
            "tmpfs": {"/tmp": "rw,size=64m,mode=1777"},
        }

    def _network(self, build: Build, mode: str) -> str:
        if mode == "conversation-simulation" and not build.details.get("simulation_network"):
            return "none"
        return "bridge"

    def _key(self, build: Build, network: str) -> str:
        return f"{build.directory.name}-{network}"

    def _start_worker(self, build: Build, network: str, socket_path: Path) -> None:
        run_dir = socket_path.parent
        if os.getuid() == 0:
            os.chown(run_dir, NOBODY, NOBODY)
        os.chmod(run_dir, 0o700)
        name = f"wb-{self.home}-{run_dir.name}-{socket_path.stem}"
        self._free_name(name)
        command = ["python3", SHIM_IN_IMAGE, "--serve", f"/run/workbench/{socket_path.name}", "--idle", str(self.settings.worker_idle_seconds), "--entry", build.spec.entry_point]
        if build.spec.input_model:
            command += ["--model", build.spec.input_model]
        self.client.containers.run(
            build.details["image"],
            command,
            name=name,
            detach=True,
            auto_remove=True,
            network_mode=network,
            volumes={str(run_dir): {"bind": "/run/workbench", "mode": "rw"}},
            labels={"workbench": "1", "workbench.home": self.home, "workbench.image": build.directory.name, "workbench.role": "worker"},
            **self._limits(),
        )

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

    def _call(self, build: Build, network: str, payload: dict[str, Any], timeout: float) -> ShimResponse:
        key = self._key(build, network)
        slot = self.pool.next_slot(key)
        try:
            connection = self.pool.connection(key, slot, lambda path: self._start_worker(build, network, path))
            return connection.request(payload, timeout)
        except TimeoutError:
            return failure("TimeoutError", f"the invocation ran longer than its {timeout:g} s timeout and was stopped")
        except WorkerLost as error:
            return failure("SandboxError", f"the worker container stopped unexpectedly ({error}); it is replaced on the next invocation")
        except docker.errors.APIError as error:
            return failure("SandboxError", f"could not start a worker container: {error.explanation or error}")

    def describe(self, build: Build) -> ShimResponse:
        request = {"action": "describe", "entry_point": build.spec.entry_point, "input_model": build.spec.input_model}
        return self._call(build, "none", request, timeout=60)

    def invoke(self, build: Build, request: dict[str, Any], env: dict[str, str], timeout: float) -> ShimResponse:
        payload = {"action": "invoke", "entry_point": build.spec.entry_point, "input_model": build.spec.input_model, "env": env, **request}
        return self._call(build, self._network(build, request.get("invocation_mode", "regular")), payload, timeout)

    def prewarm(self, build: Build) -> None:
        """Start a regular-mode worker now, so the first invocation after publish is warm."""
        key = self._key(build, "bridge")
        self.pool.connection(key, 0, lambda path: self._start_worker(build, "bridge", path))

    def run_check(self, build: Build, command: str, env: dict[str, str], timeout: float) -> CheckResult:
        started = time.perf_counter()
        container = self.client.containers.run(
            build.details["image"],
            ["/bin/sh", "-c", command],
            environment=env,
            detach=True,
            network_mode="none",
            labels={"workbench": "1", "workbench.home": self.home, "workbench.image": build.directory.name, "workbench.role": "check"},
            **self._limits(),
        )
        try:
            try:
                code = container.wait(timeout=timeout)["StatusCode"]
                passed, output = code == 0, container.logs().decode(errors="replace")
            except (ReadTimeout, RequestsConnectionError):
                passed, output = False, f"the check ran longer than {timeout:g} s and was stopped"
        finally:
            container.remove(force=True)
        return CheckResult(command, passed, output, int((time.perf_counter() - started) * 1000))

    # -- lifecycle ----------------------------------------------------------------------------

    def containers(self, image_name: str | None = None, **filters: Any) -> list[Any]:
        labels = [f"workbench.home={self.home}"] + ([f"workbench.image={image_name}"] if image_name else [])
        return self.client.containers.list(all=True, filters={"label": labels, **filters})

    def retire(self, build: Build) -> None:
        """Stop the build's warm workers (its version was deprecated)."""
        for network in ("bridge", "none"):
            self.pool.forget(self._key(build, network))
        for container in self.containers(build.directory.name):
            try:
                container.remove(force=True)
            except docker.errors.NotFound:
                pass
        for network in ("bridge", "none"):
            shutil.rmtree(self.pool.run_dir / self._key(build, network), ignore_errors=True)

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
