"""The app's insight widgets and screens in the real app over a real data directory (the lead
wires them into the tool screen, the Tools list and History; here a small screen holds the
Insight tab, and the replay and compare screens are pushed as a key would)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, OptionList, Select, Sparkline, Static

from workbench.core.models import ToolInstance
from workbench.core.service import ToolService
from workbench.synthetic import generate_invocations
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.screens.compare import CompareScreen
from workbench.tui.screens.invocations import InvocationsScreen
from workbench.tui.screens.insight import InsightPane, ShowInvocations, VersionInsight
from workbench.tui.screens.replay import ReplayScreen
from workbench.tui.widgets.activity import activity_cell
from test_insight_reruns import publish_numbers
from test_insight_stats import record
from test_tui import make_app

ORG = "acme"
SIZE = (140, 48)


class InsightHost(WorkbenchScreen):
    """A screen with the Insight tab, keeping what it asks History for (the lead's routing)."""

    def __init__(self, tool: ToolInstance, window: str = "7d") -> None:
        super().__init__()
        self.tool, self.window = tool, window
        self.asked: list[ShowInvocations] = []

    def compose_body(self) -> ComposeResult:
        yield InsightPane(self.tool, self.window)

    @on(ShowInvocations)
    def route(self, message: ShowInvocations) -> None:
        self.asked.append(message)


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def text(widget: Static) -> str:
    return str(widget.render())


async def opened(pilot, screen) -> None:
    await settle(pilot)  # the first screen is up
    await pilot.app.push_screen(screen)
    await settle(pilot)


@pytest.fixture
def history(service: ToolService, clock) -> dict[str, str]:
    return generate_invocations(service, ORG, 800, seed=3, days=10, end=clock.now)


async def test_the_insight_tab_draws_every_version_and_opens_an_exception_in_history(service: ToolService, history, clock, tmp_path: Path) -> None:
    tool = service.get_tool(ORG, history["flaky_parser"])
    app, host = make_app(service, tmp_path), InsightHost(tool)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, host)
        pane = host.query_one(InsightPane)
        stats = service.tool_stats(ORG, tool.id, {"since": "7d"})
        sections = list(pane.query(VersionInsight))
        assert [s.version.version for s in sections] == [v.version for v in stats.versions] and len(sections) == 4
        first = sections[0]
        lines = list(first.query(Sparkline))
        assert len(lines) == 2 and list(lines[0].data or []) == [p.mean_ms or 0.0 for p in first.version.series]
        histogram = text(first.query_one(".histogram", Static))
        assert "┆" in histogram and "5k" in histogram and "20k" in histogram and "p95" in histogram
        assert f"{stats.count:,} invocations in 4 version(s), last 7 days, one mark per day" in text(pane.query_one("#insight-status", Static))
        # choosing an exception asks History for exactly those invocations
        exceptions = first.query_one(OptionList)
        exceptions.focus()
        exceptions.highlighted = 0
        await pilot.press("enter")
        await settle(pilot)
        [asked] = host.asked
        kind = first.version.exceptions[0].exception_type
        assert asked.query["exception_type"] == [kind] and asked.query["version"] == [first.version.version] and kind in asked.title
        listed = service.list_invocations(ORG, asked.query).tool_invocations
        assert len(listed) == min(100, first.version.exceptions[0].count)
        assert {i.invocation_status.exception_type for i in listed} == {kind}
        # ... and the app shows them there: History, filtered, saying by what
        assert isinstance(app.screen, InvocationsScreen)
        await settle(pilot)
        history_rows = app.screen.query_one("#history", DataTable)
        assert history_rows.row_count == len(listed) and kind in text(app.screen.query_one("#status", Static))
        await pilot.press("f2")  # back to the tool's Insight tab
        await settle(pilot)
        # a shorter window: hourly steps
        pane.query_one("#window", Select).value = "24h"
        await settle(pilot)
        assert "last 24 hours, one mark per hour" in text(pane.query_one("#insight-status", Static))
        # new invocations show up without a reload
        before = pane.stats.count if pane.stats else 0
        service.import_invocations([record(tool.id, clock.now - timedelta(minutes=m), version=(2, 0, 0), output="ok") for m in range(1, 4)])
        await settle(pilot)
        assert pane.stats is not None and pane.stats.count == before + 3


async def test_an_empty_window_says_so(service: ToolService, make_tool, tmp_path: Path) -> None:
    tool = service.get_tool(ORG, make_tool("quiet"))
    app, host = make_app(service, tmp_path), InsightHost(tool, window="24h")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, host)
        assert text(host.query_one("#insight-status", Static)) == "no invocations, last 24 hours"
        assert not list(host.query(VersionInsight))


def test_the_tools_list_activity_cell(service: ToolService, history, make_tool) -> None:
    make_tool("quiet")
    activity = {a.tool_name: a for a in service.tool_activity(ORG, 14)}
    busy = activity_cell(activity["order_status"]).plain
    assert len(busy.split("  ")[0]) == 14 and set(busy.split("  ")[0]) <= set("▁▂▃▄▅▆▇█")
    assert f"{activity['order_status'].total:,} · " in busy and busy.endswith("% failed")
    assert activity_cell(activity["quiet"]).plain == "no calls in 14 d"
    assert activity_cell(None).plain == "-"


@pytest.fixture
def two_versions(service: ToolService, tools_repo, make_tool) -> dict[str, str]:
    tool_id = publish_numbers(service, tools_repo, make_tool)
    by_n = {str(i.inputs["input_parameters"]["n"]): i.id for i in service.list_invocations(ORG).tool_invocations}
    return {"tool": tool_id, **by_n}


async def test_replay_shows_the_original_beside_the_replay(service: ToolService, two_versions, tmp_path: Path) -> None:
    app = make_app(service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, ReplayScreen(two_versions["6"], "2.0.0"))
        screen = app.screen
        assert "verdict: changed" in text(screen.query_one("#replay-status", Static))
        assert '"double": 12' in text(screen.query_one("#original", Static)) and '"double": 13' in text(screen.query_one("#replayed", Static))
        assert "~ $.double: 12 -> 13" in text(screen.query_one("#replay-diff", Static))
        recorded = service.count_invocations(ORG)
        await pilot.press("r")  # again: one more recorded replay
        await settle(pilot)
        assert service.count_invocations(ORG) == recorded + 1
    missing = make_app(service, tmp_path)
    async with missing.run_test(size=SIZE) as pilot:
        await opened(pilot, ReplayScreen("0" * 24))
        assert "the replay failed: invocation 000000000000000000000000 does not exist" in text(missing.screen.query_one("#replay-status", Static))


async def test_compare_runs_both_versions_and_shows_each_inputs_diff(service: ToolService, two_versions, tmp_path: Path) -> None:
    tool = service.get_tool(ORG, two_versions["tool"])
    app = make_app(service, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot, CompareScreen(tool))
        screen = app.screen
        assert (screen.query_one("#version-a", Select).value, screen.query_one("#version-b", Select).value) == ("1.0.0", "2.0.0")
        await pilot.press("ctrl+r")
        await settle(pilot)
        summary = text(screen.query_one("#compare-summary", Static))
        assert "1.0.0 → 2.0.0: 2 same · 1 changed · 1 newly failing · 1 newly fixed" in summary
        table = screen.query_one("#pairs", DataTable)
        verdicts = [str(table.get_row_at(i)[4]) for i in range(table.row_count)]
        assert sorted(verdicts) == ["changed", "newly failing", "newly fixed", "same", "same"]
        changed = verdicts.index("changed")
        table.move_cursor(row=changed)
        await settle(pilot)
        assert "~ $.double: 12 -> 13" in text(screen.query_one("#pair-detail", Static))
        screen.query_one("#history-count").value = "0"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "must be 1 to 100" in text(screen.query_one("#compare-summary", Static))
