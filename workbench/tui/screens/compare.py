"""Comparing two versions of a tool on the same inputs: the tool's most recent distinct recorded
inputs run on both at once; per input both outcomes, the verdict and the duration ratio, the
highlighted input's diff below, and a summary."""

from __future__ import annotations

import json

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Select, Static
from textual.worker import Worker

from workbench.core.insight_models import Comparison, RunOutcome
from workbench.core.insight_text import number, ratio
from workbench.core.models import ToolInstance
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.widgets.runs import changes_text, run_text, verdict_text


class VersionsListed(Message):
    def __init__(self, labels: list[str]) -> None:
        super().__init__()
        self.labels = labels


class Compared(Message):
    def __init__(self, result: Comparison) -> None:
        super().__init__()
        self.result = result


def brief(run: RunOutcome) -> Text:
    if run.succeeded:
        return Text.assemble(("ok", "green"), f" {run.duration_ms:,} ms")
    return Text.assemble((run.exception_type or "failed", "red"), f" {run.duration_ms:,} ms")


class CompareScreen(WorkbenchScreen):
    """Two versions of one tool side by side on recorded inputs."""

    BINDING_GROUP_TITLE = "Compare"
    BINDINGS = [
        Binding("ctrl+r", "compare", "Compare", id="compare.run", tooltip="Run the inputs on both versions"),
        Binding("escape", "app.pop_screen", "Back", id="compare.back"),
    ]
    DEFAULT_CSS = """
    CompareScreen .bar { height: auto; padding: 0 1; }
    CompareScreen .bar > Select { width: 1fr; min-width: 14; max-width: 24; }
    CompareScreen .bar > Input { width: 10; }
    CompareScreen .bar > Static { width: auto; padding: 1 1 0 1; }
    CompareScreen .bar > Button { width: auto; min-width: 11; }
    CompareScreen #compare-summary { height: auto; padding: 0 1; }
    CompareScreen #pairs { height: 1fr; }
    CompareScreen #pair-detail-box { height: 1fr; border: round $primary; padding: 0 1; }
    """

    def __init__(self, tool: ToolInstance, inputs_from_history: int = 10) -> None:
        super().__init__()
        self.tool = tool
        self.inputs_from_history = inputs_from_history
        self.result: Comparison | None = None

    def context_label(self) -> str:
        return f"{self.tool.name} › compare versions"

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="bar"):
            yield Select([], prompt="version A", id="version-a")
            yield Static("→")
            yield Select([], prompt="version B", id="version-b")
            yield Static("last")
            yield Input(str(self.inputs_from_history), id="history-count", type="integer", max_length=3, tooltip="How many of the most recent distinct recorded inputs (1 to 100)")
            yield Button("Compare", id="run", variant="primary", compact=True)
        yield Static("choose two versions and how many recent distinct inputs, then Compare (ctrl+r)", id="compare-summary")
        yield DataTable(id="pairs", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="pair-detail-box"):
            yield Static("", id="pair-detail")

    def on_mount(self) -> None:
        self.query_one("#pairs", DataTable).add_columns("#", "Input", "A", "B", "Verdict", "Ratio")
        self.list_versions()

    @work(thread=True, exclusive=True, group="compare-versions", exit_on_error=False, description="Reading versions")
    def list_versions(self) -> None:
        versions = self.api.list_versions(self.org, self.tool.id, {"deprecated": False}).tool_versions
        ordered = sorted(versions, key=lambda v: (v.version.major, v.version.minor, v.version.patch))
        self.post_message(VersionsListed([str(v.version) for v in ordered]))

    @on(VersionsListed)
    def offer_versions(self, message: VersionsListed) -> None:
        labels = message.labels
        for select_id, default in (("#version-a", labels[-2] if len(labels) > 1 else None), ("#version-b", labels[-1] if labels else None)):
            select = self.query_one(select_id, Select)
            select.set_options([(label, label) for label in labels])
            if default is not None:
                select.value = default
        if len(labels) < 2:
            self.query_one("#compare-summary", Static).update("the tool needs two active versions to compare")

    @on(Button.Pressed, "#run")
    def action_compare(self) -> None:
        a, b = self.query_one("#version-a", Select).value, self.query_one("#version-b", Select).value
        count = self.query_one("#history-count", Input).value.strip()
        if not isinstance(a, str) or not isinstance(b, str):
            self.query_one("#compare-summary", Static).update(Text("choose version A and version B first", style="yellow"))
            return
        if not count.isdigit() or not 1 <= int(count) <= 100:
            self.query_one("#compare-summary", Static).update(Text("the number of recorded inputs must be 1 to 100", style="yellow"))
            return
        self.query_one("#compare-summary", Static).update(f"running {count} input(s) on {a} and {b} …")
        self.compare(a, b, int(count))

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False, description="Comparing versions")
    def compare(self, version_a: str, version_b: str, count: int) -> None:
        self.post_message(Compared(self.api.compare_versions(self.org, self.tool.id, {"version_a": version_a, "version_b": version_b, "from_history": count})))

    @on(Compared)
    def show(self, message: Compared) -> None:
        result = self.result = message.result
        table = self.query_one("#pairs", DataTable)
        table.clear()
        for pair in result.inputs:
            summary = json.dumps(pair.input.get("input_parameters"), ensure_ascii=False)[:50]
            table.add_row(str(pair.index), summary, brief(pair.a), brief(pair.b), verdict_text(pair.verdict), ratio(pair.duration_ratio), key=str(pair.index))
        s = result.summary
        self.query_one("#compare-summary", Static).update(
            Text.assemble(
                (f"{result.version_a} → {result.version_b}: ", "bold"), (f"{s.same} same", "green"), " · ", (f"{s.changed} changed", "yellow"), " · ",
                (f"{s.newly_failing} newly failing", "red"), " · ", (f"{s.newly_fixed} newly fixed", "green"),
                f" · p50 {number(s.p50_a_ms)} → {number(s.p50_b_ms)} ms ({ratio(s.p50_ratio)}) · {result.wall_ms:,} ms",
            )
        )
        if result.inputs:
            table.focus()
            self.show_pair(0)

    @on(DataTable.RowHighlighted, "#pairs")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_pair(event.cursor_row)

    def show_pair(self, index: int) -> None:
        if self.result is None or not 0 <= index < len(self.result.inputs):
            return
        pair = self.result.inputs[index]
        detail = Text.assemble((f"#{pair.index} ", "bold"), verdict_text(pair.verdict), "\n")
        detail.append_text(changes_text(pair.changes))
        for label, run in ((self.result.version_a, pair.a), (self.result.version_b, pair.b)):
            detail.append(f"\n{label}: ", style="bold")
            detail.append_text(run_text(run, limit=800))
        self.query_one("#pair-detail", Static).update(detail)

    def work_failed(self, worker: Worker[object], message: str) -> None:
        """Said where the comparison was to be shown, not only in a toast."""
        if worker.group in ("compare", "compare-versions"):
            self.query_one("#compare-summary", Static).update(Text(f"the comparison failed: {message}", style="bold red"))
