"""Snapshots of every screen at 80x24 and at 160x48, on fixed data (fixed clock, ids, user,
history, local time zone): what a person sees, including the context line, refusals with square
brackets, failed searches and the organization switcher."""

from __future__ import annotations

import itertools
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import Clock
from textual.widgets import Input, TextArea

from workbench.core.service import ToolService
from workbench.repo.samples import build_sample_repository
from workbench.settings import Settings
from workbench.synthetic import generate_invocations
from workbench.tui.app import WorkbenchApp
from workbench.tui.themes import builtin_theme_dir

SMALL, LARGE = (80, 24), (160, 48)
SIZES = pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x48"])
MESSAGE_TIME = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def snapshot_service(tmp_path_factory: pytest.TempPathFactory) -> ToolService:
    """One data directory for the module's snapshots (they only read it): three tools, one
    published with variables, one deprecated, 300 invocations, the index built."""
    root = tmp_path_factory.mktemp("snapshots")
    counter = itertools.count(1)
    build_sample_repository(root / "tools-repo")
    clock = Clock()
    service = ToolService(Settings(home=root / "data", tools_repo=root / "tools-repo", runtime="process", user="ada"), clock=clock, ids=lambda: f"{next(counter):024x}")
    for name, description, tags in (
        ("order_status", "Order status by order number.", {"team": "support"}),
        ("crm_account", "Account summaries; ids match ^[A-Z]{2}-[0-9]+$.", {"team": "sales", "pii": None}),
        ("weather_lookup", "The weather lookup tool.", {"team": "platform"}),
    ):
        tool_id = service.create_tool("acme", {"name": name, "description": description, "tags": tags}).id
        if name == "order_status":
            service.modify_envvars("acme", tool_id, {"inserts": [{"name": "ORDER_REGION", "value": "eu", "is_secret": False}, {"name": "ORDER_TOKEN", "value": "s3cret-value", "is_secret": True}]})
            service.publish_version("acme", tool_id, {"project_path": "order_status", "bump_type": "major"})
    service.deprecate_tool("acme", service.find_tool("acme", "weather_lookup").id)
    service.create_tool("globex", {"name": "ledger", "description": "d", "tags": {}})
    generate_invocations(service, "acme", 300, seed=9, end=clock.now, days=14)  # the last two weeks: the Tools list's activity
    service.rebuild_index()
    return service


@pytest.fixture(autouse=True)
def utc_local_time():
    """Times shown as local times read the same on every machine."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def app_for(service: ToolService, tmp_path: Path, org: str = "acme") -> WorkbenchApp:
    return WorkbenchApp(service, org, theme_dirs=[builtin_theme_dir()], config=tmp_path / "config", background_work=False, clock=lambda: MESSAGE_TIME)


def steady(*keys: str, then=None):
    """Press keys, wait for every worker, stop cursors blinking."""

    def unblink(pilot) -> None:
        # From the start, not just before the picture: a text area caches each line it draws, and a
        # line drawn in a blink's dark phase would be shown again once blinking stops.
        for widget in pilot.app.screen.query("Input, TextArea"):
            if isinstance(widget, (Input, TextArea)):
                widget.cursor_blink = False

    async def run_before(pilot) -> None:
        unblink(pilot)
        await pilot.app.workers.wait_for_complete()
        for key in keys:
            await pilot.press(key)
            unblink(pilot)
            await pilot.pause()
            await pilot.app.workers.wait_for_complete()
        if then:
            await then(pilot)
            await pilot.pause()
            await pilot.app.workers.wait_for_complete()
        unblink(pilot)
        await pilot.pause()

    return run_before


def typing(text: str):
    async def type_it(pilot) -> None:
        for char in text:
            await pilot.press(char if char != " " else "space")

    return type_it


@SIZES
def test_tools(snap_compare, snapshot_service, tmp_path, size) -> None:
    assert snap_compare(app_for(snapshot_service, tmp_path), terminal_size=size, run_before=steady())


@SIZES
def test_tools_with_deprecated_and_a_filter(snap_compare, snapshot_service, tmp_path, size) -> None:
    async def show_deprecated(pilot) -> None:
        pilot.app.screen.query_one("#show-deprecated").value = True
        pilot.app.screen.query_one("#filter", Input).value = "team:support"

    assert snap_compare(app_for(snapshot_service, tmp_path), terminal_size=size, run_before=steady(then=show_deprecated))


@SIZES
def test_an_empty_organization_says_where_the_tools_are(snap_compare, snapshot_service, tmp_path, size) -> None:
    assert snap_compare(app_for(snapshot_service, tmp_path, "empty"), terminal_size=size, run_before=steady())


@SIZES
def test_tool_versions(snap_compare, snapshot_service, tmp_path, size) -> None:
    assert snap_compare(app_for(snapshot_service, tmp_path), terminal_size=size, run_before=steady("enter"))


@SIZES
def test_tool_env_vars(snap_compare, snapshot_service, tmp_path, size) -> None:
    assert snap_compare(app_for(snapshot_service, tmp_path), terminal_size=size, run_before=steady("enter", "e"))


@SIZES
def test_tool_invoke(snap_compare, snapshot_service, tmp_path, size) -> None:
    assert snap_compare(app_for(snapshot_service, tmp_path), terminal_size=size, run_before=steady("enter", "i"))


@SIZES
def test_a_refused_input_keeps_its_brackets_in_the_hint_and_the_toast(snap_compare, snapshot_service, tmp_path, size) -> None:
    async def bad_input(pilot) -> None:
        pilot.app.screen.query_one("#editor", TextArea).text = '{"order_id": "bad"}'
        await pilot.pause()
        await pilot.press("ctrl+r")

    assert snap_compare(app_for(snapshot_service, tmp_path), terminal_size=size, run_before=steady("enter", "i", then=bad_input))


@SIZES
def test_a_refused_new_tool_keeps_the_form_and_marks_the_name(snap_compare, snapshot_service, tmp_path, size) -> None:
    async def bad_name(pilot) -> None:
        await typing("Bad Name")(pilot)
        await pilot.press("tab")
        await typing("kept as typed")(pilot)
        await pilot.press("enter")

    assert snap_compare(app_for(snapshot_service, tmp_path), terminal_size=size, run_before=steady("n", then=bad_name))


@SIZES
def test_publish_dialog(snap_compare, snapshot_service, tmp_path, size) -> None:
    assert snap_compare(app_for(snapshot_service, tmp_path), terminal_size=size, run_before=steady("enter", "p"))


@SIZES
def test_deprecate_confirmation(snap_compare, snapshot_service, tmp_path, size) -> None:
    assert snap_compare(app_for(snapshot_service, tmp_path), terminal_size=size, run_before=steady("d"))


@SIZES
def test_history(snap_compare, snapshot_service, tmp_path, size) -> None:
    assert snap_compare(app_for(snapshot_service, tmp_path), terminal_size=size, run_before=steady("f3"))


@SIZES
def test_invocation_detail(snap_compare, snapshot_service, tmp_path, size) -> None:
    assert snap_compare(app_for(snapshot_service, tmp_path), terminal_size=size, run_before=steady("f3", "down", "down", "enter"))


@SIZES
def test_search_results(snap_compare, snapshot_service, tmp_path, size) -> None:
    async def query(pilot) -> None:
        pilot.app.screen.query_one("#query", Input).value = '"connection refused"'
        await pilot.press("enter")

    assert snap_compare(app_for(snapshot_service, tmp_path), terminal_size=size, run_before=steady("f4", then=query))


@SIZES
def test_a_failed_search_says_why_and_keeps_no_stale_hits(snap_compare, snapshot_service, tmp_path, size) -> None:
    async def then_fail(pilot) -> None:
        query = pilot.app.screen.query_one("#query", Input)
        query.value = "timeout"
        await pilot.press("enter")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        query.value = "timeout " * 130  # over the length cap: the one kind of query that fails
        query.focus()
        await pilot.press("enter")

    assert snap_compare(app_for(snapshot_service, tmp_path), terminal_size=size, run_before=steady("f4", then=then_fail))


@SIZES
def test_help(snap_compare, snapshot_service, tmp_path, size) -> None:
    assert snap_compare(app_for(snapshot_service, tmp_path), terminal_size=size, run_before=steady("f1"))


@SIZES
def test_organization_switcher(snap_compare, snapshot_service, tmp_path, size) -> None:
    assert snap_compare(app_for(snapshot_service, tmp_path), terminal_size=size, run_before=steady("ctrl+o"))


@SIZES
def test_messages_keep_what_the_toasts_said(snap_compare, snapshot_service, tmp_path, size) -> None:
    async def fail_then_open_messages(pilot) -> None:
        pilot.app.screen.query_one("#query", Input).value = '"unclosed'
        await pilot.press("enter")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        pilot.app.clear_notifications()
        await pilot.press("f5")

    assert snap_compare(app_for(snapshot_service, tmp_path), terminal_size=size, run_before=steady("f4", then=fail_then_open_messages))
