"""Invocation history: filters, a page at a time ("100 of 84,213"), more on demand, details; it
follows new invocations as they are recorded, here or by another process."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Select, Static

from workbench.core.events import InvocationsRecorded
from workbench.core.models import ToolInvocationInstance
from workbench.tui.errors import ReportsWorkerErrors
from workbench.tui.messages import FollowsWorkbench, WorkbenchChanged
from workbench.tui.screens.detail import InvocationDetailScreen
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
    return " ".join(text.split())[:90]


class InvocationsScreen(ReportsWorkerErrors, FollowsWorkbench, ToolNames, Screen[None]):
    """The history, newest first; it never loads more than the pages asked for."""

    BINDING_GROUP_TITLE = "History"
    BINDINGS = [
        Binding("enter", "open", "Details", id="history.open"),
        Binding("m", "more", "More", id="history.more", tooltip="Fetch the next 100"),
        Binding("r", "reload", "Reload", id="history.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[ToolInvocationInstance] = []
        self.token: int | None = 0
        self.total = 0
        self.names: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="bar"):
            yield Select([], prompt="any tool", id="tool")
            yield Select([("succeeded", True), ("failed", False)], prompt="any outcome", id="succeeded")
            yield Select([(t, t) for t in ("regular-conversation", "simulation-conversation", "workbench")], prompt="any source", id="source")
        yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
        yield Static("", classes="status", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Created (UTC)", "Tool", "Version", "Source", "OK", "ms", "Output / error")
        self.query_one(DataTable).focus()
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
        return query

    @on(Select.Changed)
    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.fetch(self.filters(), 0, count=True)

    def action_more(self) -> None:
        if self.token is not None:
            self.fetch(self.filters(), self.token, count=False)

    @on(WorkbenchChanged)
    def recorded(self, message: WorkbenchChanged) -> None:
        """New invocations: at the top of the list, show them; further down, keep the place
        and update the count."""
        event = message.event
        if not isinstance(event, InvocationsRecorded) or event.org_id not in (None, self.org):
            return
        table = self.query_one(DataTable)
        if len(self.rows) <= PAGE and table.cursor_row <= 0:
            self.reload()
        else:
            self.recount(self.filters())

    @work(thread=True, exclusive=True, group="history", exit_on_error=False, description="Loading history")
    def fetch(self, query: dict[str, Any], token: int, count: bool) -> None:
        service, org = self.api, self.org
        page = service.list_invocations(org, {**query, "limit": PAGE, "continuation_token": token})
        total = service.count_invocations(org, query) if count else self.total
        self.post_message(HistoryPage(page.tool_invocations, page.continuation_token, total, fresh=token == 0))

    @work(thread=True, exclusive=True, group="history-count", exit_on_error=False, description="Counting history")
    def recount(self, query: dict[str, Any]) -> None:
        self.post_message(HistoryCount(self.api.count_invocations(self.org, query)))

    @on(HistoryPage)
    def show_page(self, message: HistoryPage) -> None:
        table = self.query_one(DataTable)
        if message.fresh:
            self.rows = []
            table.clear()
        for inv in message.invocations:
            table.add_row(
                f"{inv.created_at:%Y-%m-%d %H:%M:%S}", self.names.get(inv.tool_id, inv.tool_id[:10]), str(inv.tool_version), inv.invocation_source.type,
                "✓" if inv.invocation_status.succeeded else "✗", str(inv.duration_ms), summary(inv), key=inv.id,
            )
        self.rows += message.invocations
        self.token, self.total = message.token, message.total
        self.show_status()

    @on(HistoryCount)
    def show_count(self, message: HistoryCount) -> None:
        self.total = message.total
        self.show_status()

    def show_status(self) -> None:
        more = " · m: next 100" if self.token is not None else ""
        self.query_one("#status", Static).update(f"{len(self.rows):,} of {self.total:,}{more}")

    @on(DataTable.RowHighlighted)
    def near_end(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= len(self.rows) - 5 and self.token is not None and len(self.rows) >= PAGE:
            self.action_more()  # fetch more on demand, as the cursor nears the end

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            inv = self.rows[table.cursor_row]
            self.app.push_screen(InvocationDetailScreen(inv, self.names.get(inv.tool_id, inv.tool_id)))

    def palette_commands(self) -> list[tuple[str, str, Any]]:
        return [("Next page of history", "Fetch the next 100 invocations", self.action_more), ("Reload history", "Start again from the newest", self.action_reload)]
