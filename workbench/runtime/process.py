"""The process runner: each build gets its own virtual environment; it runs in warm workers
inside a bubblewrap sandbox (see :mod:`sandbox`), which fork a fresh sealed child per run, exactly
as the Docker runner's containers do (see :mod:`warm`).

Dependencies are installed from a local wheelhouse: the first build that needs a package downloads
its wheels once; every later build with the same dependencies installs offline.

Where no sandbox is available (not Linux, no bubblewrap) tools do not run, unless the user opts in
with WORKBENCH_UNSANDBOXED=1: then workers are plain local processes, runs are not sealed, and the
runtime report says ``sandboxed: false``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.errors import StageFailed
from workbench.runtime.base import (
    SHIM_NAME,
    SOCKET_DIR,
    TOOL_ROOT,
    Build,
    BuildSpec,
    CheckResult,
    ShimResponse,
    copy_shim,
    failure,
)
from workbench.runtime.pool import WorkerPool
from workbench.runtime.sandbox import NOBODY, Bubblewrap, Mount, python_mounts, sandbox_problem, write_identity
from workbench.runtime.warm import WarmRuns, worker_arguments
from workbench.settings import DataPaths, Settings

VENV = f"{TOOL_ROOT}/venv"


def _base_python() -> str:
    """The interpreter to make tool environments from (the real one, not our venv's wrapper)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def run_root(paths: DataPaths) -> Path:
    """Where a data directory's worker sockets live: short, because socket paths max out at 108
    bytes, and per data directory, so two data directories never share a worker."""
    key = hashlib.sha1(str(paths.home).encode()).hexdigest()[:12]
    root = Path(tempfile.gettempdir()) / f"workbench-{os.getuid()}"
    root.mkdir(mode=0o711, exist_ok=True)
    return root / key


class ProcessRunner:
    """Runs tools in per-build virtual environments, in sandboxed warm workers."""

    name = "process"

    def __init__(self, settings: Settings, paths: DataPaths) -> None:
        self.settings = settings
        self.wheelhouse = paths.wheelhouse
        self.pool = WorkerPool(run_root(paths) / "process", settings.worker_pool_size)
        self.bwrap = Bubblewrap(self.pool.run_dir / "stage")
        self.runs = WarmRuns(self.pool, self._start_worker)

    @property
    def sandboxed(self) -> bool:
        """Do tools run in the sandbox (unless the user opted out)?"""
        return not self.settings.unsandboxed

    def refusal(self) -> str | None:
        """Why this runner will not run tools here, if it will not."""
        problem = None if self.settings.unsandboxed else sandbox_problem()
        if problem:
            return (f"tools run only in a sandbox, and {problem}: install bubblewrap (as root: workbench runtime prepare), "
                    "use Docker (WORKBENCH_RUNTIME=docker), or set WORKBENCH_UNSANDBOXED=1 to run tools unsandboxed at your own risk")
        return None

    # -- building -----------------------------------------------------------------------------

    def build(self, spec: BuildSpec, directory: Path, log: Callable[[str], None] = lambda _: None) -> Build:
        """A virtual environment with the project's dependencies; refused without a sandbox."""
        refusal = self.refusal()
        if refusal:
            raise StageFailed("build", refusal)
        venv = directory / "venv"
        started = time.perf_counter()
        result = subprocess.run([_base_python(), "-m", "venv", "--without-pip", str(venv)], capture_output=True, text=True)
        if result.returncode != 0:
            raise StageFailed("build", "could not create the tool's virtual environment", result.stdout + result.stderr)
        if spec.dependencies:
            self._install(spec.dependencies, venv, log)
        _portable_scripts(venv / "bin")
        details = {"venv": str(venv), "python_prefix": sys.base_prefix, "build_ms": int((time.perf_counter() - started) * 1000)}
        log(f"built environment in {details['build_ms']} ms")
        return Build(self.name, directory, spec, details)

    def load(self, directory: Path, spec: BuildSpec, details: dict[str, Any]) -> Build:
        """A build made earlier, from its record."""
        return Build(self.name, directory, spec, details)

    def _install(self, dependencies: list[str], venv: Path, log: Callable[[str], None]) -> None:
        self.wheelhouse.mkdir(parents=True, exist_ok=True)
        pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", str(venv / "bin" / "python")]
        offline = [*pip, "install", "--quiet", "--no-index", "--find-links", str(self.wheelhouse), *dependencies]
        first = subprocess.run(offline, capture_output=True, text=True)
        if first.returncode == 0:
            log(f"installed {', '.join(dependencies)} from the wheelhouse")
            return
        log(f"downloading wheels for {', '.join(dependencies)}")
        download = subprocess.run(
            [sys.executable, "-m", "pip", "--disable-pip-version-check", "wheel", "--quiet", "--wheel-dir", str(self.wheelhouse), *dependencies],
            capture_output=True,
            text=True,
        )
        if download.returncode != 0:
            raise StageFailed("build", f"could not fetch dependencies {', '.join(dependencies)}", download.stdout + download.stderr)
        second = subprocess.run(offline, capture_output=True, text=True)
        if second.returncode != 0:
            raise StageFailed("build", f"could not install dependencies {', '.join(dependencies)}", second.stdout + second.stderr)
        log(f"installed {', '.join(dependencies)}")

    # -- workers ------------------------------------------------------------------------------

    def _start_worker(self, build: Build, network: bool, socket_path: Path) -> Callable[[], str | None]:
        key_dir = socket_path.parent
        key_dir.mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            os.chown(key_dir, NOBODY, NOBODY)
        os.chmod(key_dir, 0o700)
        log = key_dir / f"{socket_path.stem}.log"
        if not self.sandboxed:
            process = self._start_unsandboxed(build, socket_path, log)
            return lambda: _died(process, log)
        refusal = self.refusal()
        if refusal:
            return lambda: refusal
        mounts = [
            *python_mounts(build.details.get("python_prefix", sys.base_prefix)),
            Mount(build.directory / "venv", VENV),
            Mount(build.spec.project_dir, f"{TOOL_ROOT}/project"),
            Mount(copy_shim(self.pool.run_dir / "shim"), f"{TOOL_ROOT}/shim"),
            Mount(key_dir, SOCKET_DIR, writable=True),
        ]
        identity = write_identity(self.pool.run_dir / "etc")
        args, sources = self.bwrap.arguments(mounts, identity, network, f"{TOOL_ROOT}/project")
        program = [f"{VENV}/bin/python", f"{TOOL_ROOT}/shim/{SHIM_NAME}", *worker_arguments(build, self.settings, f"{SOCKET_DIR}/{socket_path.name}")]
        process, pid = self.bwrap.start(args, sources, program, self._env(VENV, f"{TOOL_ROOT}/project"), log)
        socket_path.with_suffix(".pid").write_text(str(pid or ""))
        return lambda: _died(process, log)

    def _start_unsandboxed(self, build: Build, socket_path: Path, log: Path) -> subprocess.Popen[bytes]:
        venv = str(build.directory / "venv")
        shim = str(copy_shim(self.pool.run_dir / "shim") / SHIM_NAME)
        program = [f"{venv}/bin/python", shim, *worker_arguments(build, self.settings, str(socket_path), sealed=False)]
        with open(log, "wb") as log_file:
            return subprocess.Popen(program, cwd=build.spec.project_dir, env=self._env(venv, str(build.spec.project_dir)),
                                    stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, start_new_session=True)

    @staticmethod
    def _env(venv: str, project: str) -> dict[str, str]:
        """The worker's whole environment: nothing of the workbench's own; a run adds its variables."""
        return {
            "PATH": f"{venv}/bin:/usr/local/bin:/usr/bin:/bin",
            "HOME": "/tmp",
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
            "PYTHONPATH": project,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "VIRTUAL_ENV": venv,
            "MALLOC_ARENA_MAX": "2",  # threads' malloc arenas would eat the address-space limit
        }

    # -- running ------------------------------------------------------------------------------

    def describe(self, build: Build) -> ShimResponse:
        """Load the entry point in a sealed run: its input schema, or why it failed."""
        return self.runs.describe(build)

    def invoke(self, build: Build, request: dict[str, Any], env: dict[str, str], timeout: float) -> ShimResponse:
        """One input in a sealed run of a warm worker; refused without a sandbox."""
        refusal = self.refusal()
        if refusal:
            return failure("SandboxError", refusal)
        return self.runs.invoke(build, request, env, timeout)

    def run_check(self, build: Build, command: str, env: dict[str, str], timeout: float) -> CheckResult:
        """A project check in a sealed run without network."""
        return self.runs.check(build, command, env, timeout)

    def prewarm(self, build: Build) -> None:
        """Start a regular-mode worker now, so the first invocation after publish is warm."""
        self.runs.prewarm(build)

    def retire(self, build: Build) -> None:
        """Stop the build's workers (its version was deprecated)."""
        self.runs.stop(build)
        for network in ("net", "nonet"):
            _kill_workers(self.pool.run_dir / self.runs.key(build, network))

    def discard(self, build: Build) -> None:
        """Undo a build that failed later on: its workers (its directory goes with the publish)."""
        self.retire(build)

    def purge(self) -> None:
        """Stop every worker of this data directory and remove their sockets."""
        self.pool.shutdown()
        for key_dir in self.pool.run_dir.glob("*-*net"):
            _kill_workers(key_dir)
        shutil.rmtree(self.pool.run_dir, ignore_errors=True)
        try:
            self.pool.run_dir.parent.rmdir()  # the data directory's run root, unless Docker uses it too
        except OSError:
            pass


def _portable_scripts(bin_dir: Path) -> None:
    """Point the environment's console scripts at ``python`` on PATH, not at the build directory
    (which the sandbox does not show): the environment's bin is first on PATH in both modes."""
    for script in bin_dir.iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        with open(script, "rb") as handle:
            first = handle.readline()
        if first.startswith(b"#!") and b"python" in first and str(bin_dir).encode() in first:
            script.write_bytes(b"#!/usr/bin/env python\n" + script.read_bytes()[len(first):])


def _died(process: subprocess.Popen[bytes], log: Path) -> str | None:
    if process.poll() is None:
        return None
    said = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
    return f"it exited with code {process.returncode}" + (f": {said[-1][:300]}" if said else "")


def _kill_workers(key_dir: Path) -> None:
    """A stuck worker that did not heed ``shutdown``: kill its sandbox's PID 1 (the kernel then
    ends every process in the sandbox)."""
    for pid_file in key_dir.glob("*.pid"):
        try:
            pid = int(pid_file.read_text() or 0)
            if pid and "_workbench_shim" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
                os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass
