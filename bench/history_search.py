"""History and search at scale: fills a data directory with N generated invocations and measures
recording one invocation, a filtered history page of 100, search (common term, rare term, phrase,
fielded query; newest first, and relevance), and index rebuild throughput.

    .venv/bin/python bench/history_search.py [--sizes 10000 100000] [--samples 40]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from measure import percentile, timings

from workbench.names import new_id
from workbench.core.service import ToolService
from workbench.settings import Settings
from workbench.synthetic import generate_invocations

QUERIES = {
    "common term (order)": "order",
    "rare term (zanzibar)": "zanzibar",
    'phrase ("connection refused")': '"connection refused"',
    "fielded (type:KeyError)": "exception_type:KeyError",
}


def line(label: str, values: list[float], target: str = "") -> None:
    print(f"  {label:<46} p50 {statistics.median(values):7.1f} ms   p95 {percentile(values, 0.95):7.1f} ms   {target}")


def run(size: int, samples: int) -> None:
    home = Path(tempfile.mkdtemp())
    try:
        service = ToolService(Settings(home=home, runtime="process"))
        started = time.perf_counter()
        tools = generate_invocations(service, "acme", size, seed=1)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        service.workspace.catalog.sync()
        synced = time.perf_counter() - started
        started = time.perf_counter()
        service.rebuild_index()
        rebuilt = time.perf_counter() - started
        print(f"\n{size:,} invocations (generated in {generated:.1f} s; catalog built in {synced:.1f} s, {size / synced:,.0f}/s)")
        print(f"  index rebuild: {rebuilt:.1f} s, {size / rebuilt:,.0f} invocations/s, {len(service.workspace.search_index.partitions())} partitions")

        record = next(iter(service.workspace.invocations))
        line("record one invocation (append + fsync)", timings(lambda: service.workspace.invocations.append({**record, "id": new_id()}, datetime.now(UTC)), samples * 5), "(target <= 5)")
        service.workspace.catalog.sync()
        page_queries = {
            "history page: newest 100": {},
            "history page: one tool, >=1.1, failed": {"tool_id": [tools["order_status"]], "version": [">=1.1"], "succeeded": False},
            "history page: simulations, sorted by version": {"invocation_source_type": ["simulation-conversation"], "sort_by": ["-version.major", "-created_at"]},
            "history page: page 50 of all (offset 5,000)": {"continuation_token": 5000},
        }
        for label, query in page_queries.items():
            line(label, timings(lambda q=query: service.list_invocations("acme", {**q, "limit": 100}), samples), "(target <= 50)")
        line("count for '100 of N'", timings(lambda: service.count_invocations("acme", {"succeeded": False}), samples))
        for order in ("newest", "relevance"):
            for label, query in QUERIES.items():
                values = timings(lambda q=query: service.search_page("acme", {"query": q, "order": order, "limit": 20}), samples)
                line(f"search {order}: {label}", values, "(target p50 <= 50, p95 <= 150)")
        service.workspace.search_index.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args()
    for size in args.sizes:
        run(size, args.samples)


if __name__ == "__main__":
    main()
