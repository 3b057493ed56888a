"""The Simulations screen, pushed in a small host app over real published sample tools: driven
with a Pilot (pick, run with progress, step through turns, open in History) and snapshotted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual import on
from textual.app import App
from textual.widgets import DataTable, Input, ProgressBar, Select, Static

from conftest import Clock
from simulation_org import ORG, counting_ids, published_samples
from workbench.core.service import ToolService
from workbench.tui.screens.simulations import ShowInvocationInHistory, SimulationProgressed, SimulationsScreen

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


class Host(App[None]):
    """What the screen needs of the workbench app: the API, the organization, notices."""

    def __init__(self, service: ToolService, directory: Path | None = None) -> None:
        super().__init__()
        self.service, self.org, self.directory = service, ORG, directory
        self.opened: list[ShowInvocationInHistory] = []
        self.steps: list[int] = []
        """Progress as it reached the app: turns done so far."""

    def on_mount(self) -> None:
        self.push_screen(SimulationsScreen(self.directory))

    @on(SimulationProgressed)
    def progressed(self, message: SimulationProgressed) -> None:
        self.steps.append(message.step.done)

    @on(ShowInvocationInHistory)
    def open_in_history(self, message: ShowInvocationInHistory) -> None:
        self.opened.append(message)


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
    select = pilot.app.screen.query_one("#scenario", Select)
    [value] = [v for _, v in select._options if isinstance(v, str) and v.endswith(f"{name}.scenario.yaml")]
    select.value = value
    await pilot.pause()


async def test_pick_run_and_step_through_the_turns(samples: ToolService) -> None:
    app = Host(samples)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SimulationsScreen)
        listed = [label for label, _ in screen.query_one("#scenario", Select)._options if label]
        assert [str(label) for label in listed[-3:]] == ["simulations/large_reports.scenario.yaml", "simulations/order_followup.scenario.yaml", "simulations/regular_lookup.scenario.yaml"]
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
        await pilot.pause()
        [opened] = app.opened
        turn = screen.rows[5][1]
        assert opened.invocation_id == turn.invocation_id and opened.simulation_unit_test_set_run_id == screen.report.simulation_unit_test_set_run_id  # type: ignore[union-attr]
        assert samples.get_invocation(ORG, opened.invocation_id).tool_id == turn.tool_id


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
        assert any("runs: a whole number from 1 to 100" in str(n.message) for n in app._notifications)


async def test_a_scenario_that_cannot_run_is_reported_not_raised(samples: ToolService, tmp_path: Path) -> None:
    (tmp_path / "broken.scenario.yaml").write_text("name: broken\ngraph: missing.graph.yaml\nturns: [{state: a, tool: b}]\n")
    app = Host(samples, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert any("context graph file not found" in str(n.message) for n in app._notifications)


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
