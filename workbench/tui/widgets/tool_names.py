"""Screens that show tool ids as names and filter by tool share this."""

from __future__ import annotations

from textual import work
from textual.widgets import Select


class ToolNames:
    """Loads the org's tool names in a worker and offers them in the screen's ``#tool`` select."""

    names: dict[str, str]

    @work(thread=True, exclusive=True, group="tool-names", exit_on_error=False, description="Loading tools")
    def load_tools(self) -> None:
        names = {t.id: t.name for t in self.app.service.list_all_tools(self.app.org)}
        self.app.call_from_thread(self.show_tools, names)

    def show_tools(self, names: dict[str, str]) -> None:
        self.names = names
        self.query_one("#tool", Select).set_options(sorted((name, tool_id) for tool_id, name in names.items()))
