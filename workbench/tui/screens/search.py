"""Search: the query language over the chosen fields, with filters; hits with highlighted
snippets; enter opens a hit. A failed search says why where the hits were, and leaves no stale
hits behind."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Checkbox, Input, OptionList, Select, Static
from textual.widgets.option_list import Option
from textual.worker import Worker

from workbench.core.requests import QUERY_AGAINST_FIELDS
from workbench.core.results import SearchHit, SearchPage, snippet_pieces
from workbench.tui.commands import PaletteCommand
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.screens.detail import InvocationDetailScreen
from workbench.tui.widgets.tool_names import ToolNames

HELP = 'words · "a phrase" · type:KeyError · trace:_split* · a AND NOT b · (a OR b)'
LIMIT = 100
INDEXING = "building the search index"


def field_label(name: str) -> str:
    """``invocation_status.exception_stack_trace`` -> ``trace``: the query language's names."""
    return name.rsplit(".", 1)[-1].removeprefix("exception_").replace("stack_trace", "trace")


class SearchDone(Message):
    """The hits of a search run in a worker."""

    def __init__(self, query: str, page: SearchPage) -> None:
        super().__init__()
        self.query, self.page = query, page


def hit_text(hit: SearchHit, tool: str) -> Text:
    inv = hit.invocation
    ok = inv.invocation_status.succeeded
    text = Text.assemble((f"{inv.created_at:%Y-%m-%d %H:%M:%S} ", "bold"), f"{tool} {inv.tool_version} ", ("ok" if ok else "failed", "green" if ok else "red"))
    for field, fragment in hit.snippets.items():
        text.append(f"\n  {field_label(field)}: ", style="dim")
        for piece, is_match in snippet_pieces(fragment):
            text.append(piece, style="bold reverse" if is_match else "")
    return text


class SearchScreen(ToolNames, WorkbenchScreen):
    """Full-text search of invocations."""

    BINDING_GROUP_TITLE = "Search"
    BINDINGS = [
        Binding("slash", "focus_query", "Query", id="search.query"),
        Binding("escape", "leave_query", "To the hits", show=False, id="search.leave_query"),
        Binding("ctrl+x", "app.cancel_work", "Cancel", show=False, id="search.cancel", tooltip="Stop waiting for the search"),
    ]
    DEFAULT_CSS = """
    SearchScreen #filters { height: auto; padding: 0 1; }
    SearchScreen.-narrow #filters { layout: vertical; }
    SearchScreen #selects { height: 1; width: 1fr; }
    SearchScreen #selects Select { width: 1fr; margin-right: 1; }
    SearchScreen #fields { height: 1; width: auto; }
    SearchScreen #fields Checkbox { width: auto; margin-right: 1; }
    SearchScreen #hits { height: 1fr; }
    SearchScreen #hits > .option-list--option { padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.hits: list[SearchHit] = []
        self.names: dict[str, str] = {}

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="bar"):
            yield Input(placeholder=HELP, id="query", compact=True)
        with Horizontal(id="filters"):
            with Horizontal(id="selects"):
                yield Select([], prompt="any tool", id="tool", compact=True)
                yield Select([("succeeded", True), ("failed", False)], prompt="any outcome", id="succeeded", compact=True)
                yield Select([("newest first", "newest"), ("best match first", "relevance")], value="newest", allow_blank=False, id="order", compact=True)
            with Horizontal(id="fields"):
                for name in QUERY_AGAINST_FIELDS:
                    yield Checkbox(field_label(name), True, name=name, compact=True, tooltip=f"search {name}")
        yield OptionList(id="hits")
        yield Static(HELP, classes="status", id="status")

    def on_mount(self) -> None:
        self.query_one("#query", Input).focus()
        self.load_tools()

    def organization_changed(self) -> None:
        self.query_one("#tool", Select).clear()
        self.clear_hits()
        self.load_tools()
        self.run_search()

    def action_focus_query(self) -> None:
        self.query_one("#query", Input).focus()

    def action_leave_query(self) -> None:
        self.leave_input("#hits")

    def request(self) -> dict[str, Any]:
        tool = self.query_one("#tool", Select).value
        succeeded = self.query_one("#succeeded", Select).value
        request: dict[str, Any] = {
            "query": self.query_one("#query", Input).value,
            "query_against": [box.name for box in self.query(Checkbox) if box.value],
            "order": self.query_one("#order", Select).value,
            "limit": LIMIT,
        }
        if isinstance(tool, str):
            request["tool_id"] = [tool]
        if isinstance(succeeded, bool):
            request["succeeded"] = succeeded
        return request

    @on(Input.Submitted, "#query")
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def run_search(self) -> None:
        if not self.query_one("#query", Input).value.strip():
            self.set_status(HELP)
            return
        request = self.request()
        if not request["query_against"]:
            self.clear_hits()
            self.set_status("Choose at least one field to search in.", error=True)
            return
        self.set_status("searching … (ctrl+x stops waiting)")
        self.search(request)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False, description="Search")
    def search(self, request: dict[str, Any]) -> None:
        with self.workbench.progress_reporter(INDEXING) as report:
            self.post_message(SearchDone(request["query"], self.api.search_page(self.org, request, report)))

    @on(SearchDone)
    def show_hits(self, message: SearchDone) -> None:
        query, hits = message.query, message.page.hits
        self.clear_hits()
        self.hits = hits
        options = self.query_one("#hits", OptionList)
        options.add_options([Option(hit_text(hit, self.names.get(hit.invocation.tool_id, hit.invocation.tool_id[:10])), id=hit.invocation.id) for hit in hits])
        if hits:
            more = f" (the first {LIMIT}; more match)" if message.page.has_more else ""
            self.set_status(f"{len(hits)} hit(s) for {query!r}{more} · enter opens one")
            options.highlighted = 0
            options.focus()
        else:
            self.set_status(f"No hits for {query!r} — try fewer words, a prefix* or more fields.")

    def clear_hits(self) -> None:
        self.hits = []
        self.query_one("#hits", OptionList).clear_options()

    def set_status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#status", Static)
        status.update(Content(text))
        status.set_class(error, "-error")

    def work_failed(self, worker: Worker[object], message: str) -> None:
        if worker.group == "search":
            self.clear_hits()
            self.set_status(f"the search failed: {message}", error=True)

    def work_cancelled(self, worker: Worker[object]) -> None:
        if worker.group == "search":
            self.set_status("search cancelled", error=True)

    @on(OptionList.OptionSelected, "#hits")
    def open_hit(self, event: OptionList.OptionSelected) -> None:
        hit = self.hits[event.option_index]
        self.app.push_screen(InvocationDetailScreen(hit.invocation, self.names.get(hit.invocation.tool_id, hit.invocation.tool_id)))

    def palette_commands(self) -> list[PaletteCommand]:
        return [PaletteCommand.bound(self, "Focus the query", "Type a search query", "focus_query")]
