"""The TUI driven like a user drives it (App.run_test + Pilot) on a real data directory."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, OptionList, Select, Static, TextArea

from workbench.core.service import ToolService
from workbench.synthetic import generate_invocations
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.detail import InvocationDetailScreen
from workbench.tui.screens.help import HelpScreen
from workbench.tui.screens.tool import ToolScreen
from workbench.tui.themes import builtin_theme_dir
from workbench.tui.widgets.dialogs import FormDialog

SECRET = "tui-secret-VALUE-77"
SIZE = (130, 40)


def make_app(service: ToolService, tmp_path: Path, org: str = "acme", themes: list[Path] | None = None) -> WorkbenchApp:
    return WorkbenchApp(service, org, theme_dirs=themes if themes is not None else [builtin_theme_dir()], config=tmp_path / "config")


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def type_text(pilot, text: str) -> None:
    for char in text:
        await pilot.press(char if char != " " else "space")


def screen_text(app: WorkbenchApp) -> str:
    """What the screen shows, as text (from the SVG screenshot)."""
    import html

    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


def screen_lines(app: WorkbenchApp) -> list[str]:
    """The screen's text, line by line, as a person reads it (pieces of different styles joined)."""
    import html
    import re

    lines: dict[int, str] = {}
    for line, piece in re.findall(r'clip-path="url\(#terminal-\d+-line-(\d+)\)">([^<]*)</text>', app.export_screenshot()):
        lines[int(line)] = lines.get(int(line), "") + html.unescape(piece).replace("\xa0", " ")
    return [lines.get(i, "") for i in range(max(lines, default=-1) + 1)]


def rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_the_main_flow_create_secret_publish_invoke_search_deprecate(tui_service: ToolService, tmp_path: Path) -> None:
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # create a tool
        await pilot.press("n")
        await type_text(pilot, "crm_account")
        await pilot.press("tab")
        await type_text(pilot, "Account summaries")
        await pilot.press("enter")
        await settle(pilot)
        assert [r[0] for r in rows(app.screen.query_one(DataTable))] == ["crm_account"]
        # open it; add a plain variable and a secret
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ToolScreen)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("a")
        await type_text(pilot, "CRM_BASE_URL")
        await pilot.press("tab")
        await type_text(pilot, "https://crm")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("s")
        await type_text(pilot, "CRM_API_TOKEN")
        await pilot.press("tab")
        password = app.screen.query_one("#f-value", Input)
        assert password.password  # typed into a password field
        await type_text(pilot, SECRET)
        await pilot.press("enter")
        await settle(pilot)
        env_rows = rows(app.screen.query_one("#envvars", DataTable))
        assert [(r[0], r[1]) for r in env_rows] == [("CRM_API_TOKEN", "secret 🔒"), ("CRM_BASE_URL", "plain")]
        assert SECRET not in screen_text(app)
        # publish from the sample repository, stages shown live
        await pilot.press("v")
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("tab")  # branch select -> project directory
        await pilot.press("enter")
        await settle(pilot)
        assert "published crm_account 1.0.0" in str(app.screen.query_one("#outcome", Static).render())
        assert "✓ checks" in str(app.screen.query_one("#stages", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert [r[0] for r in rows(app.screen.query_one("#versions", DataTable))] == ["1.0.0"]
        # invoke in both modes
        await pilot.press("i")
        await settle(pilot)
        editor = app.screen.query_one("#editor", TextArea)
        assert '"account_id"' in editor.text  # pre-filled from the input schema
        assert "account_id: replace the placeholder with non-empty text" in str(app.screen.query_one("#problems", Static).render())
        editor.text = '[{"account_id": "c-17"}, {"account_id": "c-2"}]'
        await pilot.pause()
        assert str(app.screen.query_one("#problems", Static).render()) == ""
        await pilot.press("ctrl+r")
        await settle(pilot)
        results = [str(s.render()) for s in app.screen.query(".result")]
        assert len(results) == 3 and all("succeeded" in r for r in results[:2])  # two results, then the persistence
        assert "persisted-preferred: kept" in results[2]
        assert "Bearer ********" in results[0] and SECRET not in screen_text(app)
        app.screen.query_one("#mode", Select).value = "conversation-simulation"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert len(app.screen.query(".result")) == 3
        # find an invocation by search and open it
        await pilot.press("f4")
        await settle(pilot)
        await type_text(pilot, "gold")
        for _ in range(40):  # the background indexer makes them searchable within moments
            await pilot.press("enter")
            await settle(pilot)
            if app.screen.query_one("#hits", OptionList).option_count:
                break
        assert app.screen.query_one("#hits", OptionList).option_count == 2  # c-17 is gold, in both modes
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InvocationDetailScreen)
        assert "Customer C-17" in str(app.screen.query_one("#detail", Static).render())
        # deprecate, after a confirmation that says what happens
        await pilot.press("escape")
        await pilot.press("f2")  # back to the tools mode: the tool's screen is still open there
        await settle(pilot)
        for _ in range(3):  # escape leaves the input editor, then the tool's screen
            if not isinstance(app.screen, ToolScreen):
                break
            await pilot.press("escape")
            await settle(pilot)
        await pilot.press("d")
        await pilot.pause()
        assert "Its 1 active version (1.0.0) will be deprecated too" in app.screen.message
        await pilot.press("y")
        await settle(pilot)
        assert rows(app.screen.query_one(DataTable)) == []  # hidden: deprecated
        assert any(n.message == "deprecated crm_account and 1 version (1.0.0)" for n in app.notices)
        assert "0 of 1 tool · 1 deprecated hidden (the deprecated switch shows them)" in str(app.screen.query_one("#status", Static).render())
    assert tui_service.find_tool("acme", "crm_account").deprecated


async def test_a_refused_new_tool_keeps_the_form_open_with_what_was_typed(tui_service: ToolService, tmp_path: Path) -> None:
    tui_service.create_tool("acme", {"name": "taken", "description": "d", "tags": {}})
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await type_text(pilot, "taken")
        await pilot.press("tab")
        await type_text(pilot, "again")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, FormDialog)  # still open, nothing typed is lost
        assert app.screen.query_one("#f-description", Input).value == "again"
        name = app.screen.query_one("#f-name", Input)
        assert name.has_class("-invalid") and app.screen.focused is name
        assert "a tool named 'taken' already exists" in str(app.screen.query_one("#e-name", Static).render())
        assert any("a tool named 'taken' already exists" in n.message for n in app.notices)  # kept in the messages too
        for _ in range(5):
            await pilot.press("backspace")
        await type_text(pilot, "fresh")
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, FormDialog)
        assert sorted(r[0] for r in rows(app.screen.query_one(DataTable))) == ["fresh", "taken"]
        assert app.is_running


async def test_env_var_in_use_says_so_when_deletion_is_refused(tui_service: ToolService, tmp_path: Path) -> None:
    tool_id = tui_service.create_tool("acme", {"name": "order_status", "description": "d", "tags": {}}).id
    tui_service.modify_envvars("acme", tool_id, {"inserts": [{"name": "ORDER_REGION", "value": "eu", "is_secret": False}]})
    tui_service.publish_version("acme", tool_id, {"project_path": "order_status", "bump_type": "major"})
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter", "e")
        await settle(pilot)
        await pilot.press("x")
        await pilot.pause()
        assert "Versions 1.0.0 require it" in app.screen.message
        await pilot.press("y")
        await settle(pilot)
        assert any("ORDER_REGION is required by version(s) 1.0.0" in n.message for n in app.notices)


async def test_history_pages_and_shows_the_total(tui_service: ToolService, tmp_path: Path) -> None:
    generate_invocations(tui_service, "acme", 250, seed=2)
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        table = app.screen.query_one("#history", DataTable)
        assert table.row_count == 100
        assert str(app.screen.query_one("#status", Static).render()).startswith("100 of 250")
        await pilot.press("m")
        await settle(pilot)
        assert table.row_count == 200
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InvocationDetailScreen)


async def test_help_palette_and_themes(tui_service: ToolService, tmp_path: Path) -> None:
    bad = tmp_path / "user-themes"
    bad.mkdir()
    (bad / "broken.toml").write_text("name = 'broken'\nprimary = 42\n")
    (bad / "mine.toml").write_text("name = 'mine'\nprimary = '#ff0000'\n")
    app = make_app(tui_service, tmp_path, themes=[builtin_theme_dir(), bad])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert any("broken.toml skipped" in n.message for n in app.notices)
        assert {"workbench-dark", "workbench-light", "workbench-high-contrast", "mine"} <= set(app.available_themes)
        assert app.theme == "workbench-dark"
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "Theme: workbench-light")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "workbench-light"
    again = make_app(tui_service, tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.theme == "workbench-light"  # remembered


async def test_the_palette_offers_the_current_screens_commands(tui_service: ToolService, tmp_path: Path) -> None:
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        commands = {c.name: c.key for c in app.screen.palette_commands()}
        assert commands["New tool"] == "n" and commands["Deprecate tool"] == "d"  # shown with their keys
        await pilot.press("f3")
        await settle(pilot)
        assert {c.name: c.key for c in app.screen.palette_commands()}["Next page of history"] == "m"
