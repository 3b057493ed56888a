"""Screens that show tool ids as names and filter by tool share this."""

from __future__ import annotations

from textual import work
from textual.message import Message
from textual.widgets import Select

from workbench.tui.uses_api import UsesApi


class ToolNamesLoaded(Message):
    """The organization's tool names by id."""

    def __init__(self, names: dict[str, str]) -> None:
        super().__init__()
        self.names = names


class ToolNames(UsesApi):
    """Loads the org's tool names in a worker and offers them in the screen's ``#tool`` select."""

    names: dict[str, str]

    @work(thread=True, exclusive=True, group="tool-names", exit_on_error=False, description="Loading tools")
    def load_tools(self) -> None:
        names = {t.id: t.name for t in self.api.list_all_tools(self.org)}  # type: ignore[attr-defined]
        self.post_message(ToolNamesLoaded(names))  # type: ignore[attr-defined]

    def on_tool_names_loaded(self, message: ToolNamesLoaded) -> None:  # a mixin: named, not @on
        self.names = message.names
        self.query_one("#tool", Select).set_options(sorted((name, tool_id) for tool_id, name in message.names.items()))  # type: ignore[attr-defined]
        self.names_loaded()

    def names_loaded(self) -> None:
        """The names arrived (after the rows, perhaps): show them."""
