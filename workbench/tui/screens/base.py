"""What every full screen of the app shares: the context line on top, the keys below (the app's
own first, so F1-F4 never fall off a narrow footer), the palette commands, and following an
organization switch."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import ActiveBinding
from textual.screen import Screen
from textual.widgets import Footer, Input

from workbench.tui.commands import PaletteCommand
from workbench.tui.errors import ReportsWorkerErrors
from workbench.tui.sizes import WIDE
from workbench.tui.uses_api import UsesApi
from workbench.tui.widgets.context_bar import ContextBar


class WorkbenchScreen(ReportsWorkerErrors, UsesApi, Screen[None]):
    """A screen of the workbench. Subclasses yield their body from :meth:`compose_body`."""

    def context_label(self) -> str:
        """What the context line shows after the organization (a tool's name, say)."""
        return ""

    def compose(self) -> ComposeResult:
        yield ContextBar(self.context_label())
        yield from self.compose_body()
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_resize(self, event: events.Resize) -> None:
        """On a narrow terminal the footer's room goes to keys (ctrl+p is in the help)."""
        self.query_one(Footer).show_command_palette = event.size.width >= WIDE

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The app's keys first: the footer is cut at the right on a narrow terminal."""
        bindings = super().active_bindings
        app_keys = {key: active for key, active in bindings.items() if active.node is self.app}
        return app_keys | {key: active for key, active in bindings.items() if active.node is not self.app}

    def palette_commands(self) -> list[PaletteCommand]:
        """The commands the palette offers on this screen."""
        return []

    def organization_changed(self) -> None:
        """The app switched organization while this screen is showing: read everything again."""

    def leave_input(self, target: str) -> bool:
        """Escape in a filter or query input: move to ``target`` (the list it filters)."""
        if isinstance(self.focused, Input):
            self.query_one(target).focus()
            return True
        return False
