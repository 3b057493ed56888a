"""Modal dialogs: a confirmation that says what will happen, and a small form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, Switch

DIALOG_CSS = """
ConfirmDialog, FormDialog, PublishScreen { align: center middle; }
.dialog { width: 76; height: auto; max-height: 90%; border: thick $primary; background: $surface; padding: 1 2; }
.dialog .title { text-style: bold; margin-bottom: 1; }
.dialog .buttons { height: auto; margin-top: 1; align-horizontal: right; }
.dialog .buttons Button { margin-left: 1; }
.dialog .field-label { margin-top: 1; color: $text-muted; }
.dialog .error { color: $error; height: auto; }
.dialog .preview { height: auto; max-height: 12; color: $text-muted; }
"""


class ConfirmDialog(ModalScreen[bool]):
    """Asks before something that cannot be undone; the message says exactly what will happen."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel"), Binding("y", "confirm", "Confirm", id="dialog.confirm")]

    def __init__(self, title: str, message: str, confirm_label: str = "Confirm") -> None:
        super().__init__()
        self.title_text, self.message, self.confirm_label = title, message, confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="title")
            yield Static(self.message)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(self.confirm_label, id="confirm", variant="error")

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


@dataclass
class Field:
    """One form field: text, password (never shown again), choice or switch."""

    name: str
    label: str
    kind: str = "text"  # "text" | "password" | "select" | "switch"
    value: Any = ""
    options: list[tuple[str, Any]] = field(default_factory=list)
    placeholder: str = ""


class FormDialog(ModalScreen[dict[str, Any] | None]):
    """A small form; dismisses with the values, or None when cancelled."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, title: str, fields: list[Field], submit_label: str = "OK", note: str = "") -> None:
        super().__init__()
        self.title_text, self.fields, self.submit_label, self.note = title, fields, submit_label, note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="title")
            if self.note:
                yield Static(self.note, classes="preview")
            for spec in self.fields:
                yield Label(spec.label, classes="field-label")
                if spec.kind == "select":
                    yield Select(spec.options, value=spec.value if spec.value != "" else Select.BLANK, id=f"f-{spec.name}", allow_blank=False)
                elif spec.kind == "switch":
                    yield Switch(value=bool(spec.value), id=f"f-{spec.name}")
                else:
                    yield Input(value=str(spec.value), placeholder=spec.placeholder, password=spec.kind == "password", id=f"f-{spec.name}")
            yield Static("", classes="error", id="form-error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(self.submit_label, id="submit", variant="primary")

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for spec in self.fields:
            widget = self.query_one(f"#f-{spec.name}")
            assert isinstance(widget, Input | Select | Switch)
            values[spec.name] = widget.value
        return values

    def show_error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(message)

    @on(Input.Submitted)
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        self.dismiss(self.values())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
