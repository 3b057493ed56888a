"""The process runner: each build gets its own virtual environment; each invocation runs in a
fresh subprocess through the shim, with a clean environment and a timeout.

Dependencies are installed from a local wheelhouse: the first build that needs a package downloads
its wheels once; every later build with the same dependencies installs offline.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.errors import StageFailed
from workbench.runtime.base import Build, BuildSpec, CheckResult, ShimResponse

SHIM_SOURCE = Path(__file__).with_name("shim.py")
SHIM_NAME = "_workbench_shim.py"


def _base_python() -> str:
    """The interpreter to make tool environments from (the real one, not our venv's wrapper)."""
    return getattr(sys, "_base_executable", None) or sys.executable


class ProcessTimeout(Exception):
    pass


def run_bounded(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float, stdin: str | None = None) -> tuple[int, str, str]:
    """Run a command in its own process group; on timeout the whole group is killed."""
    proc = subprocess.Popen(
        args,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise ProcessTimeout from None
    return proc.returncode, out, err


class ProcessRunner:
    """Runs tools as local subprocesses in per-build virtual environments."""

    name = "process"

    def __init__(self, wheelhouse: Path) -> None:
        self.wheelhouse = wheelhouse

    # -- building -----------------------------------------------------------------------------

    def build(self, spec: BuildSpec, directory: Path, log: Callable[[str], None] = lambda _: None) -> Build:
        venv = directory / "venv"
        started = time.perf_counter()
        result = subprocess.run([_base_python(), "-m", "venv", "--without-pip", str(venv)], capture_output=True, text=True)
        if result.returncode != 0:
            raise StageFailed("build", "could not create the tool's virtual environment", result.stdout + result.stderr)
        shim_dir = directory / "shim"
        shim_dir.mkdir(exist_ok=True)
        shutil.copyfile(SHIM_SOURCE, shim_dir / SHIM_NAME)
        if spec.dependencies:
            self._install(spec.dependencies, venv, log)
        details = {"venv": str(venv), "build_ms": int((time.perf_counter() - started) * 1000)}
        log(f"built environment in {details['build_ms']} ms")
        return Build(self.name, directory, spec, details)

    def load(self, directory: Path, spec: BuildSpec, details: dict[str, Any]) -> Build:
        return Build(self.name, directory, spec, details)

    def prewarm(self, build: Build) -> None:
        """Nothing stays running between invocations here."""

    def retire(self, build: Build) -> None:
        """Nothing stays running between invocations here."""

    def discard(self, build: Build) -> None:
        """The build directory goes with the failed publish; nothing else to undo."""

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

    # -- running ------------------------------------------------------------------------------

    def _env(self, build: Build, extra: dict[str, str]) -> dict[str, str]:
        """A clean environment: the tool's variables, its venv first on PATH, nothing of ours."""
        venv_bin = build.directory / "venv" / "bin"
        scratch = build.directory / "home"
        scratch.mkdir(exist_ok=True)
        return {
            **extra,
            "PATH": f"{venv_bin}{os.pathsep}/usr/local/bin{os.pathsep}/usr/bin{os.pathsep}/bin",
            "HOME": str(scratch),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(build.spec.project_dir),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "VIRTUAL_ENV": str(venv_bin.parent),
        }

    def _shim(self, build: Build, request: dict[str, Any], env: dict[str, str], timeout: float) -> ShimResponse:
        python = build.directory / "venv" / "bin" / "python"
        shim = build.directory / "shim" / SHIM_NAME
        try:
            code, out, err = run_bounded(
                [str(python), str(shim)], cwd=build.spec.project_dir, env=self._env(build, env), timeout=timeout, stdin=json.dumps(request)
            )
        except ProcessTimeout:
            return {
                "ok": False,
                "exception_type": "TimeoutError",
                "exception_message": f"the invocation ran longer than its {timeout:g} s timeout and was stopped",
                "exception_stack_trace": [],
                "logs": [],
            }
        try:
            return json.loads(out)
        except ValueError:
            return {
                "ok": False,
                "exception_type": "SandboxError",
                "exception_message": f"the tool process exited with code {code} without a result",
                "exception_stack_trace": err.splitlines()[-50:],
                "logs": [],
            }

    def describe(self, build: Build) -> ShimResponse:
        request = {"action": "describe", "entry_point": build.spec.entry_point, "input_model": build.spec.input_model}
        return self._shim(build, request, {}, timeout=60)

    def invoke(self, build: Build, request: dict[str, Any], env: dict[str, str], timeout: float) -> ShimResponse:
        full = {"action": "invoke", "entry_point": build.spec.entry_point, "input_model": build.spec.input_model, **request}
        return self._shim(build, full, env, timeout)

    def run_check(self, build: Build, command: str, env: dict[str, str], timeout: float) -> CheckResult:
        started = time.perf_counter()
        try:
            code, out, err = run_bounded(["/bin/sh", "-c", command], cwd=build.spec.project_dir, env=self._env(build, env), timeout=timeout)
            passed, output = code == 0, out + err
        except ProcessTimeout:
            passed, output = False, f"the check ran longer than {timeout:g} s and was stopped"
        return CheckResult(command, passed, output, int((time.perf_counter() - started) * 1000))
