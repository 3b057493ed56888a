"""TUI start-up with 100,000 invocations stored: from launching a fresh process to the first
screen (the tools list, populated), and to the first page of history ("100 of 100,000"); and, in
the same run, a minimal Textual app showing a table, the alternative the first screen is
measured against (the design's target: at most 1.5x).

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

MINIMAL = r"""
import asyncio, sys, time
started = float(sys.argv[1])
from textual.app import App
from textual.widgets import DataTable, Footer, Header

class Minimal(App):
    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("Name", "Versions", "Description")
        for i in range(6):
            table.add_row(f"tool_{i}", "1", "a tool")

async def main():
    app = Minimal()
    async with app.run_test(size=(120, 36)) as pilot:
        table = app.query_one(DataTable)
        while table.row_count == 0:
            await pilot.pause(0.005)
        print(f"{time.time() - started:.4f}")

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
        first, history, minimal = [], [], []
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            out = subprocess.run([sys.executable, "-c", CHILD, str(time.time())], env=env, capture_output=True, text=True, check=True).stdout.split()
            first.append(float(out[0]) * 1000)
            history.append(float(out[1]) * 1000)
            out = subprocess.run([sys.executable, "-c", MINIMAL, str(time.time())], env=env, capture_output=True, text=True, check=True).stdout.split()
            minimal.append(float(out[0]) * 1000)
    print(f"TUI start-up with {args.invocations:,} invocations stored ({args.runs} runs, fresh process each)")
    print(f"  to the first screen (tools listed):   median {statistics.median(first):6.0f} ms   max {max(first):6.0f} ms   (target < 1000)")
    print(f"  to the first page of history:          median {statistics.median(history):6.0f} ms   max {max(history):6.0f} ms")
    print(f"  a minimal Textual app with a table:    median {statistics.median(minimal):6.0f} ms   max {max(minimal):6.0f} ms")
    print(f"  first screen / minimal app:            {statistics.median(first) / statistics.median(minimal):.2f}x   (target <= 1.5x)")


if __name__ == "__main__":
    main()
