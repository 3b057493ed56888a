"""Messages: everything the app has told you, newest first, kept after the toasts fade."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from workbench.tui.text import local_time

STYLES = {"error": "bold $text-error", "warning": "bold $text-warning", "information": "bold $text-success"}


@dataclass(frozen=True)
class Notice:
    """Something the app told the user in a notification; kept after the toast fades."""

    message: str
    title: str
    severity: str
    at: datetime


def notice_content(notice: Notice) -> Content:
    return Content.assemble(
        (local_time(notice.at), "dim"),
        "  ",
        (notice.severity, STYLES.get(notice.severity, "bold")),
        ("  " + notice.title if notice.title else "", "bold"),
        "\n",
        notice.message,
    )


class MessagesScreen(ModalScreen[None]):
    """The app's notices, newest first; opening it marks the errors as read."""

    DEFAULT_CSS = """
    MessagesScreen { align: center middle; }
    MessagesScreen > Vertical { width: 100; max-width: 100%; height: 90%; border: thick $primary; background: $surface; padding: 0 1; }
    MessagesScreen .title { text-style: bold; padding: 0 0 1 0; }
    MessagesScreen .notice { margin-bottom: 1; }
    """
    BINDINGS = [Binding("escape,f5,q", "dismiss", "Close", id="messages.close")]

    def __init__(self, notices: Iterable[Notice]) -> None:
        super().__init__()
        self.notices = list(notices)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Messages ({len(self.notices)})", classes="title")
            with VerticalScroll(id="notices"):
                for notice in reversed(self.notices):
                    yield Static(notice_content(notice), classes="notice")
                if not self.notices:
                    yield Static(Content("Nothing yet: errors and what finished in the background are listed here."), classes="notice")

    def on_mount(self) -> None:
        self.query_one("#notices").focus()
