"""What both runtimes do the same way: every describe, check and invocation is a request to one
of the build's warm workers, which runs it in a fresh sealed child (see :mod:`shim_worker`).

A build has two pools of workers: ``net`` for regular invocations, and ``nonet`` (no network at
all) for conversation-simulation mode unless the project allows it, and for describe and checks.
A runtime says only how to start a worker for a build; the requests, the answers, timeouts and a
lost worker are handled here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.runtime.base import SCRATCH_BYTES, Build, CheckResult, ShimResponse, failure, parse_size
from workbench.runtime.pool import WorkerLost, WorkerPool
from workbench.settings import Settings

NETWORK, OFFLINE = "net", "nonet"

# Start a worker for this build, with or without network, listening on this socket path; what
# it returns, if anything, says why the worker died before its socket appeared.
StartWorker = Callable[[Build, bool, Path], Callable[[], str | None] | None]


def worker_arguments(build: Build, settings: Settings, socket_path: str, sealed: bool = True) -> list[str]:
    """The shim's command line for a build's worker listening on ``socket_path`` (as the sandbox
    sees it): what it serves, how long it idles, and each run's limits. Nothing secret."""
    limits = {"memory": parse_size(settings.container_memory), "processes": settings.container_pids, "scratch": SCRATCH_BYTES}
    arguments = ["--serve", socket_path, "--idle", str(settings.worker_idle_seconds), "--entry", build.spec.entry_point, "--limits", json.dumps(limits)]
    arguments += ["--model", build.spec.input_model] if build.spec.input_model else []
    return arguments + (["--sealed"] if sealed else [])


class WarmRuns:
    """Sends a build's requests to its warm workers, starting them on first use."""

    def __init__(self, pool: WorkerPool, start: StartWorker, errors: Callable[[], tuple[type[Exception], ...]] = tuple) -> None:
        self.pool = pool
        self.start = start
        self.errors = errors  # the runtime's own "could not start a worker" errors, asked for only when one happens

    def key(self, build: Build, network: str) -> str:
        """The pool key of a build's workers with or without network."""
        return f"{build.directory.name}-{network}"

    def network_for(self, build: Build, mode: str) -> str:
        """Which workers run an invocation in ``mode``: simulation goes offline unless the project allows network."""
        if mode == "conversation-simulation" and not build.spec.simulation_network and not build.details.get("simulation_network"):
            return OFFLINE
        return NETWORK

    def call(self, build: Build, network: str, payload: dict[str, Any], timeout: float) -> ShimResponse:
        """One request on one of the build's workers; a lost or stuck worker is a failed run."""
        key = self.key(build, network)
        slot = self.pool.next_slot(key)
        try:
            connection = self.pool.connection(key, slot, lambda path: self.start(build, network == NETWORK, path))
            return connection.request({**payload, "timeout": timeout}, timeout)
        except TimeoutError:
            return failure("TimeoutError", f"the invocation ran longer than its {timeout:g} s timeout and was stopped")
        except WorkerLost as error:
            return failure("SandboxError", f"the worker stopped unexpectedly ({error}); it is replaced on the next invocation")
        except self.errors() as error:
            return failure("SandboxError", f"could not start a worker: {getattr(error, 'explanation', None) or error}")

    def describe(self, build: Build) -> ShimResponse:
        """Load the entry point in a sealed run: its input schema, or why it failed."""
        request = {"action": "describe", "entry_point": build.spec.entry_point, "input_model": build.spec.input_model}
        return self.call(build, OFFLINE, request, timeout=60)

    def invoke(self, build: Build, request: dict[str, Any], env: dict[str, str], timeout: float) -> ShimResponse:
        """One input in a sealed run; ``env`` (secrets included) goes over the socket."""
        payload = {"action": "invoke", "entry_point": build.spec.entry_point, "input_model": build.spec.input_model, "env": env, **request}
        return self.call(build, self.network_for(build, request.get("invocation_mode", "regular")), payload, timeout)

    def check(self, build: Build, command: str, env: dict[str, str], timeout: float) -> CheckResult:
        """A project check, in a sealed run without network; its environment goes over the socket."""
        started = time.perf_counter()
        answer = self.call(build, OFFLINE, {"action": "check", "command": command, "env": env}, timeout)
        if answer.get("ok"):
            passed, output = bool(answer["passed"]), str(answer["output"])
        elif answer.get("exception_type") == "TimeoutError":
            passed, output = False, f"the check ran longer than {timeout:g} s and was stopped"
        else:
            passed, output = False, f"{answer.get('exception_type')}: {answer.get('exception_message')}"
        return CheckResult(command, passed, output, int((time.perf_counter() - started) * 1000))

    def prewarm(self, build: Build) -> None:
        """Start a regular-mode worker now, so the first invocation after publish is warm."""
        key = self.key(build, NETWORK)
        self.pool.connection(key, 0, lambda path: self.start(build, True, path))

    def stop(self, build: Build) -> None:
        """Stop the build's workers (its version was deprecated, or its publish failed)."""
        for network in (NETWORK, OFFLINE):
            self.pool.shutdown(self.key(build, network))
