"""Modal dialogs: a confirmation that says what will happen, and a small form that stays open when
the workbench refuses what was typed, marks the field and says what is allowed."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, Switch

from workbench.errors import WorkbenchError
from workbench.tui.errors import describe_error
from workbench.tui.uses_api import UsesApi

DIALOG_CSS = """
ConfirmDialog, FormDialog, PublishScreen { align: center middle; }
.dialog { width: 76; max-width: 100%; height: auto; max-height: 100%; border: thick $primary; background: $surface; padding: 1 2; }
Screen.-short .dialog { padding: 0 1; }
.dialog .title { text-style: bold; margin-bottom: 1; }
.dialog .buttons { height: auto; margin-top: 1; align-horizontal: right; }
.dialog .buttons Button { margin-left: 1; }
.dialog .field-label { margin-top: 1; color: $text-muted; }
Screen.-short .dialog .field-label { margin-top: 0; }
.dialog .error { color: $text-error; height: auto; }
.dialog .field-error { color: $text-error; height: auto; display: none; }
.dialog .field-error.-shown { display: block; }
.dialog .preview { height: auto; max-height: 12; color: $text-muted; }
"""


class ConfirmDialog(ModalScreen[bool]):
    """Asks before something that cannot be undone; the message says exactly what will happen."""

    SCOPED_CSS = False  # its rules name the screen's size classes (Screen.-short ...)

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel"), Binding("y", "confirm", "Confirm", id="dialog.confirm")]

    def __init__(self, title: str, message: str, confirm_label: str = "Confirm") -> None:
        super().__init__()
        self.title_text, self.message, self.confirm_label = title, message, confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Content(self.title_text), classes="title")
            yield Static(Content(self.message), id="confirm-message")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(f"{self.confirm_label} (y)", id="confirm", variant="error")

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


def confirm_then(app: App[object], title: str, message: str, confirm_label: str, action: Callable[[], object]) -> None:
    """Ask with a :class:`ConfirmDialog` and run ``action`` if the answer is yes."""

    def answered(ok: bool | None) -> None:
        if ok:
            action()

    app.push_screen(ConfirmDialog(title, message, confirm_label), answered)


@dataclass
class Field:
    """One form field: text, password (never shown again), choice or switch. ``allowed`` says
    what the field takes; it is shown with an error on the field."""

    name: str
    label: str
    kind: str = "text"  # "text" | "password" | "select" | "switch"
    value: Any = ""
    options: list[tuple[str, Any]] = field(default_factory=list)
    placeholder: str = ""
    allowed: str = ""


class FormSaved(Message):
    """The form's action succeeded with ``result``."""

    def __init__(self, result: object) -> None:
        super().__init__()
        self.result = result


class FormRefused(Message):
    """The form's action failed: ``problems`` maps field names (or "") to what was wrong."""

    def __init__(self, message: str, problems: dict[str, str]) -> None:
        super().__init__()
        self.message, self.problems = message, problems


def problems_by_field(error: BaseException, names: list[str]) -> dict[str, str]:
    """Which field each problem of a refusal is about. A 422 names its locations
    ("inserts.0.name: ..."); a refusal without one is about the form's first field (the name
    of what is created, in every form of the app)."""
    found: dict[str, str] = {}
    listed = error.details.get("errors") if isinstance(error, WorkbenchError) else None
    for problem in listed if isinstance(listed, list) else []:
        location, _, text = str(problem).partition(": ")
        parts = [p for p in re.split(r"[.\[\]]", location) if p]
        name = next((p for p in reversed(parts) if p in names), None)
        if name is not None:
            found.setdefault(name, text)
    if not found and names:
        found[names[0]] = describe_error(error)
    return found


class FormDialog(UsesApi, ModalScreen[Any]):
    """A small form. Without an ``action`` it dismisses with the values. With one, it runs the
    action in a worker and stays open until the action succeeds (dismissing with its result);
    a refusal is shown under the field it concerns, with what the field allows, and nothing
    typed is lost."""

    SCOPED_CSS = False  # its rules name the screen's size classes (Screen.-short ...)

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, title: str, fields: list[Field], submit_label: str = "OK", note: str = "", action: Callable[[dict[str, Any]], object] | None = None) -> None:
        super().__init__()
        self.title_text, self.fields, self.submit_label, self.note = title, fields, submit_label, note
        self.action = action

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Content(self.title_text), classes="title")
            if self.note:
                yield Static(Content(self.note), classes="preview")
            for spec in self.fields:
                yield Label(Content(spec.label), classes="field-label")
                if spec.kind == "select":
                    yield Select(spec.options, value=spec.value if spec.value != "" else Select.BLANK, id=f"f-{spec.name}", allow_blank=False, compact=True)
                elif spec.kind == "switch":
                    yield Switch(value=bool(spec.value), id=f"f-{spec.name}")
                else:
                    yield Input(value=str(spec.value), placeholder=spec.placeholder, password=spec.kind == "password", id=f"f-{spec.name}", compact=True)
                yield Static("", classes="field-error", id=f"e-{spec.name}")
            yield Static("", classes="error", id="form-error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button(self.submit_label, id="submit", variant="primary", compact=True)

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for spec in self.fields:
            widget = self.query_one(f"#f-{spec.name}")
            assert isinstance(widget, Input | Select | Switch)
            values[spec.name] = widget.value
        return values

    def show_error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(Content(message))

    @on(Input.Submitted)
    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        if self.action is None:
            self.dismiss(self.values())
            return
        self.clear_problems()
        self.query_one("#submit", Button).disabled = True
        self.show_error("")
        self.run_submitted(self.values())

    @work(thread=True, exclusive=True, group="form", exit_on_error=False, description="Saving")
    def run_submitted(self, values: dict[str, Any]) -> None:
        assert self.action is not None
        try:
            result = self.action(values)
        except Exception as error:  # noqa: BLE001 - every refusal is shown in the form, never a traceback
            self.post_message(FormRefused(describe_error(error), problems_by_field(error, [f.name for f in self.fields])))
            return
        self.post_message(FormSaved(result))

    @on(FormSaved)
    def saved(self, message: FormSaved) -> None:
        self.dismiss(message.result if message.result is not None else True)

    @on(FormRefused)
    def refused(self, message: FormRefused) -> None:
        self.query_one("#submit", Button).disabled = False
        self.workbench.keep_notice(message.message, title=self.title_text, severity="error")
        first = None
        for spec in self.fields:
            problem = message.problems.get(spec.name)
            if problem is None:
                continue
            text = problem + (f"\nallowed: {spec.allowed}" if spec.allowed else "")
            error = self.query_one(f"#e-{spec.name}", Static)
            error.update(Content(text))
            error.add_class("-shown")
            self.query_one(f"#f-{spec.name}").add_class("-invalid")
            first = first or spec.name
        if first is None:
            self.show_error(message.message)
        else:
            self.query_one(f"#f-{first}").focus()

    def clear_problems(self) -> None:
        for spec in self.fields:
            self.query_one(f"#e-{spec.name}", Static).remove_class("-shown")
            self.query_one(f"#f-{spec.name}").remove_class("-invalid")

    @on(Input.Changed)
    def typing(self, event: Input.Changed) -> None:
        """The field being corrected is no longer marked."""
        event.input.remove_class("-invalid")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
