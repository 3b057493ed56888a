"""The app follows the data as it changes: invocations recorded and versions published by this
process or by another one on the same data directory show up without a reload."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from test_tui import SIZE, make_app, rows, settle
from textual.widgets import DataTable, Static

from workbench.core.service import ToolService
from workbench.synthetic import generate_invocations


def status_text(app) -> str:
    return str(app.screen.query_one("#status", Static).render())


def in_another_process(home: Path, repo: Path, code: str) -> None:
    """Run ``code`` (with ``service``, a ToolService over the same data) in a fresh interpreter."""
    script = "from workbench.core.service import ToolService\nfrom workbench.settings import Settings\nservice = ToolService(Settings())\n" + textwrap.dedent(code)
    env = {**os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_TOOLS_REPO": str(repo), "WORKBENCH_RUNTIME": "process"}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=300)


async def test_history_shows_invocations_another_process_records(tui_service: ToolService, tmp_path: Path, home: Path, repo_path: Path) -> None:
    generate_invocations(tui_service, "acme", 20, seed=5)
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert status_text(app).startswith("20 of 20")
        in_another_process(home, repo_path, """
            from workbench.synthetic import generate_invocations
            generate_invocations(service, "acme", 5, seed=6)
        """)
        tui_service.workspace.watcher.poll()  # the watcher's next look, now rather than in half a second
        await settle(pilot)
        assert status_text(app).startswith("25 of 25")
        assert app.screen.query_one("#history", DataTable).row_count == 25


async def test_history_keeps_the_place_of_someone_reading_further_down(tui_service: ToolService, tmp_path: Path) -> None:
    generate_invocations(tui_service, "acme", 150, seed=5)
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        table = app.screen.query_one("#history", DataTable)
        table.move_cursor(row=120)
        before = rows(table)[120]
        generate_invocations(tui_service, "acme", 3, seed=8)  # this process: the service says so itself
        await settle(pilot)
        assert status_text(app).startswith("150 of 153")
        assert rows(table)[120] == before and table.cursor_row == 120


async def test_the_tools_list_follows_a_publish_in_another_process(tui_service: ToolService, tmp_path: Path, home: Path, repo_path: Path) -> None:
    tool_id = tui_service.create_tool("acme", {"name": "weather_lookup", "description": "d", "tags": {}}).id
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert [(r[0], r[1]) for r in rows(app.screen.query_one(DataTable))] == [("weather_lookup", "0")]
        in_another_process(home, repo_path, f"""
            service.publish_version("acme", "{tool_id}", {{"project_path": "weather_lookup", "bump_type": "major"}})
        """)
        tui_service.workspace.watcher.poll()
        await settle(pilot)
        assert [(r[0], r[1]) for r in rows(app.screen.query_one(DataTable))] == [("weather_lookup", "1")]
