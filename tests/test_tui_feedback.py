"""What the app says: data with square brackets shown whole, errors where they happened and in the
messages, empty lists and refused keys that say why, help as tables of keys, one progress bar,
local readable times, the screenshot's place."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from test_tui import SIZE, make_app, rows, screen_lines, screen_text, settle, type_text
from textual.widgets import DataTable, Input, OptionList, Static, TextArea

from workbench.core.service import ToolService
from workbench.synthetic import generate_invocations
from workbench.tui.screens.help import HelpScreen
from workbench.tui.screens.messages import MessagesScreen
from workbench.tui.widgets.context_bar import ContextBar
from workbench.tui.widgets.dialogs import FormDialog
from workbench.tui.widgets.tables import TableView

SMALL = (80, 24)


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch):
    """Local time is UTC in these tests, so "local, readable" times are predictable."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def published_order_status(service: ToolService) -> str:
    tool_id = service.create_tool("acme", {"name": "order_status", "description": "Order ids look like [A-Z]-[0-9]{4}", "tags": {}}).id
    service.modify_envvars("acme", tool_id, {"inserts": [{"name": "ORDER_REGION", "value": "eu", "is_secret": False}]})
    service.publish_version("acme", tool_id, {"project_path": "order_status", "bump_type": "major"})
    return tool_id


async def test_square_brackets_survive_in_a_table_cell_a_hint_a_toast_and_a_form(tui_service: ToolService, tmp_path: Path) -> None:
    published_order_status(tui_service)
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert rows(app.screen.query_one("#tools", DataTable))[0][-1] == "Order ids look like [A-Z]-[0-9]{4}"  # a table cell
        await pilot.press("enter", "i")
        await settle(pilot)
        app.screen.query_one("#editor", TextArea).text = '{"order_id": "bad"}'
        await pilot.pause()
        hint = str(app.screen.query_one("#problems", Static).render())
        assert "'bad' does not match the pattern ^[A-Z]-\\d{4}$" in hint  # the input hint, the pattern as written
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert any("does not match the pattern ^[A-Z]-" in n.message for n in app.notices)
        toasts = [str(toast.render()) for toast in app.screen.query("Toast")]
        assert any("does not match the pattern ^[A-Z]-\\d{4}$" in toast for toast in toasts)  # the toast
        await pilot.press("escape", "e", "a")  # out of the editor, to the env vars tab: a new variable with a bad name
        await type_text(pilot, "bad name")
        await pilot.press("tab")
        await type_text(pilot, "v")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, FormDialog)
        refusal = str(app.screen.query_one("#e-name", Static).render())
        assert "String should match pattern '^[A-Z_]+$'" in refusal and "allowed: capital letters A-Z and _" in refusal
        assert app.screen.query_one("#f-name", Input).value == "bad name"


async def test_a_failed_search_says_why_where_the_hits_were_and_leaves_none_behind(tui_service: ToolService, tmp_path: Path) -> None:
    generate_invocations(tui_service, "acme", 200, seed=3)
    tui_service.rebuild_index()
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await type_text(pilot, "timeout")
        await pilot.press("enter")
        await settle(pilot)
        hits = app.screen.query_one("#hits", OptionList)
        assert hits.option_count > 0
        await pilot.press("slash")
        app.screen.query_one("#query", Input).value = "timeout " * 130  # plain text always searches; only an oversized query fails
        await pilot.press("enter")
        await settle(pilot)
        status = app.screen.query_one("#status", Static)
        assert hits.option_count == 0  # no stale hits under the failed query
        assert str(status.render()) == "the search failed: invalid search query: query: String should have at most 1000 characters"
        assert status.has_class("-error")
        assert app.unread_errors == 1 and "⚠ 1 error · F5" in str(app.screen.query_one("#ctx-alerts").render())
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, MessagesScreen)
        assert "at most 1000 characters" in screen_text(app)
        assert app.unread_errors == 0
        await pilot.press("escape")
        await pilot.press("escape")  # esc in the query: to the (empty) hits
        assert app.screen.focused is hits


async def test_a_failed_run_ends_in_a_visible_state_not_running(tui_service: ToolService, tmp_path: Path) -> None:
    tool_id = published_order_status(tui_service)
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter", "i")
        await settle(pilot)
        tui_service.deprecate_versions("acme", tool_id, "1.0.0")  # someone else deprecates it meanwhile
        await pilot.press("ctrl+r")
        await settle(pilot)
        line = app.screen.query_one("#results-summary", Static)
        assert str(line.render()).startswith("the run failed: ") and "1.0.0" in str(line.render())
        assert line.has_class("-error") and "running" not in str(line.render())


async def test_empty_lists_say_what_to_do_and_refused_keys_say_why(tui_service: ToolService, tmp_path: Path) -> None:
    tui_service.create_tool("acme", {"name": "bare", "description": "nothing yet", "tags": {}})
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one("#versions-view", TableView).hint == "No versions yet — p publishes the first one (1.0.0) from a branch."
        await pilot.press("x")
        assert app.notices[-1].message == "bare has no active versions to deprecate."
        await pilot.press("e")
        await settle(pilot)
        assert app.screen.query_one("#envvars-view", TableView).hint == "No env vars yet — a adds one, s adds a secret."
        await pilot.press("u")
        assert app.notices[-1].message == "No variable to update: this tool has none yet (a adds one, s adds a secret)."
        await pilot.press("x")
        assert app.notices[-1].message == "No variable to delete: this tool has none yet (a adds one, s adds a secret)."


async def test_filters_say_what_they_hide_and_esc_leaves_them(tui_service: ToolService, tmp_path: Path) -> None:
    for name in ("alpha", "beta", "gamma"):
        tui_service.create_tool("acme", {"name": name, "description": "d", "tags": {}})
    tui_service.deprecate_tool("acme", tui_service.find_tool("acme", "gamma").id)
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "alpha")
        status = str(app.screen.query_one("#status", Static).render())
        assert status == "1 of 3 tools · 1 deprecated hidden (the deprecated switch shows them) · 1 hidden by the filter"
        await pilot.press("escape")
        assert app.screen.focused is app.screen.query_one("#tools", DataTable)
        await pilot.press("slash")
        for _ in range(5):
            await pilot.press("backspace")
        await pilot.press("b", "z")
        assert app.screen.query_one("#tools-view", TableView).hint.startswith("No tool matches the filter")


async def test_times_in_messages_are_local_and_readable(tui_service: ToolService, tmp_path: Path, utc) -> None:
    tool_id = tui_service.create_tool("acme", {"name": "crm", "description": "d", "tags": {}}).id
    tui_service.modify_envvars("acme", tool_id, {"inserts": [{"name": "CRM_TOKEN", "value": "x", "is_secret": False}]})
    tui_service.modify_envvars("acme", tool_id, {"deletes": [{"name": "CRM_TOKEN"}]})
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter", "e", "a")
        await type_text(pilot, "CRM_TOKEN")
        await pilot.press("tab", "y", "enter")
        await settle(pilot)
        refusal = str(app.screen.query_one("#e-name", Static).render())
        assert "its name is reserved until 8 Jan 2026 12:00:00 UTC" in refusal
        assert "T12:00" not in refusal and "+00:00" not in refusal


async def test_help_is_tables_of_keys_with_this_screen_first(tui_service: ToolService, tmp_path: Path) -> None:
    tui_service.create_tool("acme", {"name": "alpha", "description": "d", "tags": {}})
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        groups = app.screen.groups()
        assert [g[0] for g in groups[:2]] == ["Tools", "Everywhere"] and groups[0][2]
        assert ("n", "New") in groups[0][1] and ("F1, ?", "Help: The keys of every screen") in groups[1][1]
        text = screen_text(app)
        assert "Tools  (this screen)" in text
        assert "enteropen" not in text.lower() and "nnew" not in text.lower()  # keys and what they do apart
        await pilot.press("escape", "enter", "f1")
        await pilot.pause()
        assert [g[0] for g in app.screen.groups()[:4]] == ["A tool", "A tool: Versions tab", "A tool: Env vars tab", "A tool: Invoke & test tab"]


async def test_rebuilding_the_index_shows_one_progress_bar_and_says_once_when_done(tui_service: ToolService, tmp_path: Path) -> None:
    generate_invocations(tui_service, "acme", 6000, seed=4)
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        seen: list[object] = []
        app.watch(app, "progress", lambda progress: seen.append(progress))
        app.rebuild_index()
        await settle(pilot)
        steps = [p for p in seen if p is not None]
        labels = [p.label for p in steps]
        rebuilding = labels.index("rebuilding the search index")  # (the background indexer may have shown its catch-up before)
        assert all(p.label == "rebuilding the search index" and p.total == 6000 for p in steps[rebuilding:])  # one bar, not two
        assert app.progress is None and not app.screen.query_one(ContextBar).has_class("-working")
        said = [n.message for n in app.notices if n.title == "Search index"]
        assert said == ["search index rebuilt: 6,000 invocations"]  # one message, not a toast per step


async def test_the_screenshot_says_where_it_went(tui_service: ToolService, tmp_path: Path) -> None:
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        missing = tmp_path / "Downloads"
        app.action_screenshot(path=str(missing))
        message = app.notices[-1].message
        assert message.startswith(f"{missing} does not exist, so saved to {tmp_path / 'config' / 'screenshots'}")
        saved = Path(message.rsplit("saved to ", 1)[1])
        assert saved.exists() and saved.suffix == ".svg"
        missing.mkdir()
        app.action_screenshot(path=str(missing))
        saved = Path(app.notices[-1].message.removeprefix("saved to "))
        assert saved.parent == missing and saved.exists()


async def test_the_tools_header_and_context_stay_visible_on_every_tab_at_80x24(tui_service: ToolService, tmp_path: Path) -> None:
    tui_service.create_tool("acme", {"name": "alpha", "description": "The alpha tool.", "tags": {"team": "core"}})
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        for tab in ("v", "e", "i"):
            await pilot.press(tab)
            await settle(pilot)
            text = "\n".join(screen_lines(app))
            assert "org acme  ›  alpha" in text and "The alpha tool. · tags team=core" in text and "runtime: processes" in text, tab
            assert "F2 Tools" in text and "F4 Search" in text, tab
            assert app.screen.query_one("#tool-title").region.y == 1, tab
