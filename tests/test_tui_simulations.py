"""The Simulations screen, pushed in a small host app over real published sample tools: driven
with a Pilot (pick, run with progress, step through turns, open in History) and snapshotted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual import on
from textual.widgets import DataTable, Input, ProgressBar, Select, Static

from conftest import Clock
from simulation_org import ORG, counting_ids, published_samples
from workbench.core.service import ToolService
from workbench.tui.app import WorkbenchApp
from workbench.tui.screens.detail import InvocationDetailScreen
from workbench.tui.screens.simulations import SimulationProgressed, SimulationsScreen
from workbench.tui.themes import builtin_theme_dir

SIZE = (150, 44)
FAILING = """
name: wrong_status
graph: support_agent.graph.yaml
turns:
  - state: check_order
    tool: order_status
    parameters: {order_id: A-1001}
    expect: {output_fields: {status: delivered}}
"""


class Host(WorkbenchApp):
    """The real app, opened on the Simulations screen (over ``directory``'s scenarios, if given),
    keeping the progress that reached it."""

    def __init__(self, service: ToolService, directory: Path | None = None) -> None:
        super().__init__(service, ORG, theme_dirs=[builtin_theme_dir()], config=service.settings.paths().home / "app-config", background_work=False)
        self.directory = directory
        self.steps: list[int] = []
        """Progress as it reached the app: turns done so far."""

    def on_mount(self) -> None:
        self.call_later(self.push_screen, SimulationsScreen(self.directory))

    @on(SimulationProgressed)
    def progressed(self, message: SimulationProgressed) -> None:
        self.steps.append(message.step.done)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> ToolService:
    return published_samples(tmp_path_factory.mktemp("tui-samples"))


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def text(widget: Static) -> str:
    return str(widget.render())


async def choose(pilot, name: str) -> None:
    screen = pilot.app.screen
    [value] = [path for _, path in screen.scenarios if path.endswith(f"{name}.scenario.yaml")]
    screen.query_one("#scenario", Select).value = value
    await pilot.pause()


async def test_pick_run_and_step_through_the_turns(samples: ToolService) -> None:
    app = Host(samples)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SimulationsScreen)
        listed = [label for label, _ in screen.scenarios]
        assert listed[-3:] == ["simulations/large_reports.scenario.yaml", "simulations/order_followup.scenario.yaml", "simulations/regular_lookup.scenario.yaml"]
        await choose(pilot, "order_followup")
        await pilot.press("ctrl+r")
        await settle(pilot)
        table = screen.query_one("#turns", DataTable)
        assert table.row_count == 6
        assert app.steps and app.steps[-1] == 6 and app.steps == sorted(app.steps)  # progress arrived while it ran
        bar = screen.query_one("#progress", ProgressBar)
        assert (bar.progress, bar.total) == (6, 6)
        assert "order_followup · passed: 6 turns met their expectations" in text(screen.query_one("#summary", Static))
        assert [str(table.get_row_at(i)[-1]) for i in range(6)] == ["✓ 3", "✓ 4", "✓ 4", "✓ 3", "✓ 3", "✓ 5"]
        # step to the slow search: the filler, the persistence decision, the log of that turn
        table.focus()
        await pilot.press("down", "down")
        await pilot.pause()
        call, result, log = (text(screen.query_one(f"#turn-{p}", Static)) for p in ("call", "result", "log"))
        assert "kb_search 1.0.0" in call and "state check_order (action) · action_tool_call_specs[1]" in call and "tool_call_round_index: 1" in call
        assert "♪ Let me search for that..." in result and "persisted-preferred → persisted" in result
        assert log.count("(kept)") == 5 and "3·user" in log and "It was supposed to arrive yesterday." in log
        await pilot.press("down", "down", "down")
        await pilot.pause()
        log = text(screen.query_one("#turn-log", Static))
        assert "not in this log" in log and "turn 4 flaky_parser" in log and "turn 5 text_stats" in log
        await pilot.press("h")
        await settle(pilot)
        turn = screen.rows[5][1]
        assert isinstance(app.screen, InvocationDetailScreen)  # the turn's invocation, in full
        opened = app.screen.invocation
        assert opened.id == turn.invocation_id and opened.tool_id == turn.tool_id
        assert opened.invocation_source.simulation_unit_test_set_run_id == screen.report.simulation_unit_test_set_run_id  # type: ignore[union-attr]


async def test_failed_expectations_stand_out(samples: ToolService, tmp_path: Path) -> None:
    directory = tmp_path / "scenarios"
    directory.mkdir()
    (directory / "support_agent.graph.yaml").write_text((samples.settings.tools_repo_path() / "simulations" / "support_agent.graph.yaml").read_text())
    (directory / "wrong.scenario.yaml").write_text(FAILING)
    app = Host(samples, directory)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.query_one("#runs", Input).value = "2"
        await pilot.click("#run")
        await settle(pilot)
        table = screen.query_one("#turns", DataTable)
        assert table.row_count == 2 and [str(table.get_row_at(i)[0]) for i in range(2)] == ["0", "1"]
        assert str(table.get_row_at(0)[-1]) == "✗ 1 failed"
        summary = screen.query_one("#summary", Static)
        assert "FAILED: 2 of 2 turns missed an expectation" in text(summary) and summary.has_class("failed")
        assert "✗ expected output field status = 'delivered'; got 'shipped'" in text(screen.query_one("#turn-result", Static))
        screen.query_one("#runs", Input).value = "0"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert any("runs: a whole number from 1 to 100" in n.message for n in app.notices)


async def test_a_scenario_that_cannot_run_is_reported_not_raised(samples: ToolService, tmp_path: Path) -> None:
    (tmp_path / "broken.scenario.yaml").write_text("name: broken\ngraph: missing.graph.yaml\nturns: [{state: a, tool: b}]\n")
    app = Host(samples, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert any("context graph file not found" in n.message for n in app.notices)


def test_simulations_screen_snapshot(snap_compare, tmp_path: Path) -> None:
    service = published_samples(tmp_path, clock=Clock(), ids=counting_ids())

    async def run_and_pick(pilot) -> None:
        await settle(pilot)
        await choose(pilot, "order_followup")
        await pilot.press("ctrl+r")
        await settle(pilot)
        screen = pilot.app.screen
        report = screen.report
        for run in report.runs:  # a stable picture: each call's time rounded to what its spec's filler decision implies
            for turn in run.turns:
                turn.duration_ms = 1_600 if turn.filler.fired else 40
                turn.filler.duration_ms = turn.duration_ms
                turn.filler.note = re.sub(r"[\d,]+ ms", f"{turn.duration_ms:,} ms", turn.filler.note)
        screen.show_report(report)
        await pilot.pause()
        screen.query_one("#turns", DataTable).move_cursor(row=2)
        for widget in screen.query(Input):
            widget.cursor_blink = False
        await pilot.pause()

    assert snap_compare(Host(service), terminal_size=SIZE, run_before=run_and_pick)
