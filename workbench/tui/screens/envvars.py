"""A tool's environment variables: names and kinds, never values; secrets typed into a password
field and never displayed again."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from workbench.core.results import EnvVarInfo
from workbench.tui.errors import ReportsWorkerErrors
from workbench.tui.widgets.dialogs import ConfirmDialog, Field, FormDialog
from workbench.tui.uses_api import UsesApi


class EnvVarsLoaded(Message):
    def __init__(self, infos: list[EnvVarInfo]) -> None:
        super().__init__()
        self.infos = infos


class EnvVarsChanged(Message):
    def __init__(self, done: str) -> None:
        super().__init__()
        self.done = done


class EnvVarsPane(UsesApi, ReportsWorkerErrors, Vertical):
    """The env vars tab of a tool's screen."""

    BINDING_GROUP_TITLE = "Environment variables"
    BINDINGS = [
        Binding("a", "add(False)", "Add", id="env.add"),
        Binding("s", "add(True)", "Add secret", id="env.add_secret"),
        Binding("u", "update", "Update value", id="env.update"),
        Binding("x", "delete", "Delete", id="env.delete"),
    ]

    def __init__(self, tool_id: str) -> None:
        super().__init__()
        self.tool_id = tool_id
        self.infos: list[EnvVarInfo] = []

    def compose(self) -> ComposeResult:
        yield DataTable(id="envvars", cursor_type="row", zebra_stripes=True)
        yield Static("Values are never shown. A variable a live version requires cannot be deleted.", classes="status")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Name", "Kind", "Required by", "Updated")
        self.load()

    @work(thread=True, exclusive=True, group="envvars", exit_on_error=False, description="Loading env vars")
    def load(self) -> None:
        self.post_message(EnvVarsLoaded(self.api.list_envvars(self.org, self.tool_id)))

    @on(EnvVarsLoaded)
    def show(self, message: EnvVarsLoaded) -> None:
        infos = self.infos = message.infos
        table = self.query_one(DataTable)
        table.clear()
        for info in infos:
            table.add_row(info.name, "secret 🔒" if info.is_secret else "plain", ", ".join(info.required_by) or "-", f"{info.updated_at:%Y-%m-%d %H:%M:%S}", key=info.name)

    def selected(self) -> Any:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        name = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((i for i in self.infos if i.name == name), None)

    def action_add(self, secret: bool) -> None:
        fields = [Field("name", "Name (A-Z and _)"), Field("value", "Value (never shown again)" if secret else "Value", kind="password" if secret else "text")]

        def add(values: dict[str, Any] | None) -> None:
            if values:
                self.change({"inserts": [{"name": values["name"], "value": values["value"], "is_secret": secret}]}, f"added {values['name']}")

        self.app.push_screen(FormDialog("New secret" if secret else "New variable", fields, "Add"), add)

    def action_update(self) -> None:
        info = self.selected()
        if not info:
            return
        field = Field("value", f"New value of {info.name}", kind="password" if info.is_secret else "text")

        def update(values: dict[str, Any] | None) -> None:
            if values:
                self.change({"updates": [{"name": info.name, "value": values["value"]}]}, f"updated {info.name}")

        self.app.push_screen(FormDialog(f"Update {info.name}", [field], "Save"), update)

    def action_delete(self) -> None:
        info = self.selected()
        if not info:
            return
        text = f"Delete {info.name}? Its name stays reserved for the recovery window, so it cannot be added again right away."
        if info.required_by:
            text += f"\n\nVersions {', '.join(info.required_by)} require it: the deletion will be refused until they are deprecated."

        def delete(ok: bool | None) -> None:
            if ok:
                self.change({"deletes": [{"name": info.name}]}, f"deleted {info.name}")

        self.app.push_screen(ConfirmDialog("Delete variable", text, "Delete"), delete)

    @work(thread=True, group="envvars-change", exit_on_error=False, description="Environment variables")
    def change(self, request: dict[str, Any], done: str) -> None:
        self.api.modify_envvars(self.org, self.tool_id, request)
        self.post_message(EnvVarsChanged(done))

    @on(EnvVarsChanged)
    def changed(self, message: EnvVarsChanged) -> None:
        self.app.notify(message.done, title="Environment variables")
        self.load()
