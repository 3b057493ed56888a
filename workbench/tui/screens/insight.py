"""A tool's Insight tab: per version, latency and failure rate over time as sparklines, the
output-size histogram with the 5,000-character persistence threshold and the 20,000-character
limit marked, and the most frequent exceptions; choosing one asks for the matching invocations
in History (:class:`ShowInvocations`, which the app routes). It follows new invocations."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Label, OptionList, Select, Sparkline, Static
from textual.widgets.option_list import Option

from workbench.core.events import InvocationsRecorded
from workbench.core.insight_models import ToolStats, VersionStats
from workbench.core.insight_text import number, percent, size_histogram
from workbench.core.models import ToolInstance
from workbench.tui.errors import ReportsWorkerErrors
from workbench.tui.messages import FollowsWorkbench, ShowInvocations, WorkbenchChanged

WINDOWS = [("last 24 hours", "24h"), ("last 7 days", "7d"), ("last 30 days", "30d"), ("everything", "all")]


class StatsLoaded(Message):
    """A tool's statistics, read in a worker."""

    def __init__(self, stats: ToolStats, since: str) -> None:
        super().__init__()
        self.stats, self.since = stats, since


def histogram_text(version: VersionStats, stats: ToolStats) -> Text:
    """The output-size histogram in blocks, the threshold and limit columns in colour."""
    sizes = version.output_chars
    if not sizes.measured:
        return Text("output sizes: none measured (no successful invocation)", style="dim")
    drawn = size_histogram(sizes, stats.persistence_threshold, stats.output_limit, height=4)
    text = Text(
        f"output sizes: p50 {number(sizes.p50)} · p95 {number(sizes.p95)} · max {number(sizes.max)} · "
        f"{percent(sizes.share_at_or_over_threshold)} ≥ {stats.persistence_threshold:,} · {percent(sizes.share_over_limit)} > {stats.output_limit:,}\n"
    )
    for line in drawn.lines:
        row = Text(line + "\n", style="cyan")
        for column in drawn.marker_columns:
            row.stylize("bold red", column, column + 1)
        text.append_text(row)
    text.append(drawn.axis + "  characters", style="dim")
    return text


class VersionInsight(Vertical):
    """One version's pictures."""

    DEFAULT_CSS = """
    VersionInsight { height: auto; margin-bottom: 1; }
    VersionInsight .version-title { text-style: bold; }
    VersionInsight Horizontal { height: 2; }
    VersionInsight Horizontal Label { width: 16; }
    VersionInsight Sparkline { width: 1fr; height: 2; }
    VersionInsight .histogram { height: auto; }
    VersionInsight OptionList { height: auto; max-height: 7; }
    """

    def __init__(self, version: VersionStats, stats: ToolStats) -> None:
        super().__init__(classes="version-insight")
        self.version, self.stats = version, stats

    def compose(self) -> ComposeResult:
        v = self.version
        yield Static(
            f"{v.version}  {v.count:,} invocations · {percent(v.success_rate)} ok · latency p50 {number(v.latency_ms.p50)} ms, "
            f"p95 {number(v.latency_ms.p95)} ms, p99 {number(v.latency_ms.p99)} ms",
            classes="version-title",
            markup=False,
        )
        if v.series:
            top = max((p.mean_ms or 0 for p in v.series), default=0)
            with Horizontal():
                yield Label(f"latency ≤{number(top)}ms")
                yield Sparkline([p.mean_ms or 0.0 for p in v.series], summary_function=max, classes="latency")
            with Horizontal():
                yield Label("failure rate")
                yield Sparkline([p.failure_rate or 0.0 for p in v.series], summary_function=max, classes="failures")
        yield Static(histogram_text(v, self.stats), classes="histogram")
        if v.exceptions:
            yield OptionList(
                *[Option(f"{e.exception_type}  {e.count:,} ({percent(e.share)} of failures)", id=e.exception_type) for e in v.exceptions],
                classes="exceptions",
            )


class InsightPane(ReportsWorkerErrors, FollowsWorkbench, Vertical):
    """The Insight tab of a tool: every version's statistics over a chosen window."""

    BINDING_GROUP_TITLE = "Insight"
    BINDINGS = [Binding("r", "reload", "Reload", id="insight.reload")]
    DEFAULT_CSS = """
    InsightPane > Horizontal { height: auto; }
    InsightPane #window { width: 30; }
    InsightPane #insight-status { width: 1fr; padding: 1 1 0 1; color: $text-muted; }
    """

    def __init__(self, tool: ToolInstance, window: str = "7d") -> None:
        super().__init__()
        self.tool = tool
        self.window = window
        self.stats: ToolStats | None = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Select(WINDOWS, value=self.window, allow_blank=False, id="window")
            yield Static("loading …", id="insight-status")
        yield VerticalScroll(id="insight-versions")

    def on_mount(self) -> None:
        self.load()

    def action_reload(self) -> None:
        self.load()

    @on(Select.Changed, "#window")
    def window_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.window:
            self.window = event.value
            self.load()

    @work(thread=True, exclusive=True, group="insight", exit_on_error=False, description="Reading the tool's statistics")
    def load(self) -> None:
        since = self.window
        query = {"since": None if since == "all" else since, "bucket": "auto"}
        self.post_message(StatsLoaded(self.api.tool_stats(self.org, self.tool.id, query), since))

    @on(WorkbenchChanged)
    def recorded(self, message: WorkbenchChanged) -> None:
        event = message.event
        if isinstance(event, InvocationsRecorded) and event.tool_id in (None, self.tool.id) and event.org_id in (None, self.org):
            self.load()

    @on(StatsLoaded)
    async def show(self, message: StatsLoaded) -> None:
        stats = self.stats = message.stats
        versions = self.query_one("#insight-versions", VerticalScroll)
        await versions.remove_children()
        await versions.mount_all([VersionInsight(v, stats) for v in stats.versions])
        label = dict((value, name) for name, value in WINDOWS)[message.since]
        step = f", one mark per {stats.bucket}" if stats.bucket else ""
        status = f"{stats.count:,} invocations in {len(stats.versions)} version(s), {label}{step}" if stats.versions else f"no invocations, {label}"
        self.query_one("#insight-status", Static).update(status)

    @on(OptionList.OptionSelected, ".exceptions")
    def open_exception(self, event: OptionList.OptionSelected) -> None:
        """Ask for the failed invocations of this version with this exception type."""
        holder = event.option_list.parent
        if not isinstance(holder, VersionInsight) or event.option.id is None:
            return
        query: dict[str, Any] = {"tool_id": [self.tool.id], "version": [holder.version.version], "succeeded": False, "exception_type": [event.option.id]}
        if self.window != "all":
            query["created_after"] = self.window
        self.post_message(ShowInvocations(query, f"{self.tool.name} {holder.version.version}: {event.option.id}"))
