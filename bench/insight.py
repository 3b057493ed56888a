"""Version insight at scale: statistics of one tool with N invocations (100,000 by default, all of
that one tool), the Insight tab's data, the Tools list's activity, and compare of 10 inputs.

Each is measured next to an alternative in the same run:

* stats from the catalog's statistics indexes vs. the same numbers computed by reading the log
  (every record parsed, filtered, sorted in Python);
* the catalog's build and one record's catch-up with the statistics indexes vs. the same rows
  in a table with only the listing indexes (what the indexes cost on write);
* compare of 10 inputs on two versions vs. running the same 10 inputs on each version one after
  the other, and vs. both at once without judging (needs the process sandbox, bwrap).

    .venv/bin/python bench/insight.py [--records 100000] [--samples 15] [--compare-runs 5] [--no-compare]
"""

from __future__ import annotations

import argparse
import math
import shutil
import sqlite3
import statistics
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from measure import timed, timings

from workbench.core.service import ToolService
from workbench.names import new_id
from workbench.settings import Settings
from workbench.store.catalog_schema import COLUMN_COUNT, COLUMNS, ROLL_UP, SCHEMA, epoch_ms, output_chars
from workbench.synthetic import generate_invocations

ORG = "acme"


def line(label: str, values: list[float], note: str = "") -> float:
    median = statistics.median(values)
    print(f"  {label:<58} median {median:8.1f} ms   {note}")
    return median


def ratio(label: str, ours: float, other: float) -> None:
    print(f"  {'':<58} {label}: {other / ours:6.1f}x faster" if ours <= other else f"  {'':<58} {label}: {ours / other:6.2f}x slower")


def nearest(values: list[int], q: float) -> int | None:
    return values[max(1, math.ceil(q * len(values))) - 1] if values else None


def stats_from_the_log(service: ToolService, tool_id: str) -> dict[str, Any]:
    """The numbers `workbench stats` shows, by reading every record of the log."""
    by_version: dict[tuple[int, int, int], list[dict[str, Any]]] = defaultdict(list)
    for record in service.workspace.invocations:
        if record["org_id"] == ORG and record["tool_id"] == tool_id:
            v = record["tool_version"]
            by_version[(v["major"], v["minor"], v["patch"])].append(record)
    found = {}
    for version, records in by_version.items():
        durations = sorted(r["duration_ms"] for r in records)
        sizes = sorted(s for s in (output_chars(r["invocation_status"]) for r in records) if s is not None)
        failures = Counter(r["invocation_status"].get("exception_type") for r in records if not r["invocation_status"]["succeeded"])
        moments = [epoch_ms(r["created_at"]) or 0 for r in records]
        found[version] = {
            "count": len(records),
            "succeeded": sum(1 for r in records if r["invocation_status"]["succeeded"]),
            "latency": [nearest(durations, q) for q in (0.5, 0.95, 0.99)],
            "sizes": [nearest(sizes, q) for q in (0.5, 0.95)] + [sizes[-1] if sizes else None, sum(s >= 5000 for s in sizes), sum(s > 20000 for s in sizes)],
            "exceptions": failures.most_common(5),
            "sources": Counter(r["invocation_source"]["type"] for r in records),
            "seen": (min(moments), max(moments)),
        }
    return found


def catalog_cost(service: ToolService, records: int) -> None:
    """Building the catalog with and without the statistics indexes and the roll-up, from the
same rows."""
    rows = service.workspace.catalog.query(f"SELECT {COLUMNS} FROM invocations", [])
    listing_only = ";".join(part for part in SCHEMA.split(";") if "stats_" not in part)
    for label, schema in (("catalog build with the statistics indexes and roll-up", SCHEMA), ("the same rows with the listing indexes only", listing_only)):
        folder = Path(tempfile.mkdtemp())
        try:
            conn = sqlite3.connect(folder / "c.sqlite", isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(schema)
            started = time.perf_counter()
            conn.execute("BEGIN")
            conn.executemany(f"INSERT INTO invocations ({COLUMNS}) VALUES ({','.join('?' * COLUMN_COUNT)})", rows)
            if "stats_hours" in schema:
                conn.execute(ROLL_UP, (0,))
            conn.execute("COMMIT")
            took = time.perf_counter() - started
            size = (folder / "c.sqlite").stat().st_size + sum(p.stat().st_size for p in folder.glob("c.sqlite-*"))
            print(f"  {label:<58} {took:6.2f} s  ({records / took:,.0f} rows/s, {size / 1e6:,.0f} MB)")
            conn.close()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def record_one(service: ToolService, samples: int) -> None:
    """One invocation appended and caught up by the catalog, with 100k stored (the design's
    record target is 5 ms)."""
    log, catalog = service.workspace.invocations, service.workspace.catalog
    template = next(iter(log))

    def append_and_sync() -> None:
        log.append({**template, "id": new_id()}, datetime.now(UTC))
        catalog.sync()

    line("record one invocation and catch the catalog up", timings(append_and_sync, samples), "(design target: record <= 5 ms)")
    line("record one invocation (append + fsync only)", timings(lambda: log.append({**template, "id": new_id()}, datetime.now(UTC)), samples))
    catalog.sync()


def bench_stats(records: int, samples: int) -> None:
    home = Path(tempfile.mkdtemp())
    try:
        service = ToolService(Settings(home=home, runtime="process"))
        started = time.perf_counter()
        tool_id = generate_invocations(service, ORG, records, seed=1, tools=["order_status"])["order_status"]
        generate_invocations(service, ORG, records // 10, seed=2, tools=["crm_account", "weather_lookup", "flaky_parser"])
        print(f"\n{records:,} invocations of one tool (+{records // 10:,} of three others), generated in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        service.workspace.catalog.sync()
        print(f"  catalog caught up from the log in {time.perf_counter() - started:.1f} s")
        catalog_cost(service, records + records // 10)
        record_one(service, samples * 3)

        print("\nstats of the tool (`workbench stats`), four versions")
        ours = line("from the catalog: all versions, whole history", timings(lambda: service.tool_stats(ORG, tool_id, {"bucket": "none"}), samples), "(target < 100 ms)")
        line("from the catalog: last 7 days, simulations only", timings(lambda: service.tool_stats(ORG, tool_id, {"since": "7d", "invocation_source_type": ["simulation-conversation"], "bucket": "none"}), samples))
        line("from the catalog: one version (==1.1.0)", timings(lambda: service.tool_stats(ORG, tool_id, {"version": "1.1.0", "bucket": "none"}), samples))
        scan = line("reading the log instead (every record parsed)", timings(lambda: stats_from_the_log(service, tool_id), max(3, samples // 5)))
        ratio("the catalog vs. the log", ours, scan)
        check = service.tool_stats(ORG, tool_id, {"bucket": "none"})
        reference = stats_from_the_log(service, tool_id)
        same = all(
            reference[tuple(map(int, v.version.split(".")))]["latency"] == [v.latency_ms.p50, v.latency_ms.p95, v.latency_ms.p99]
            and reference[tuple(map(int, v.version.split(".")))]["count"] == v.count
            for v in check.versions
        )
        print(f"  {'':<58} both give the same counts and percentiles: {same}")

        print("\nthe Insight tab's data (statistics with a time series)")
        line("last 7 days, hourly steps would be auto: days", timings(lambda: service.tool_stats(ORG, tool_id, {"since": "7d"}), samples), "(target < 300 ms)")
        line("last 24 hours, hourly steps", timings(lambda: service.tool_stats(ORG, tool_id, {"since": "24h"}), samples), "(target < 300 ms)")
        line("whole history (30 days), daily steps", timings(lambda: service.tool_stats(ORG, tool_id, {"bucket": "day"}), samples), "(target < 300 ms)")
        line("the Tools list's activity, 14 days, every tool", timings(lambda: service.tool_activity(ORG, 14), samples))
        line("the same count from the listing's COUNT(*) per tool", timings(lambda: [service.count_invocations(ORG, {"tool_id": [t.id], "version": ["*"], "created_after": "14d"}) for t in service.list_all_tools(ORG)], samples))
    finally:
        shutil.rmtree(home, ignore_errors=True)


TOOL_V1 = """
import hashlib
def run(params, ctx):
    digest = hashlib.sha256(str(params["n"]).encode()).hexdigest()
    return {"n": params["n"], "digest": digest, "double": params["n"] * 2}
"""
TOOL_V2 = TOOL_V1.replace('params["n"] * 2}', 'params["n"] * 2, "v": 2}')
SCHEMA_JSON = '{"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}'
PYPROJECT = '[project]\nname = "bench"\ndependencies = []\n\n[tool.workbench]\nentry_point = "tool:run"\ninput_schema = "schema.json"\n'


def bench_compare(runs: int) -> None:
    import git

    home = Path(tempfile.mkdtemp())
    try:
        repo_path = home / "repo"
        repo = git.Repo.init(repo_path, initial_branch="main")
        actor = git.Actor("bench", "bench@workbench.invalid")
        service = ToolService(Settings(home=home / "data", tools_repo=repo_path, runtime="process"))
        tool_id = service.create_tool(ORG, {"name": "bench", "description": "compare bench", "tags": {}}).id
        for code in (TOOL_V1, TOOL_V2):
            (repo_path / "bench").mkdir(exist_ok=True)
            for name, text in (("tool.py", code), ("schema.json", SCHEMA_JSON), ("pyproject.toml", PYPROJECT)):
                (repo_path / "bench" / name).write_text(text)
            repo.index.add(["bench/tool.py", "bench/schema.json", "bench/pyproject.toml"])
            repo.index.commit("bench tool", author=actor, committer=actor)
            service.publish_version(ORG, tool_id, {"repo": "main", "project_path": "bench", "bump_type": "major"})
        ten = {"inputs": [{"input_parameters": {"n": n}, "invocation_mode": "regular"} for n in range(10)]}
        service.invoke_version(ORG, tool_id, "1.0.0", ten)  # the history compare takes its inputs from; warms both
        service.invoke_version(ORG, tool_id, "2.0.0", ten)

        def one_after_the_other() -> None:
            service.invoke_version(ORG, tool_id, "1.0.0", ten)
            service.invoke_version(ORG, tool_id, "2.0.0", ten)

        def both_at_once() -> None:
            other = threading.Thread(target=service.invoke_version, args=(ORG, tool_id, "2.0.0", ten))
            other.start()
            service.invoke_version(ORG, tool_id, "1.0.0", ten)
            other.join()

        def compare() -> None:
            result = service.compare_versions(ORG, tool_id, {"version_a": "1.0.0", "version_b": "2.0.0", "from_history": 10})
            assert len(result.inputs) == 10 and result.summary.changed == 10

        print("\ncompare of 10 inputs on two versions (process runtime, sandboxed)")
        sequential, parallel, compared = [], [], []
        for _ in range(runs):  # interleaved, so the machine's noise falls on all three alike
            sequential.append(timed(one_after_the_other))
            parallel.append(timed(both_at_once))
            compared.append(timed(compare))
        ours = line("compare (both versions at once, judged, recorded)", compared)
        seq = line("running them: 10 on 1.0.0, then 10 on 2.0.0", sequential)
        par = line("running them: both versions at once, not judged", parallel)
        ratio("compare vs. running them one version after the other", ours, seq)
        ratio("compare vs. running both at once", ours, par)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--compare-runs", type=int, default=5)
    parser.add_argument("--no-compare", action="store_true", help="Skip compare (it needs bwrap and builds two versions).")
    args = parser.parse_args()
    bench_stats(args.records, args.samples)
    if not args.no_compare:
        bench_compare(args.compare_runs)


if __name__ == "__main__":
    main()
