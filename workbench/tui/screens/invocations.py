"""Invocation history: filters, a page at a time ("100 of 84,213"), more on demand, details; it
follows new invocations as they are recorded, here or by another process."""

from __future__ import annotations

from typing import Any

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Select, Static
from textual.worker import Worker

from workbench.core.events import InvocationsRecorded
from workbench.core.models import ToolInvocationInstance
from workbench.tui.commands import PaletteCommand
from workbench.tui.messages import FollowsWorkbench, WorkbenchChanged
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.screens.detail import InvocationDetailScreen
from workbench.tui.sizes import WIDE
from workbench.tui.sources import source_label, source_types
from workbench.tui.widgets.tables import TableView
from workbench.tui.widgets.tool_names import ToolNames

PAGE = 100


class HistoryPage(Message):
    """A page of history read in a worker; ``fresh`` replaces what is shown."""

    def __init__(self, invocations: list[ToolInvocationInstance], token: int | None, total: int, fresh: bool) -> None:
        super().__init__()
        self.invocations, self.token, self.total, self.fresh = invocations, token, total, fresh


class HistoryCount(Message):
    """How many invocations match the filters now."""

    def __init__(self, total: int) -> None:
        super().__init__()
        self.total = total


def summary(inv: ToolInvocationInstance) -> str:
    status = inv.invocation_status
    text = status.output if status.succeeded else f"{status.exception_type}: {status.exception_message}"
    return " ".join(text.split())[:120]


class InvocationsScreen(FollowsWorkbench, ToolNames, WorkbenchScreen):
    """The history, newest first; it never loads more than the pages asked for."""

    BINDING_GROUP_TITLE = "History"
    BINDINGS = [
        Binding("enter", "open", "Details", id="history.open"),
        Binding("m", "more", "More", id="history.more", tooltip="Fetch the next 100"),
        Binding("r", "replay", "Re-run", id="history.replay", tooltip="Run the highlighted invocation's inputs again and compare"),
        Binding("ctrl+l", "reload", "Reload", show=False, id="history.reload"),
        Binding("escape", "clear_extra", "Clear filter", show=False, id="history.clear_extra"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.extra: dict[str, Any] = {}
        """Filters another screen asked for (Insight: an exception type over a window)."""
        self.extra_title = ""
        self.rows: list[ToolInvocationInstance] = []
        self.token: int | None = 0
        self.total = 0
        self.loaded = False
        self.names: dict[str, str] = {}
        self.wide: bool | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="bar"):
            yield Select([], prompt="any tool", id="tool", compact=True)
            yield Select([("succeeded", True), ("failed", False)], prompt="any outcome", id="succeeded", compact=True)
            yield Select([(t, t) for t in source_types()], prompt="any source", id="source", compact=True)
        yield TableView("history")
        yield Static("", classes="status", id="status")

    def on_mount(self) -> None:
        self.query_one("#history").focus()
        self.load_tools()
        self.reload()

    def on_resize(self, event: events.Resize) -> None:
        if (event.size.width >= WIDE) != self.wide:
            self.show_rows(self.rows, fresh=True)

    def names_loaded(self) -> None:
        if self.rows:
            self.show_rows(self.rows, fresh=True)

    def organization_changed(self) -> None:
        for select in self.query(Select):
            select.clear()
        self.load_tools()
        self.reload()

    def filters(self) -> dict[str, Any]:
        """The chosen filters, as the API takes them."""
        tool = self.query_one("#tool", Select).value
        succeeded = self.query_one("#succeeded", Select).value
        source = self.query_one("#source", Select).value
        query: dict[str, Any] = {}
        if isinstance(tool, str):
            query |= {"tool_id": [tool], "version": ["*"]}
        if isinstance(succeeded, bool):
            query["succeeded"] = succeeded
        if isinstance(source, str):
            query["invocation_source_type"] = [source]
        return query | self.extra

    def show_query(self, query: dict[str, Any], title: str) -> None:
        """Show what another screen asked for (an exception type, a window): the selects reset,
        the query applies until esc clears it."""
        self.extra, self.extra_title = dict(query), title
        if not self.is_mounted:
            return  # its first load applies it
        for select in self.query(Select):
            select.clear()
        self.reload()

    def action_clear_extra(self) -> None:
        if self.extra:
            self.extra, self.extra_title = {}, ""
            self.reload()

    def action_replay(self) -> None:
        from workbench.tui.screens.replay import ReplayScreen

        table = self.query_one(TableView).table
        if not table.row_count:
            self.app.notify("nothing to re-run: the list is empty", severity="warning", timeout=4)
            return
        self.app.push_screen(ReplayScreen(self.rows[table.cursor_row].id))

    @on(Select.Changed)
    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.fetch(self.filters(), 0, count=True)

    def action_more(self) -> None:
        if self.token is not None:
            self.fetch(self.filters(), self.token, count=False)
        elif self.loaded:
            self.app.notify(f"That is all: {self.total:,} invocations match.", timeout=3)

    @on(WorkbenchChanged)
    def recorded(self, message: WorkbenchChanged) -> None:
        """New invocations: at the top of the list, show them; further down, keep the place
        and update the count."""
        event = message.event
        if not isinstance(event, InvocationsRecorded) or event.org_id not in (None, self.org):
            return
        table = self.query_one(TableView).table
        if len(self.rows) <= PAGE and table.cursor_row <= 0:
            self.reload()
        else:
            self.recount(self.filters())

    @work(thread=True, exclusive=True, group="history", exit_on_error=False, description="Loading history")
    def fetch(self, query: dict[str, Any], token: int, count: bool) -> None:
        page = self.api.list_invocations(self.org, {**query, "limit": PAGE, "continuation_token": token})
        total = self.api.count_invocations(self.org, query) if count else self.total
        self.post_message(HistoryPage(page.tool_invocations, page.continuation_token, total, fresh=token == 0))

    @work(thread=True, exclusive=True, group="history-count", exit_on_error=False, description="Counting history")
    def recount(self, query: dict[str, Any]) -> None:
        self.post_message(HistoryCount(self.api.count_invocations(self.org, query)))

    @on(HistoryPage)
    def show_page(self, message: HistoryPage) -> None:
        self.token, self.total, self.loaded = message.token, message.total, True
        self.show_rows(message.invocations, message.fresh)
        self.show_status()

    def show_rows(self, invocations: list[ToolInvocationInstance], fresh: bool) -> None:
        view = self.query_one(TableView)
        table = view.table
        wide = self.size.width >= WIDE
        if fresh:
            self.rows = []
            table.clear(columns=self.wide != wide)
        if not table.columns:
            if wide:
                table.add_columns("Created (UTC)", "Tool", "Version", "Source", "OK", "ms", "Output / error")
            else:
                table.add_columns("Created (UTC)", "Tool", "Version", "OK", "Output / error")
        self.wide = wide
        for inv in invocations:
            ok = "✓" if inv.invocation_status.succeeded else "✗"
            tool = self.names.get(inv.tool_id, inv.tool_id[:10])
            if wide:
                table.add_row(f"{inv.created_at:%Y-%m-%d %H:%M:%S}", tool, str(inv.tool_version), source_label(inv), ok, str(inv.duration_ms), summary(inv), key=inv.id)
            else:
                table.add_row(f"{inv.created_at:%m-%d %H:%M}", tool, str(inv.tool_version), ok, summary(inv), key=inv.id)
        self.rows += invocations
        view.say_when_empty(self.empty_hint() if self.loaded else "Loading …")

    def empty_hint(self) -> str:
        if self.filters():
            return "No invocation matches these filters — pick 'any' in a filter to widen the search."
        return f"No invocations in organization {self.org!r} yet — invoke a tool (F2, enter, i) and it shows here."

    @on(HistoryCount)
    def show_count(self, message: HistoryCount) -> None:
        self.total = message.total
        self.show_status()

    def show_status(self) -> None:
        more = " · m: next 100" if self.token is not None else ""
        extra = f" · {self.extra_title} (esc clears)" if self.extra else ""
        status = self.query_one("#status", Static)
        status.remove_class("-error")
        status.update(Content(f"{len(self.rows):,} of {self.total:,}{extra}{more}"))

    def work_failed(self, worker: Worker[object], message: str) -> None:
        if worker.group in ("history", "history-count"):
            status = self.query_one("#status", Static)
            status.update(Content(f"could not read the history: {message}"))
            status.add_class("-error")
            self.query_one(TableView).say_when_empty("The history could not be read — see the line below; ctrl+l tries again.")

    @on(DataTable.RowHighlighted)
    def near_end(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= len(self.rows) - 5 and self.token is not None and len(self.rows) >= PAGE:
            self.action_more()  # fetch more on demand, as the cursor nears the end

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        table = self.query_one(TableView).table
        if table.row_count:
            inv = self.rows[table.cursor_row]
            self.app.push_screen(InvocationDetailScreen(inv, self.names.get(inv.tool_id, inv.tool_id)))

    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand.bound(self, "Open invocation", "The invocation in full", "open"),
            PaletteCommand.bound(self, "Next page of history", "Fetch the next 100 invocations", "more"),
            PaletteCommand.bound(self, "Reload history", "Start again from the newest", "reload"),
        ]
