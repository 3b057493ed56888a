"""The cost of sealed runs: warm invocation latency before sealing, unsealed, and sealed, in both
runtimes, measured in one go on the same machine.

* before:   the workbench at ``--before`` (default: the last commit before runs were sealed),
            checked out into a temp dir: the process runtime starts a fresh interpreter per input,
            the Docker runtime forks an unsealed child in its warm worker;
* unsealed: this tree with WORKBENCH_UNSANDBOXED=1 (warm workers, no sandbox, no per-run namespaces);
* sealed:   this tree as shipped (bubblewrap, per-run namespaces, in both runtimes).

Each variant runs in its own process on a fresh data directory: publish ``order_status`` (a sample
tool), warm up, then time one input through the service (p50, p95) and ten inputs in parallel.

    .venv/bin/python bench/sealing.py [--runs 200] [--before REV] [--runtimes process docker]
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

from measure import extract_revision, percentile, timings

BEFORE = "a63728b"  # the last commit whose runs were not sealed
ROOT = Path(__file__).resolve().parent.parent
ORG = "bench"
REQUEST = {"inputs": [{"input_parameters": {"order_id": "A-1001"}, "invocation_mode": "regular"}]}


def measure(runtime: str, runs: int) -> dict[str, float]:
    """In the child: one variant's figures (imports whichever workbench PYTHONPATH names)."""
    from workbench.core.service import ToolService
    from workbench.repo.samples import build_sample_repository
    from workbench.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp) / "data", tools_repo=Path(tmp) / "repo", runtime=runtime)
        service = ToolService(settings)
        try:
            build_sample_repository(Path(tmp) / "repo")
            tool_id = service.create_tool(ORG, {"name": "order_status", "description": "d", "tags": {}}).id
            service.modify_envvars(ORG, tool_id, {"inserts": [{"name": "ORDER_REGION", "value": "eu", "is_secret": False}]})
            publish = timings(lambda: service.publish_version(ORG, tool_id, {"project_path": "order_status", "bump_type": "major"}), 1)[0]
            ten = {"inputs": REQUEST["inputs"] * 10}

            def invoke(request: dict) -> None:
                results = service.invoke_version(ORG, tool_id, "1.0.0", request).invocation_results
                assert all(r.succeeded for r in results), results

            first = timings(lambda: invoke(REQUEST), 1)[0]
            timings(lambda: invoke(ten), 3)  # every slot of the pool started, its spares grown
            timings(lambda: invoke(REQUEST), 20)
            one = timings(lambda: invoke(REQUEST), runs)
            parallel = timings(lambda: invoke(ten), max(10, runs // 10))
        finally:
            if hasattr(service, "workspace"):
                runner = service.workspace.runtimes.default
            else:  # before the core redesign
                runner = service.ctx.runner
            purge = getattr(runner, "purge", None)
            if purge:
                purge()
    return {"publish": publish, "first": first, "p50": statistics.median(one), "p95": percentile(one, 0.95), "ten": statistics.median(parallel)}


def spare_cost(samples: int = 100) -> tuple[float, float]:
    """What sealing adds to one spare, measured here: a fork that exits at once, against a fork
    that enters a run's namespaces (user, mount, PID, IPC; tmpfs scratch) and forks the run's PID 1
    (medians, ms, until the spare's process tree is gone)."""
    from workbench.runtime import shim_seal

    def plain() -> None:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)

    def sealed() -> None:
        pid = os.fork()
        if pid == 0:
            try:
                shim_seal.enter_run_namespaces(1 << 20)
                child = os.fork()
                if child == 0:
                    shim_seal.drop_privileges()
                    os._exit(0)
                os.waitpid(child, 0)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)

    return statistics.median(timings(plain, samples)), statistics.median(timings(sealed, samples))


def run_variant(runtime: str, variant: str, tree: Path, runs: int) -> dict[str, float] | str:
    env = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{ROOT / 'bench'}", "WORKBENCH_UNSANDBOXED": "1" if variant == "unsealed" else "0"}
    env.setdefault("WORKBENCH_BASE_IMAGE", "workbench-base:bookworm")
    child = subprocess.run([sys.executable, __file__, "--measure", runtime, "--runs", str(runs)], capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
    if child.returncode != 0:
        return (child.stderr.strip().splitlines() or ["failed"])[-1][:160]
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--before", default=BEFORE, help="the revision to measure as 'before'")
    parser.add_argument("--runtimes", nargs="+", default=["process", "docker"])
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.runs)))
        return
    before = Path(tempfile.mkdtemp(prefix="workbench-before-"))
    try:
        extract_revision(ROOT, args.before, before)
        print(f"warm invocation of order_status through the service; {args.runs} runs; before = {args.before}")
        print(f"{'runtime':8} {'variant':9} {'publish':>9} {'first':>8} {'p50':>8} {'p95':>8} {'10 inputs':>10} {'10 vs 1':>8}")
        for runtime in args.runtimes:
            figures = {}
            for variant, tree in (("before", before), ("unsealed", ROOT), ("sealed", ROOT)):
                result = run_variant(runtime, variant, tree, args.runs)
                if isinstance(result, str):
                    print(f"{runtime:8} {variant:9} failed: {result}")
                    continue
                figures[variant] = result
                r = result
                print(f"{runtime:8} {variant:9} {r['publish']:7.0f}ms {r['first']:6.1f}ms {r['p50']:6.2f}ms {r['p95']:6.2f}ms "
                      f"{r['ten']:8.1f}ms {r['ten'] / r['p50']:7.1f}x")
            if "sealed" in figures:
                sealed = figures["sealed"]["p50"]
                ratios = [f"sealed p50 / {name} p50 = {sealed / f['p50']:.2f}x" for name, f in figures.items() if name != "sealed"]
                print(f"{runtime:8} {'; '.join(ratios)}")
        plain, sealed = spare_cost()
        print(f"one spare, made and gone: a plain fork {plain:.2f} ms; sealed (namespaces, scratch, PID 1) {sealed:.2f} ms, {sealed / plain:.1f}x")
    finally:
        shutil.rmtree(before, ignore_errors=True)


if __name__ == "__main__":
    main()
