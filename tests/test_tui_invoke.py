"""The input editor and the results: an input to start from that says what is expected, the draft
kept per tool, select-all and reset, a summary of parallel runs with each result's input and one
persistence note, and branch tests that say which branch and commit ran."""

from __future__ import annotations

from pathlib import Path

import git
from test_tui import SIZE, make_app, settle
from textual.widgets import Select, Static, TextArea

from workbench.core.service import ToolService
from workbench.tui.screens.invoke import InvokePane
from workbench.tui.widgets.json_editor import example_input, placeholders_left


def published(service: ToolService, name: str, env: dict[str, str] | None = None) -> str:
    tool_id = service.create_tool("acme", {"name": name, "description": f"the {name} tool", "tags": {}}).id
    if env:
        service.modify_envvars("acme", tool_id, {"inserts": [{"name": k, "value": v, "is_secret": False} for k, v in env.items()]})
    service.publish_version("acme", tool_id, {"project_path": name, "bump_type": "major"})
    return tool_id


async def open_invoke_tab(pilot) -> None:
    """From the tools list: the first tool's invoke tab, loaded."""
    await settle(pilot)
    await pilot.press("enter", "i")
    await settle(pilot)


def results(app) -> list[str]:
    return [str(s.render()) for s in app.screen.query(".result")]


def test_the_first_input_comes_from_examples_and_defaults_and_placeholders_say_what_is_expected() -> None:
    report = {"type": "object", "properties": {"characters": {"type": "integer", "minimum": 1, "maximum": 100000}, "title": {"type": "string", "default": "Report"}}, "required": ["characters"]}
    assert example_input(report) == ({"characters": 1, "title": "Report"}, [])  # the minimum, not 0
    order = {"type": "object", "properties": {"order_id": {"type": "string", "pattern": "^[A-Z]-\\d{4}$", "description": "Order number, e.g. A-1001."}}, "required": ["order_id"]}
    assert example_input(order) == ({"order_id": "A-1001"}, [])  # the example in its description fits the pattern
    strict = {"type": "object", "properties": {"code": {"type": "string", "pattern": "^[A-Z]{3}$"}, "note": {"type": "string"}}, "required": ["code"]}
    started, optional = example_input(strict)
    assert started == {"code": "<code: text matching ^[A-Z]{3}$>"} and optional == ["note (text)"]
    assert placeholders_left([started]) == ["input 0: code: replace the placeholder with text matching ^[A-Z]{3}$"]
    assert example_input({"examples": [{"city": "Oslo"}], "properties": {"city": {"type": "string"}}}) == ({"city": "Oslo"}, [])


async def test_the_editor_keeps_a_draft_per_tool_selects_all_and_resets_to_the_example(tui_service: ToolService, tmp_path: Path) -> None:
    published(tui_service, "order_status", {"ORDER_REGION": "eu"})
    published(tui_service, "report_generator")
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter", "i")  # order_status (the first row)
        await settle(pilot)
        editor = app.screen.query_one("#editor", TextArea)
        assert editor.text == '{\n  "order_id": "A-1001"\n}'
        assert str(app.screen.query_one("#problems", Static).render()) == ""  # valid as it starts
        editor.text = '{"order_id": "B-2002"}'
        await pilot.press("escape", "escape")  # out of the editor, back to the tools
        await pilot.press("down", "enter", "i")  # report_generator
        await settle(pilot)
        assert app.screen.query_one("#editor", TextArea).text == '{\n  "characters": 1,\n  "title": "Report"\n}'
        await pilot.press("escape", "escape", "up", "enter", "i")  # order_status again: its draft
        await settle(pilot)
        editor = app.screen.query_one("#editor", TextArea)
        assert editor.text == '{"order_id": "B-2002"}'
        editor.focus()
        await pilot.press("ctrl+a")
        assert editor.selected_text == editor.text
        await pilot.press("ctrl+t")
        assert editor.text == '{\n  "order_id": "A-1001"\n}'


async def test_parallel_runs_have_a_summary_each_result_its_input_and_one_persistence_note(tui_service: ToolService, tmp_path: Path) -> None:
    published(tui_service, "order_status", {"ORDER_REGION": "eu"})
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_invoke_tab(pilot)
        app.screen.query_one("#editor", TextArea).text = '[{"order_id": "A-1001"}, {"order_id": "B-2002"}, {"order_id": "C-3003"}]'
        await pilot.press("ctrl+r")
        await settle(pilot)
        summary = str(app.screen.query_one("#results-summary", Static).render())
        assert summary.startswith("3/3 succeeded · ") and " ms in all · version 1.0.0 (commit " in summary
        shown = results(app)
        assert len(shown) == 4
        for index, order in enumerate(("A-1001", "B-2002", "C-3003")):
            assert shown[index].startswith(f"#{index} succeeded") and f'input {{"order_id": "{order}"}}' in shown[index]
            assert "result_persistence" not in shown[index]
        assert shown[3].startswith("result_persistence (every result)") and "persisted-preferred: kept in future interaction logs" in shown[3]


async def test_a_branch_test_says_which_branch_and_commit_ran_and_new_branches_appear(tui_service: ToolService, tmp_path: Path, repo_path: Path) -> None:
    published(tui_service, "order_status", {"ORDER_REGION": "eu"})
    app = make_app(tui_service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_invoke_tab(pilot)
        repo = git.Repo(repo_path)
        tip = repo.create_head("feature", repo.heads.main.commit).commit.hexsha  # someone pushes a branch
        pane = app.screen.query_one(InvokePane)
        pane.poll_branches()  # what the pane's timer does every few seconds
        await settle(pilot)
        target = app.screen.query_one("#target", Select)
        target.value = "branch:feature"
        await settle(pilot)
        app.screen.query_one("#editor", TextArea).text = '{"order_id": "A-1001"}'
        await pilot.press("ctrl+r")
        await settle(pilot)
        summary = str(app.screen.query_one("#results-summary", Static).render())
        assert summary.startswith("1/1 succeeded") and summary.endswith(f"branch feature at {tip[:10]}")
