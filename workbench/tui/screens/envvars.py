"""A tool's environment variables: names and kinds, never values; secrets typed into a password
field and never displayed again."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from workbench.core.events import ToolsChanged
from workbench.core.results import EnvVarInfo
from workbench.tui.errors import ReportsWorkerErrors
from workbench.tui.messages import FollowsWorkbench, WorkbenchChanged
from workbench.tui.text import readable_times
from workbench.tui.widgets.dialogs import Field, FormDialog, confirm_then
from workbench.tui.widgets.tables import TableView

NOTE = "Values are never shown. A variable a live version requires cannot be deleted."
NAME_ALLOWED = "capital letters A-Z and _ (e.g. CRM_API_TOKEN)"


class EnvVarsLoaded(Message):
    """The tool's variables (names and kinds, never values), read in a worker."""

    def __init__(self, infos: list[EnvVarInfo]) -> None:
        super().__init__()
        self.infos = infos


class EnvVarsChanged(Message):
    """A change to the variables succeeded; ``done`` says what it did."""

    def __init__(self, done: str) -> None:
        super().__init__()
        self.done = done


class EnvVarsPane(ReportsWorkerErrors, FollowsWorkbench, Vertical):
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
        yield TableView("envvars")
        yield Static(NOTE, classes="status", id="env-status")

    def on_mount(self) -> None:
        self.query_one(TableView).table.add_columns("Name", "Kind", "Required by", "Updated (UTC)")
        self.load()

    @on(WorkbenchChanged)
    def tool_changed(self, message: WorkbenchChanged) -> None:
        """Variables changed here or in another process."""
        if isinstance(message.event, ToolsChanged) and message.event.tool_id in (None, self.tool_id):
            self.load()

    @work(thread=True, exclusive=True, group="envvars", exit_on_error=False, description="Loading env vars")
    def load(self) -> None:
        self.post_message(EnvVarsLoaded(self.api.list_envvars(self.org, self.tool_id)))

    @on(EnvVarsLoaded)
    def show(self, message: EnvVarsLoaded) -> None:
        infos = self.infos = message.infos
        view = self.query_one(TableView)
        table = view.table
        selected = table.selected_key()
        table.clear()
        for info in infos:
            table.add_row(info.name, "secret 🔒" if info.is_secret else "plain", ", ".join(info.required_by) or "-", f"{info.updated_at:%Y-%m-%d %H:%M:%S}", key=info.name)
        if selected in {i.name for i in infos}:
            table.move_cursor(row=table.get_row_index(selected))
        view.say_when_empty("No env vars yet — a adds one, s adds a secret.")

    def work_failed(self, worker: object, message: str) -> None:
        status = self.query_one("#env-status", Static)
        status.update(Content(message))
        status.add_class("-error")

    def selected(self) -> EnvVarInfo | None:
        name = self.query_one(TableView).table.selected_key()
        return next((i for i in self.infos if i.name == name), None)

    def selected_or_say(self, doing: str) -> EnvVarInfo | None:
        """The variable under the cursor; if there is none, say why nothing happens."""
        info = self.selected()
        if info is None:
            self.app.notify(f"No variable to {doing}: this tool has none yet (a adds one, s adds a secret).", severity="warning", timeout=4)
        return info

    def action_add(self, secret: bool) -> None:
        fields = [
            Field("name", "Name (A-Z and _)", allowed=NAME_ALLOWED),
            Field("value", "Value (never shown again)" if secret else "Value", kind="password" if secret else "text"),
        ]

        def add(values: dict[str, Any]) -> str:
            self.api.modify_envvars(self.org, self.tool_id, {"inserts": [{"name": values["name"], "value": values["value"], "is_secret": secret}]})
            return f"added {values['name']}"

        self.app.push_screen(FormDialog("New secret" if secret else "New variable", fields, "Add", action=add), self.done)

    def action_update(self) -> None:
        info = self.selected_or_say("update")
        if not info:
            return
        field = Field("value", f"New value of {info.name}", kind="password" if info.is_secret else "text")

        def update(values: dict[str, Any]) -> str:
            self.api.modify_envvars(self.org, self.tool_id, {"updates": [{"name": info.name, "value": values["value"]}]})
            return f"updated {info.name}"

        self.app.push_screen(FormDialog(f"Update {info.name}", [field], "Save", action=update), self.done)

    def action_delete(self) -> None:
        info = self.selected_or_say("delete")
        if not info:
            return
        text = f"Delete {info.name}? Its name stays reserved for the recovery window, so it cannot be added again right away."
        if info.required_by:
            text += f"\n\nVersions {', '.join(info.required_by)} require it: the deletion will be refused until they are deprecated."

        confirm_then(self.app, "Delete variable", text, "Delete", lambda: self.change({"deletes": [{"name": info.name}]}, f"deleted {info.name}"))

    @work(thread=True, group="envvars-change", exit_on_error=False, description="Environment variables")
    def change(self, request: dict[str, Any], done: str) -> None:
        self.api.modify_envvars(self.org, self.tool_id, request)
        self.post_message(EnvVarsChanged(done))

    @on(EnvVarsChanged)
    def changed(self, message: EnvVarsChanged) -> None:
        self.done(message.done)

    def done(self, result: object) -> None:
        if isinstance(result, str):
            status = self.query_one("#env-status", Static)
            status.remove_class("-error")
            status.update(Content(readable_times(f"{result} · {NOTE}")))
            self.app.notify(result, title="Environment variables", timeout=4)  # the table follows the event
