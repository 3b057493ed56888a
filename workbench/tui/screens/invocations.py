"""Invocation history: filters, a page at a time ("100 of 84,213"), more on demand, details."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Select, Static

from workbench.core.models import ToolInvocationInstance
from workbench.tui.screens.detail import InvocationDetailScreen
from workbench.tui.errors import ReportsWorkerErrors
from workbench.tui.widgets.tool_names import ToolNames

PAGE = 100


def summary(inv: ToolInvocationInstance) -> str:
    status = inv.invocation_status
    text = status.output if status.succeeded else f"{status.exception_type}: {status.exception_message}"
    return " ".join(text.split())[:90]


class InvocationsScreen(ReportsWorkerErrors, ToolNames, Screen[None]):
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
        self.rows, self.token = [], 0
        self.query_one(DataTable).clear()
        self.fetch(self.filters(), 0, count=True)

    def action_more(self) -> None:
        if self.token is not None:
            self.fetch(self.filters(), self.token, count=False)

    @work(thread=True, exclusive=True, group="history", exit_on_error=False, description="Loading history")
    def fetch(self, query: dict[str, Any], token: int, count: bool) -> None:
        service, org = self.app.service, self.app.org
        page = service.list_invocations(org, {**query, "limit": PAGE, "continuation_token": token})
        total = service.count_invocations(org, query) if count else self.total
        self.app.call_from_thread(self.show_page, page.tool_invocations, page.continuation_token, total)

    def show_page(self, invocations: list[ToolInvocationInstance], token: int | None, total: int) -> None:
        table = self.query_one(DataTable)
        for inv in invocations:
            table.add_row(
                f"{inv.created_at:%Y-%m-%d %H:%M:%S}", self.names.get(inv.tool_id, inv.tool_id[:10]), str(inv.tool_version), inv.invocation_source.type,
                "✓" if inv.invocation_status.succeeded else "✗", str(inv.duration_ms), summary(inv), key=inv.id,
            )
        self.rows += invocations
        self.token, self.total = token, total
        more = " · m: next 100" if token is not None else ""
        self.query_one("#status", Static).update(f"{len(self.rows):,} of {total:,}{more}")

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

    def palette_commands(self):
        return [("Next page of history", "Fetch the next 100 invocations", self.action_more), ("Reload history", "Start again from the newest", self.action_reload)]
