"""Snapshots of every screen at a fixed size, on fixed data (fixed clock, ids, user, history)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea

from workbench.core.service import ToolService
from workbench.repo.samples import build_sample_repository
from workbench.settings import Settings
from workbench.synthetic import generate_invocations
from workbench.tui.app import WorkbenchApp
from workbench.tui.themes import builtin_theme_dir

SIZE = (120, 36)


@pytest.fixture
def snapshot_app(home: Path, repo_path: Path, clock, tmp_path: Path) -> WorkbenchApp:
    counter = itertools.count(1)
    build_sample_repository(repo_path)
    service = ToolService(Settings(home=home, tools_repo=repo_path, runtime="process", user="ada"), clock=clock, ids=lambda: f"{next(counter):024x}")
    for name, tags in (("order_status", {"team": "support"}), ("crm_account", {"team": "sales", "pii": None}), ("weather_lookup", {"team": "platform"})):
        tool_id = service.create_tool("acme", {"name": name, "description": f"The {name.replace('_', ' ')} tool.", "tags": tags}).id
        if name == "order_status":
            service.modify_envvars("acme", tool_id, {"inserts": [{"name": "ORDER_REGION", "value": "eu", "is_secret": False}, {"name": "ORDER_TOKEN", "value": "s3cret-value", "is_secret": True}]})
            service.publish_version("acme", tool_id, {"project_path": "order_status", "bump_type": "major"})
    service.deprecate_tool("acme", service.find_tool("acme", "weather_lookup").id)
    generate_invocations(service, "acme", 300, seed=9, end=datetime(2026, 2, 1, tzinfo=UTC))
    service.rebuild_index()
    return WorkbenchApp(service, "acme", theme_dirs=[builtin_theme_dir()], config=tmp_path / "config", background_work=False)


def steady(*keys: str, then=None):
    """Press keys, wait for every worker, stop cursors blinking."""

    async def run_before(pilot) -> None:
        await pilot.app.workers.wait_for_complete()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
            await pilot.app.workers.wait_for_complete()
        if then:
            await then(pilot)
            await pilot.app.workers.wait_for_complete()
        for widget in pilot.app.screen.query("Input, TextArea"):
            if isinstance(widget, (Input, TextArea)):
                widget.cursor_blink = False
        await pilot.pause()

    return run_before


def test_tools_screen(snap_compare, snapshot_app) -> None:
    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=steady())


def test_tools_screen_with_deprecated(snap_compare, snapshot_app) -> None:
    async def show_deprecated(pilot) -> None:
        pilot.app.screen.query_one("#show-deprecated").value = True

    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=steady(then=show_deprecated))


def test_tool_versions(snap_compare, snapshot_app) -> None:
    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=steady("enter"))


def test_tool_env_vars(snap_compare, snapshot_app) -> None:
    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=steady("enter", "e"))


def test_tool_invoke(snap_compare, snapshot_app) -> None:
    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=steady("enter", "i"))


def test_publish_dialog(snap_compare, snapshot_app) -> None:
    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=steady("enter", "p"))


def test_deprecate_confirmation(snap_compare, snapshot_app) -> None:
    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=steady("d"))


def test_history(snap_compare, snapshot_app) -> None:
    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=steady("f3"))


def test_invocation_detail(snap_compare, snapshot_app) -> None:
    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=steady("f3", "down", "down", "enter"))


def test_search_results(snap_compare, snapshot_app) -> None:
    async def query(pilot) -> None:
        pilot.app.screen.query_one("#query", Input).value = '"connection refused"'
        await pilot.press("enter")

    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=steady("f4", then=query))


def test_help(snap_compare, snapshot_app) -> None:
    assert snap_compare(snapshot_app, terminal_size=SIZE, run_before=steady("f1"))
