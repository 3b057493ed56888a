"""Search: the query language over the chosen fields, with filters; hits with highlighted
snippets; enter opens a hit."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, OptionList, Select, SelectionList, Static
from textual.widgets.option_list import Option

from workbench.core.requests import QUERY_AGAINST_FIELDS
from workbench.core.results import SearchHit, SearchPage, snippet_pieces
from workbench.tui.screens.detail import InvocationDetailScreen
from workbench.tui.errors import ReportsWorkerErrors
from workbench.tui.widgets.tool_names import ToolNames


class SearchDone(Message):
    """The hits of a search run in a worker."""

    def __init__(self, query: str, page: SearchPage) -> None:
        super().__init__()
        self.query, self.page = query, page


HELP = 'words · "a phrase" · type:KeyError · trace:_split* · a AND NOT b · (a OR b)'


def hit_text(hit: SearchHit, tool: str) -> Text:
    inv = hit.invocation
    ok = inv.invocation_status.succeeded
    text = Text.assemble((f"{inv.created_at:%Y-%m-%d %H:%M:%S} ", "bold"), f"{tool} {inv.tool_version} ", ("ok" if ok else "failed", "green" if ok else "red"), (f"  {inv.id}", "dim"))
    for field, fragment in hit.snippets.items():
        text.append(f"\n  {field}: ", style="dim")
        for piece, is_match in snippet_pieces(fragment):
            text.append(piece, style="bold reverse" if is_match else "")
    return text


class SearchScreen(ReportsWorkerErrors, ToolNames, Screen[None]):
    """Full-text search of invocations."""

    BINDING_GROUP_TITLE = "Search"
    BINDINGS = [
        Binding("slash", "focus_query", "Query", id="search.query"),
        Binding("ctrl+x", "app.cancel_work", "Cancel", id="search.cancel"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.hits: list[SearchHit] = []
        self.names: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="bar"):
            yield Input(placeholder=HELP, id="query")
        with Horizontal(id="filters"):
            yield SelectionList(*[(name, name, True) for name in QUERY_AGAINST_FIELDS], id="fields")
            yield Select([], prompt="any tool", id="tool")
            yield Select([("succeeded", True), ("failed", False)], prompt="any outcome", id="succeeded")
            yield Select([("newest first", "newest"), ("best match first", "relevance")], value="newest", allow_blank=False, id="order")
        yield OptionList(id="hits")
        yield Static(HELP, classes="status", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#query", Input).focus()
        self.load_tools()


    def action_focus_query(self) -> None:
        self.query_one("#query", Input).focus()

    def request(self) -> dict[str, Any]:
        tool = self.query_one("#tool", Select).value
        succeeded = self.query_one("#succeeded", Select).value
        request: dict[str, Any] = {
            "query": self.query_one("#query", Input).value,
            "query_against": list(self.query_one("#fields", SelectionList).selected),
            "order": self.query_one("#order", Select).value,
            "limit": 100,
        }
        if isinstance(tool, str):
            request["tool_id"] = [tool]
        if isinstance(succeeded, bool):
            request["succeeded"] = succeeded
        return request

    @on(Input.Submitted, "#query")
    @on(Select.Changed)
    @on(SelectionList.SelectedChanged)
    def run_search(self) -> None:
        if self.query_one("#query", Input).value.strip():
            self.query_one("#status", Static).update("searching …")
            self.search(self.request())

    @work(thread=True, exclusive=True, group="search", exit_on_error=False, description="Search")
    def search(self, request: dict[str, Any]) -> None:
        self.post_message(SearchDone(request["query"], self.api.search_page(self.org, request)))

    @on(SearchDone)
    def show_hits(self, message: SearchDone) -> None:
        query, hits = message.query, message.page.hits
        self.hits = hits
        options = self.query_one("#hits", OptionList)
        options.clear_options()
        options.add_options([Option(hit_text(hit, self.names.get(hit.invocation.tool_id, hit.invocation.tool_id[:10])), id=hit.invocation.id) for hit in hits])
        self.query_one("#status", Static).update(f"{len(hits)} hit(s) for {query!r}" + (" (the first 100; more match)" if message.page.has_more else "") + " · enter: open")
        if hits:
            options.highlighted = 0
            options.focus()

    @on(OptionList.OptionSelected, "#hits")
    def open_hit(self, event: OptionList.OptionSelected) -> None:
        hit = self.hits[event.option_index]
        self.app.push_screen(InvocationDetailScreen(hit.invocation, self.names.get(hit.invocation.tool_id, hit.invocation.tool_id)))

    def palette_commands(self) -> list[tuple[str, str, Any]]:
        return [("Focus the query", "Type a search query", self.action_focus_query)]
