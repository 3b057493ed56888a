"""TUI start-up with 100,000 invocations stored: from launching a fresh process to the first
screen (the tools list, populated), and to the first page of history ("100 of 100,000").

    .venv/bin/python bench/tui_startup.py [--invocations 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import asyncio, os, sys, time
started = float(sys.argv[1])
from workbench.tui.app import make_app
from workbench.settings import Settings

async def main():
    app = make_app(Settings(), "bench")
    async with app.run_test(size=(120, 36)) as pilot:
        table = app.screen.query_one("DataTable")
        while table.row_count == 0:
            await pilot.pause(0.005)
        first = time.time() - started
        await pilot.press("f3")
        history = app.screen.query_one("#history")
        while history.row_count == 0:
            await pilot.pause(0.005)
        print(f"{first:.4f} {time.time() - started:.4f}")

asyncio.run(main())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invocations", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from workbench.core.service import ToolService
    from workbench.settings import Settings
    from workbench.synthetic import generate_invocations

    with tempfile.TemporaryDirectory() as tmp:
        service = ToolService(Settings(home=Path(tmp), runtime="process"))
        generate_invocations(service, "bench", args.invocations)
        service.workspace.catalog.sync()  # as the background indexer keeps it in a running workbench
        env = {**os.environ, "WORKBENCH_HOME": tmp}
        first, history = [], []
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, "-c", CHILD, str(time.time())], env=env, capture_output=True, text=True, check=True).stdout.split()
            first.append(float(out[0]) * 1000)
            history.append(float(out[1]) * 1000)
    print(f"TUI start-up with {args.invocations:,} invocations stored ({args.runs} runs, fresh process each)")
    print(f"  to the first screen (tools listed):   median {statistics.median(first):6.0f} ms   max {max(first):6.0f} ms   (target < 1000)")
    print(f"  to the first page of history:          median {statistics.median(history):6.0f} ms   max {max(history):6.0f} ms")


if __name__ == "__main__":
    main()
