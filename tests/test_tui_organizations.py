"""The right organization: --org in any position, the app opening the organization used last (or
the only one with tools), and switching organization in the app."""

from __future__ import annotations

import json
from pathlib import Path

from test_tui import SIZE, rows, settle, type_text
from textual.widgets import DataTable, Input, Static

from workbench.core.service import ToolService
from workbench.synthetic import generate_invocations
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.organizations import OrganizationDialog
from workbench.tui.screens.tool import ToolScreen
from workbench.tui.themes import builtin_theme_dir
from workbench.tui.widgets.context_bar import ContextBar
from workbench.tui.widgets.tables import TableView


def open_app(service: ToolService, tmp_path: Path, org: str | None) -> WorkbenchApp:
    return WorkbenchApp(service, org, theme_dirs=[builtin_theme_dir()], config=tmp_path / "config")


def context_line(app: WorkbenchApp) -> str:
    bar = app.screen.query_one(ContextBar)
    return " ".join(str(label.render()) for label in bar.query("Static, Label"))


def tool_names(app: WorkbenchApp) -> list[str]:
    return sorted(r[0] for r in rows(app.screen.query_one("#tools", DataTable)))


def test_org_works_before_the_command_after_it_and_between_group_and_subcommand(run_cli) -> None:
    assert run_cli("--org", "demo", "tool", "create", "first", "--description", "d")[0] == 0
    assert run_cli("tool", "--org", "demo", "create", "second", "--description", "d")[0] == 0
    assert run_cli("tool", "create", "third", "--description", "d", "--org", "demo")[0] == 0
    for args in (("--org", "demo", "tool", "list", "--json"), ("tool", "--org", "demo", "list", "--json"), ("tool", "list", "--json", "--org", "demo")):
        code, out, err = run_cli(*args)
        assert code == 0, err
        assert sorted(t["name"] for t in json.loads(out)["tools"]) == ["first", "second", "third"], args
    code, out, _ = run_cli("tool", "list", "--json")
    assert json.loads(out)["tools"] == []  # 'default' has none
    code, out, _ = run_cli("--org", "demo", "history", "--json")
    assert code == 0 and json.loads(out)["tool_invocations"] == []
    code, out, _ = run_cli("--org", "elsewhere", "tool", "list", "--org", "demo", "--json")
    assert len(json.loads(out)["tools"]) == 3  # the option nearest the command wins


async def test_the_app_opens_the_only_organization_that_has_tools(service: ToolService, tmp_path: Path) -> None:
    service.create_tool("demo", {"name": "order_status", "description": "d", "tags": {}})
    app = open_app(service, tmp_path, None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.org == "demo"
        assert tool_names(app) == ["order_status"]
        assert "org demo" in context_line(app)


async def test_an_empty_organization_says_where_the_tools_are_and_the_switch_is_remembered(service: ToolService, tmp_path: Path) -> None:
    for org, name in (("one", "alpha"), ("two", "beta")):
        service.create_tool(org, {"name": name, "description": "d", "tags": {}})
    app = open_app(service, tmp_path, None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.org == "default"  # two organizations have tools: none is guessed
        hint = app.screen.query_one(TableView).hint
        assert "No tools in organization 'default' yet" in hint and "'one', 'two'" in hint and "ctrl+o" in hint
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, OrganizationDialog)
        listed = [app.screen.query_one("#organizations").get_option_at_index(i).id for i in range(3)]
        assert listed == ["default", "one", "two"]
        await type_text(pilot, "tw")
        await pilot.press("enter")
        await settle(pilot)
        assert app.org == "two" and tool_names(app) == ["beta"]
        assert "org two" in context_line(app)
    again = open_app(service, tmp_path, None)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.org == "two" and tool_names(again) == ["beta"]  # remembered for this data directory
    asked = open_app(service, tmp_path, "one")
    async with asked.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert asked.org == "one" and tool_names(asked) == ["alpha"]  # --org wins over the memory


async def test_switching_organization_shows_its_history_and_closes_the_other_orgs_tool(service: ToolService, tmp_path: Path) -> None:
    generate_invocations(service, "one", 30, seed=1)
    generate_invocations(service, "two", 12, seed=2)
    app = open_app(service, tmp_path, "one")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert str(app.screen.query_one("#status", Static).render()).startswith("30 of 30")
        await pilot.press("f2", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ToolScreen)
        await pilot.press("ctrl+p")
        await type_text(pilot, "Switch organization")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OrganizationDialog)
        await type_text(pilot, "two")
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ToolScreen)  # the other organization's tool is closed
        assert len(tool_names(app)) == len({t.name for t in service.list_all_tools("two")})
        await pilot.press("f3")
        await settle(pilot)
        assert str(app.screen.query_one("#status", Static).render()).startswith("12 of 12")
        assert set(app.screen.names) == {t.id for t in service.list_all_tools("two")}  # the tool filter offers two's tools


async def test_a_name_that_is_no_organization_is_refused_in_the_switcher(service: ToolService, tmp_path: Path) -> None:
    app = open_app(service, tmp_path, "acme")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        await type_text(pilot, "not an org!")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OrganizationDialog) and app.org == "acme"
        assert "is not an organization name" in str(app.screen.query_one("#form-error", Static).render())
        assert app.screen.query_one(Input).value == "not an org!"
