"""Publish of a small tool in Docker with a cached base image: this code beside ``--before`` (another
revision, e.g. one that started the worker after the checks instead of beside them) and beside the
process runtime, in alternating rounds so that both see the same load.

Each variant runs in its own process on a fresh data directory: one publish to warm the layer
cache and the wheelhouse (not counted), then ``--publishes`` patch releases of ``order_status``,
each an image built, its entry point described, its checks run and its worker started. Prints the
median and the ratio to this code's Docker publish.

    .venv/bin/python bench/docker_publish.py [--rounds 5] [--publishes 2] [--before REV]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from measure import extract_revision

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "HEAD~1"

PUBLISHER = r"""
import json, sys, tempfile, time
from pathlib import Path
from workbench.core.service import ToolService
from workbench.repo.samples import build_sample_repository
from workbench.settings import Settings

runtime, base_image, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
tmp = Path(tempfile.mkdtemp(prefix="workbench-publish-"))
build_sample_repository(tmp / "repo")
service = ToolService(Settings(home=tmp / "data", tools_repo=tmp / "repo", runtime=runtime, base_image=base_image))
tool_id = service.create_tool("acme", {"name": "order_status", "description": "d", "tags": {}}).id
service.modify_envvars("acme", tool_id, {"inserts": [{"name": "ORDER_REGION", "value": "eu", "is_secret": False}]})
request = {"project_path": "order_status", "bump_type": "patch"}
times = []
try:
    for n in range(count + 1):
        started = time.perf_counter()
        service.publish_version("acme", tool_id, request)
        if n:  # the first warms the layer cache
            times.append((time.perf_counter() - started) * 1000)
finally:
    service.workspace.runtimes.default.purge()
print(json.dumps(times))
"""


def publish_times(tree: Path, runtime: str, base_image: str, count: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(tree), "WORKBENCH_COMMAND_SERVER": "0"}
    done = subprocess.run([sys.executable, "-c", PUBLISHER, runtime, base_image, str(count)], env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{runtime} publish failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--publishes", type=int, default=2, help="counted publishes per variant and round")
    parser.add_argument("--before", default=BEFORE, help="the revision to measure as 'before'")
    parser.add_argument("--base-image", default=os.environ.get("WORKBENCH_BASE_IMAGE", "workbench-base:bookworm"))
    args = parser.parse_args()
    before = Path(tempfile.mkdtemp(prefix="workbench-before-"))
    try:
        extract_revision(ROOT, args.before, before)
        variants = {"docker, this code": (ROOT, "docker"), f"docker, {args.before}": (before, "docker"), "process, this code": (ROOT, "process")}
        times: dict[str, list[float]] = {name: [] for name in variants}
        for round_number in range(args.rounds):
            for name, (tree, runtime) in variants.items():
                times[name] += publish_times(tree, runtime, args.base_image, args.publishes)
            print(f"round {round_number + 1}/{args.rounds}: " + ", ".join(f"{n} {statistics.median(t):.0f} ms" for n, t in times.items()), flush=True)
    finally:
        shutil.rmtree(before, ignore_errors=True)
    ours = statistics.median(times["docker, this code"])
    print(f"\npublish of order_status (a patch release; cached base image {args.base_image}), medians of {args.rounds * args.publishes}:")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<22} p50 {median:7.0f} ms   min {min(values):6.0f}   max {max(values):6.0f}   {median / ours:5.2f}x this code's Docker publish")
    print("  target: Docker publish p50 <= 2000 ms")


if __name__ == "__main__":
    main()
