"""`workbench` as a whole command, a fresh process each time, as a user runs it: `--help`,
`tool --help`, and a warm `invoke` (its worker already running) with 100,000 invocations stored;
beside them, in the same rounds, `python -c "import click"` (the design's yardstick: `--help` at
most 1.5x it, a warm invoke at most 2x) and `python -c pass`. With ``--before REV`` the same
commands of that revision (``git archive`` into a temp dir, run with the same interpreter) take
part in the same rounds, so before and after see the same machine.

Each figure is the median of ``--runs`` rounds (one warm-up round first, which also writes the
bytecode caches a normal install has): wall time, and CPU time (user + system) of the command's
process and its children. After an invoke the search index catches up in a detached process;
the script waits for it before the next command and prints how long it took (what a search made
at once would wait for).

    .venv/bin/python bench/cli_startup.py [--invocations 100000] [--runs 15] [--runtime docker|process] [--before REV]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORG = "bench"
INPUT = '{"order_id": "A-1001"}'


def prepare(home: Path, repo: Path, runtime: str, invocations: int) -> None:
    """A data directory with order_status 1.0.0 published and ``invocations`` stored, indexed."""
    from workbench.core.service import ToolService
    from workbench.repo.samples import build_sample_repository
    from workbench.settings import Settings
    from workbench.synthetic import generate_invocations

    service = ToolService(Settings(home=home, tools_repo=repo, runtime=runtime))
    build_sample_repository(repo)
    tool_id = service.create_tool(ORG, {"name": "order_status", "description": "d", "tags": {}}).id
    service.modify_envvars(ORG, tool_id, {"inserts": [{"name": "ORDER_REGION", "value": "eu", "is_secret": False}]})
    service.publish_version(ORG, tool_id, {"project_path": "order_status", "bump_type": "major"})
    generate_invocations(service, ORG, invocations)
    service.catch_up_index()


def indexed(home: Path) -> int:
    try:
        return int(json.loads((home / "index" / "search" / "meta.json").read_text()).get("indexed_seq", 0))
    except (OSError, ValueError):
        return 0


def run(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall and CPU milliseconds of one command (its process and the children it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return wall, cpu, done.stdout


def wait_for_index(home: Path, target: int, limit: float = 60.0) -> float:
    """Milliseconds until the search index holds ``target`` invocations."""
    started = time.perf_counter()
    while indexed(home) < target and time.perf_counter() - started < limit:
        time.sleep(0.005)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invocations", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--runtime", choices=["docker", "process"], default="docker")
    parser.add_argument("--before", metavar="REV", help="also run this revision's commands in the same rounds")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="workbench-cli-bench-"))
    home, repo = tmp / "data", tmp / "repo"
    workbench = str(Path(sys.executable).with_name("workbench"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH") and not k.startswith("WORKBENCH_")}
    env.update(WORKBENCH_HOME=str(home), WORKBENCH_TOOLS_REPO=str(repo), WORKBENCH_RUNTIME=args.runtime, WORKBENCH_ORG=ORG)
    if "WORKBENCH_BASE_IMAGE" in os.environ:
        env["WORKBENCH_BASE_IMAGE"] = os.environ["WORKBENCH_BASE_IMAGE"]
    trees = {"": env}
    try:
        if args.before:
            before = tmp / "before"
            before.mkdir()
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before, "workbench"], capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", str(before)], input=archive.stdout, check=True)
            trees["before: "] = {**env, "PYTHONPATH": str(before)}
        print(f"preparing: order_status published on {args.runtime}, {args.invocations:,} invocations stored ...", file=sys.stderr)
        prepare(home, repo, args.runtime, args.invocations)
        invoke = [workbench, "invoke", "order_status", "1.0.0", "--input", INPUT]
        cases: dict[str, tuple[list[str], dict[str, str]]] = {
            'python -c "import click"': ([sys.executable, "-c", "import click"], env),
            "python -c pass": ([sys.executable, "-c", "pass"], env),
        }
        for label, tree_env in trees.items():
            cases[f"{label}workbench --help"] = ([workbench, "--help"], tree_env)
            cases[f"{label}workbench tool --help"] = ([workbench, "tool", "--help"], tree_env)
            cases[f"{label}workbench invoke (warm)"] = (invoke, tree_env)
        walls: dict[str, list[float]] = {name: [] for name in cases}
        cpus: dict[str, list[float]] = {name: [] for name in cases}
        catch_up: list[float] = []
        for round_ in range(args.runs + 1):  # the first round warms up: bytecode, the worker, the page cache
            for name, (command, case_env) in cases.items():
                target = indexed(home) + 1
                wall, cpu, out = run(command, case_env)
                if "invoke" in name:
                    assert "succeeded" in out, out
                    waited = wait_for_index(home, target)
                    if round_ and not name.startswith("before"):
                        catch_up.append(waited)
                if round_:
                    walls[name].append(wall)
                    cpus[name].append(cpu)
    finally:
        _stop_workers(home, args.runtime)
        shutil.rmtree(tmp, ignore_errors=True)
    click_wall, click_cpu = statistics.median(walls['python -c "import click"']), statistics.median(cpus['python -c "import click"'])
    print(f"workbench commands, a fresh process each, {args.runs} rounds, {args.invocations:,} invocations stored, {args.runtime} runtime")
    print(f"{'command':34} {'wall ms':>8} {'x click':>8} {'cpu ms':>8} {'x click':>8}")
    for name in cases:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        print(f"{name:34} {wall:8.0f} {wall / click_wall:7.2f}x {cpu:8.0f} {cpu / click_cpu:7.2f}x")
    print("targets: `workbench --help` <= 1.5x `import click`; `workbench invoke` (warm) <= 2x")
    if catch_up:
        print(f"after an invoke, the search index held it {statistics.median(catch_up):.0f} ms (median) after the command returned, indexed by a detached process")


def _stop_workers(home: Path, runtime: str) -> None:
    """Stop this data directory's warm workers (containers or sandboxed processes)."""
    from workbench.core.service import ToolService
    from workbench.settings import Settings

    try:
        ToolService(Settings(home=home, runtime=runtime)).workspace.runtimes.named(runtime).purge()  # type: ignore[attr-defined]
    except Exception as error:  # noqa: BLE001 - a benchmark's cleanup: say it, carry on
        print(f"could not stop the workers: {error}", file=sys.stderr)


if __name__ == "__main__":
    main()
