"""Invocation latency of one tool in the Docker runtime, with `docker run --rm` and `docker exec`
of the same tool image for comparison. Needs a Docker daemon and the base image.

    .venv/bin/python bench/docker_invoke.py [--runs 100] [--base-image workbench-base:bookworm]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import docker
from measure import percentile

from workbench.core.service import ToolService
from workbench.repo.samples import build_sample_repository
from workbench.runtime.docker_runner import SHIM_IN_IMAGE, TOOL_ROOT, home_key
from workbench.settings import Settings

ORG = "bench"
PARAMS = {"order_id": "A-1001"}


def ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--base-image", default=os.environ.get("WORKBENCH_BASE_IMAGE", "workbench-base:bookworm"))
    args = parser.parse_args()
    client = docker.from_env()
    tmp = Path(tempfile.mkdtemp())
    settings = Settings(home=tmp / "data", tools_repo=tmp / "repo", runtime="docker", base_image=args.base_image)
    service = ToolService(settings)
    label = f"workbench.home={home_key(service.workspace.paths)}"
    try:
        build_sample_repository(tmp / "repo")
        tool_id = service.create_tool(ORG, {"name": "order_status", "description": "d", "tags": {}}).id
        service.modify_envvars(ORG, tool_id, {"inserts": [{"name": "ORDER_REGION", "value": "eu", "is_secret": False}]})
        request = {"inputs": [{"input_parameters": PARAMS, "invocation_mode": "regular"}]}
        ten = {"inputs": request["inputs"] * 10}

        started = time.perf_counter()
        service.publish_version(ORG, tool_id, {"project_path": "order_status", "bump_type": "major"})
        publish_ms = ms(started)
        started = time.perf_counter()
        service.invoke_version(ORG, tool_id, "1.0.0", request)
        first_ms = ms(started)

        for container in client.containers.list(filters={"label": label}):
            container.remove(force=True)
        fresh = ToolService(settings)  # no connection, no container: a truly cold start
        started = time.perf_counter()
        fresh.invoke_version(ORG, tool_id, "1.0.0", request)
        cold_ms = ms(started)

        warm = []
        for _ in range(args.runs):
            started = time.perf_counter()
            service.invoke_version(ORG, tool_id, "1.0.0", request)
            warm.append(ms(started))
        service.invoke_version(ORG, tool_id, "1.0.0", ten)  # start the pool's other slots
        parallel = []
        for _ in range(max(5, args.runs // 10)):
            started = time.perf_counter()
            service.invoke_version(ORG, tool_id, "1.0.0", ten)
            parallel.append(ms(started))

        with service.workspace.metadata.read() as view:
            image = view.builds.all()[0].details["image"]
        shim_request = json.dumps({"action": "invoke", "entry_point": "tool:run", "input_parameters": PARAMS, "invocation_mode": "regular"})
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            subprocess.run(["docker", "run", "--rm", "-i", "--network", "none", "-e", "ORDER_REGION=eu", image, "python3", SHIM_IN_IMAGE], input=shim_request, capture_output=True, text=True, check=True)
            runs.append(ms(started))
        worker = client.containers.list(filters={"label": label})[0]
        execs = []
        for _ in range(10):
            started = time.perf_counter()
            subprocess.run(["docker", "exec", "-i", "-w", f"{TOOL_ROOT}/project", "-e", "ORDER_REGION=eu", worker.name, "python3", SHIM_IN_IMAGE], input=shim_request, capture_output=True, text=True, check=True)
            execs.append(ms(started))
    finally:
        service.workspace.runtimes.default.purge()
        shutil.rmtree(tmp, ignore_errors=True)

    p50 = statistics.median(warm)
    print(f"Docker runtime, order_status, base image {args.base_image}")
    print(f"  publish (image built, checks in a sealed run, worker prewarmed): {publish_ms:6.0f} ms   (target <= 2000)")
    print(f"  first invocation after publish:                                 {first_ms:7.1f} ms   (target <= 1000)")
    print(f"  cold invocation (no warm container):                            {cold_ms:7.1f} ms")
    print(f"  warm invocation through the service, {len(warm)} runs:   p50 {p50:6.1f} ms   p95 {percentile(warm, 0.95):6.1f} ms   (target p50 <= 5, quiet machine)")
    print(f"  10 inputs in parallel, warm:                   median {statistics.median(parallel):6.1f} ms   {statistics.median(parallel) / p50:.2f}x one input   (target <= 3x)")
    print(f"  docker run --rm of the same tool:              median {statistics.median(runs):6.1f} ms   warm is {statistics.median(runs) / p50:.0f}x faster")
    print(f"  docker exec into a running container:          median {statistics.median(execs):6.1f} ms   warm is {statistics.median(execs) / p50:.0f}x faster")
    print(f"  cold vs warm: {cold_ms / p50:.0f}x")


if __name__ == "__main__":
    main()
