"""Publish and invoke timings through the service, on a fresh data directory.

Prints: publish of text_stats (humanize + pydantic) on an empty wheelhouse and again with the
wheelhouse warm; publish of order_status (no dependencies); and invocation latency of order_status
through the process runner (sandboxed warm workers), sequential (median, p95) and 10 inputs in
parallel. bench/sealing.py compares both runtimes before and after sealing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from measure import percentile, timed

from workbench.core.service import ToolService
from workbench.repo.samples import build_sample_repository
from workbench.settings import Settings

ORG = "bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invocations", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        service = ToolService(Settings(home=home / "data", tools_repo=home / "repo", runtime="process"))
        build_sample_repository(home / "repo")

        def tool(name: str, **envvars: str) -> str:
            tool_id = service.create_tool(ORG, {"name": name, "description": name, "tags": {}}).id
            if envvars:
                service.modify_envvars(ORG, tool_id, {"inserts": [{"name": k, "value": v, "is_secret": False} for k, v in envvars.items()]})
            return tool_id

        def publish(tool_id: str, path: str, bump: str) -> float:
            return timed(lambda: service.publish_version(ORG, tool_id, {"project_path": path, "bump_type": bump}))

        stats = tool("text_stats")
        first = publish(stats, "text_stats", "major")
        rebuilds = [publish(stats, "text_stats", "patch")]
        service.deprecate_versions(ORG, stats, "<1.0.1")
        rebuilds.append(publish(stats, "text_stats", "patch"))
        lookup = tool("order_status", ORDER_REGION="eu")
        plain = [publish(lookup, "order_status", "major")]

        request = {"inputs": [{"input_parameters": {"order_id": "A-1001"}, "invocation_mode": "regular"}]}
        ten = {"inputs": request["inputs"] * 10}
        service.invoke_version(ORG, lookup, "1.0.0", request)  # warm the page cache
        single = [timed(lambda: service.invoke_version(ORG, lookup, "1.0.0", request)) for _ in range(args.invocations)]
        parallel = [timed(lambda: service.invoke_version(ORG, lookup, "1.0.0", ten)) for _ in range(max(3, args.invocations // 10))]
        service.workspace.runtimes.default.purge()  # its sandboxed workers would outlive the temp dir

    one = statistics.median(single)
    print("publish (process runner)")
    print(f"  text_stats, empty wheelhouse (downloads humanize, pydantic):  {first:8.0f} ms")
    print(f"  text_stats, wheelhouse warm (median of {len(rebuilds)}):              {statistics.median(rebuilds):8.0f} ms   ratio {statistics.median(rebuilds) / first:.2f}x of first")
    print(f"  order_status, no dependencies:                                 {plain[0]:8.0f} ms")
    print(f"invoke order_status through the service ({len(single)} runs)")
    print(f"  1 input:  median {one:6.1f} ms   p95 {percentile(single, 0.95):6.1f} ms")
    print(f"  10 inputs in parallel: median {statistics.median(parallel):6.1f} ms   ratio {statistics.median(parallel) / one:.2f}x of one input")


if __name__ == "__main__":
    main()
