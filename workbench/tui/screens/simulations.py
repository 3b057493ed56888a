"""Simulations: pick a scenario from the tools repository, run it in the background with
progress, then step through its turns and see, side by side, the tool call, its result and the
agent's interaction log at that turn. Failed expectations stand out; any turn's invocation opens
in History (the screen posts :class:`ShowInvocationInHistory` for the app to route)."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, DataTable, Input, ProgressBar, Select, Static
from textual.worker import Worker

from workbench.core.simulation.report import SimulationReport, SimulationStep, TurnReport
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.widgets.simulation_turn import TurnView
from workbench.tui.messages import ShowInvocationInHistory as ShowInvocationInHistory

COLUMNS = ("Run", "Turn", "State", "Tool", "Version", "ms", "Call", "Persistence", "Filler", "Expectations")


class ScenariosFound(Message):
    """The scenario files under the screen's directory."""

    def __init__(self, paths: list[Path]) -> None:
        super().__init__()
        self.paths = paths


class SimulationProgressed(Message):
    """A turn finished; a newer one replaces an older one still queued."""

    def __init__(self, step: SimulationStep) -> None:
        super().__init__()
        self.step = step

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SimulationProgressed)


class SimulationFinished(Message):
    def __init__(self, report: SimulationReport) -> None:
        super().__init__()
        self.report = report


def _row(run_index: int, turn: TurnReport) -> list[object]:
    failed = [e for e in turn.expectations if not e.passed]
    verdict = Text(f"✗ {len(failed)} failed", style="bold red") if failed else Text(f"✓ {len(turn.expectations)}", style="green")
    call = Text("ok", style="green") if turn.succeeded else Text(turn.error_type or "failed", style="red")
    outcome = turn.persistence.outcome
    persistence = Text(f"{turn.persistence.mode} → {outcome}", style={"persistence-error": "red", "treated-as-ephemeral": "yellow"}.get(outcome, ""))
    filler = Text(f"♪ {turn.filler.triggered_after_s:g} s", style="yellow") if turn.filler.fired else Text("")
    return [str(run_index), str(turn.index), turn.state, turn.tool_name, turn.version, f"{turn.duration_ms:,}", call, persistence, filler, verdict]


class SimulationsScreen(WorkbenchScreen):
    """Run scenarios and walk through their turns."""

    BINDING_GROUP_TITLE = "Simulations"
    BINDINGS = [
        Binding("ctrl+r", "run", "Run", id="simulations.run", tooltip="Run the chosen scenario (in the background)"),
        Binding("h", "open_in_history", "In History", id="simulations.history", tooltip="Open the highlighted turn's invocation in History"),
        Binding("s", "rescan", "Rescan", id="simulations.rescan", tooltip="Look for scenario files again"),
    ]
    DEFAULT_CSS = """
    SimulationsScreen > .bar { height: 1; padding: 0 1; }
    SimulationsScreen #scenario { width: 1fr; }
    SimulationsScreen #scenario SelectCurrent Static#label { text-wrap: nowrap; text-overflow: ellipsis; }
    SimulationsScreen #runs { width: 12; }
    SimulationsScreen #progress-row { height: 1; padding: 0 1; }
    SimulationsScreen #progress-row > ProgressBar { width: 40; }
    SimulationsScreen #turns { height: 10; }
    SimulationsScreen.-narrow #turns { height: 7; }
    SimulationsScreen #summary.failed { color: $error; text-style: bold; }
    SimulationsScreen #summary.passed { color: $success; }
    """

    def __init__(self, directory: Path | None = None) -> None:
        """``directory`` is searched for ``*.scenario.yaml`` files (default: the tools repository)."""
        super().__init__()
        self.directory = directory
        self.report: SimulationReport | None = None
        self.rows: list[tuple[int, TurnReport]] = []
        self.scenarios: list[tuple[str, str]] = []
        """The scenario files offered: (label, path)."""

    def context_label(self) -> str:
        return "simulations"

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="bar"):
            yield Select([], prompt="scenario", id="scenario", compact=True)
            yield Input("1", type="integer", id="runs", tooltip="Runs", compact=True)
            yield Button("Run ^r", id="run", variant="primary", compact=True)
        with Horizontal(id="progress-row"):
            yield ProgressBar(total=None, show_eta=False, id="progress")
            yield Static("", id="summary")
        yield DataTable(id="turns", cursor_type="row", zebra_stripes=True)
        yield TurnView(id="turn")

    def work_failed(self, worker: Worker[object], message: str) -> None:
        """A run or a scan that failed says so where its progress was shown."""
        summary = self.query_one("#summary", Static)
        summary.set_classes("failed")
        summary.update(f"{worker.description or 'the work'} failed: {message}")

    def work_cancelled(self, worker: Worker[object]) -> None:
        self.query_one("#summary", Static).update(f"{worker.description or 'the work'} was cancelled")

    def organization_changed(self) -> None:
        self.rows, self.report = [], None
        self.query_one(DataTable).clear()
        self.query_one(TurnView).show(None)
        self.query_one("#summary", Static).update(f"organization {self.org}: run a scenario")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*COLUMNS)
        self.query_one(TurnView).show(None)
        self.action_rescan()

    def scenario_directory(self) -> Path:
        return self.directory or self.api.settings.tools_repo_path()

    def action_rescan(self) -> None:
        self.find_scenarios(self.scenario_directory())

    @work(thread=True, exclusive=True, group="scenarios", exit_on_error=False, description="Looking for scenarios")
    def find_scenarios(self, directory: Path) -> None:
        self.post_message(ScenariosFound(self.api.find_scenario_files(directory)))

    @on(ScenariosFound)
    def show_scenarios(self, message: ScenariosFound) -> None:
        root = self.scenario_directory()
        options = self.scenarios = [(str(p.relative_to(root)) if p.is_relative_to(root) else str(p), str(p)) for p in message.paths]
        select = self.query_one("#scenario", Select)
        select.set_options(options)
        if options:
            select.value = options[0][1]
        else:
            self.query_one("#summary", Static).update(f"no *.scenario.yaml files under {root}")

    @on(Button.Pressed, "#run")
    def action_run(self) -> None:
        chosen = self.query_one("#scenario", Select).value
        runs_text = self.query_one("#runs", Input).value or "1"
        if not isinstance(chosen, str):
            self.app.notify("choose a scenario first", severity="warning")
            return
        if not runs_text.isdigit() or not 1 <= int(runs_text) <= 100:
            self.app.notify("runs: a whole number from 1 to 100", severity="warning")
            return
        self.query_one("#progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#summary", Static).update("running …")
        self.simulate(Path(chosen), int(runs_text))

    @work(thread=True, exclusive=True, group="simulate", exit_on_error=False, description="Running the scenario")
    def simulate(self, path: Path, runs: int) -> None:
        api, org = self.api, self.org
        request = api.read_scenario_file(path, runs)

        def progressed(step: SimulationStep) -> None:
            self.post_message(SimulationProgressed(step))

        self.post_message(SimulationFinished(api.simulate(org, request, on_progress=progressed)))

    @on(SimulationProgressed)
    def show_progress(self, message: SimulationProgressed) -> None:
        step = message.step
        self.query_one("#progress", ProgressBar).update(total=step.total, progress=step.done)
        self.query_one("#summary", Static).update(f"run {step.run + 1} of {step.runs} · {step.label}")

    @on(SimulationFinished)
    def finished(self, message: SimulationFinished) -> None:
        self.show_report(message.report)

    def show_report(self, report: SimulationReport) -> None:
        """Fill the turns table from a report; the first failed turn (else the first) is shown."""
        self.report = report
        self.rows = [(run.run_index, turn) for run in report.runs for turn in run.turns]
        table = self.query_one(DataTable)
        table.clear()
        for run_index, turn in self.rows:
            table.add_row(*_row(run_index, turn))
        failed = sum(1 for _, turn in self.rows if not turn.passed)
        summary = self.query_one("#summary", Static)
        summary.set_classes("failed" if failed else "passed")
        verdict = f"FAILED: {failed} of {len(self.rows)} turns missed an expectation" if failed else f"passed: {len(self.rows)} turns met their expectations"
        summary.update(f"{report.scenario} · {verdict} · {len(report.runs)} run(s)")
        self.query_one("#progress", ProgressBar).update(total=max(1, len(self.rows)), progress=len(self.rows))
        first = next((i for i, (_, turn) in enumerate(self.rows) if not turn.passed), 0)
        if self.rows:
            table.move_cursor(row=first)
            self.query_one(TurnView).show(self.rows[first][1])
        table.focus()

    @on(DataTable.RowHighlighted, "#turns")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.rows):
            self.query_one(TurnView).show(self.rows[event.cursor_row][1])

    def highlighted_turn(self) -> TurnReport | None:
        row = self.query_one(DataTable).cursor_row
        return self.rows[row][1] if 0 <= row < len(self.rows) else None

    def action_open_in_history(self) -> None:
        turn = self.highlighted_turn()
        if turn is None or not turn.invocation_id or self.report is None:
            self.app.notify("no invocation to open: run a scenario and pick a turn", severity="warning")
            return
        conversation = getattr(turn.source, "conversation_id", None)
        self.post_message(ShowInvocationInHistory(turn.invocation_id, self.report.simulation_unit_test_set_run_id, conversation))
