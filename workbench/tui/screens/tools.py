"""The Tools screen: the organization's tools, filtered by text and tag; create, edit, deprecate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static, Switch

from workbench.core.api import ToolsApi
from workbench.core.events import ToolsChanged, VersionPublished, VersionsDeprecated
from workbench.core.models import ToolInstance
from workbench.core.results import ToolSummary
from workbench.tui.errors import ReportsWorkerErrors
from workbench.tui.messages import FollowsWorkbench, WorkbenchChanged
from workbench.tui.widgets.dialogs import ConfirmDialog, Field, FormDialog



class ToolsLoaded(Message):
    """The org's tools with their active versions, read in a worker."""

    def __init__(self, summaries: list[ToolSummary]) -> None:
        super().__init__()
        self.summaries = summaries


class ToolsChangeDone(Message):
    """A change made from this screen (create, edit, deprecate) succeeded."""

    def __init__(self, title: str, done: str) -> None:
        super().__init__()
        self.title, self.done = title, done


def tags_text(tool: ToolInstance) -> str:
    return ", ".join(f"{t.key}={t.value}" if t.value is not None else t.key for t in tool.tags)


def parse_tags(text: str) -> dict[str, str | None]:
    tags: dict[str, str | None] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition("=")
        tags[key.strip()] = value.strip() or None
    return tags


class ToolsScreen(ReportsWorkerErrors, FollowsWorkbench, Screen[None]):
    """Every tool of the organization with its description, tags and active versions."""

    BINDING_GROUP_TITLE = "Tools"
    BINDINGS = [
        Binding("enter", "open", "Open", id="tools.open", tooltip="Versions, env vars, invoke and test"),
        Binding("n", "create", "New", id="tools.new"),
        Binding("e", "edit", "Edit", id="tools.edit", tooltip="Description and tags"),
        Binding("d", "deprecate", "Deprecate", id="tools.deprecate"),
        Binding("slash", "focus_filter", "Filter", id="tools.filter"),
        Binding("r", "reload", "Reload", id="tools.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.tools: list[ToolInstance] = []
        self.active_versions: dict[str, list[str]] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="bar"):
            yield Input(placeholder="filter: words, or tag key:value (key:* any value)", id="filter")
            yield Static(" deprecated ", classes="muted")
            yield Switch(value=False, id="show-deprecated", tooltip="Show deprecated tools")
        yield DataTable(id="tools", cursor_type="row", zebra_stripes=True)
        yield Static("", classes="status", id="status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Name", "Versions", "State", "Tags", "Env vars", "Description")
        self.load()
        table.focus()

    @on(WorkbenchChanged)
    def workbench_changed(self, message: WorkbenchChanged) -> None:
        """Tools, versions or variables changed, here or in another process: read them again."""
        if isinstance(message.event, ToolsChanged | VersionPublished | VersionsDeprecated):
            self.load()

    @work(thread=True, exclusive=True, group="tools", exit_on_error=False, description="Loading tools")
    def load(self) -> None:
        self.post_message(ToolsLoaded(self.api.tool_overview(self.org)))

    @on(ToolsLoaded)
    def show(self, message: ToolsLoaded) -> None:
        self.tools = [summary.tool for summary in message.summaries]
        self.active_versions = {summary.tool.id: summary.active_versions for summary in message.summaries}
        self.refresh_table()

    def shown_tools(self) -> list[ToolInstance]:
        text = self.query_one("#filter", Input).value.strip().lower()
        show_deprecated = self.query_one("#show-deprecated", Switch).value
        shown = []
        for tool in self.tools:
            if tool.deprecated and not show_deprecated:
                continue
            if text and not all(self._matches(tool, word) for word in text.split()):
                continue
            shown.append(tool)
        return shown

    @staticmethod
    def _matches(tool: ToolInstance, word: str) -> bool:
        if ":" in word:
            key, _, value = word.partition(":")
            return any(t.key.lower() == key and (value in ("*", "") or (t.value or "").lower() == value) for t in tool.tags)
        return word in f"{tool.name} {tool.description} {tags_text(tool)}".lower()

    def refresh_table(self) -> None:
        table = self.query_one(DataTable)
        selected = self.selected()
        table.clear()
        shown = self.shown_tools()
        for tool in shown:
            state = "deprecated" if tool.deprecated else "active"
            env = ", ".join([*tool.envvars, *(f"{n}🔒" for n in tool.secret_envvars)])
            table.add_row(tool.name, str(len(self.active_versions.get(tool.id, []))), state, tags_text(tool), env, tool.description, key=tool.id)
        if selected and any(t.id == selected.id for t in shown):
            table.move_cursor(row=table.get_row_index(selected.id))
        hidden = len(self.tools) - len(shown)
        self.query_one("#status", Static).update(f"{len(shown)} of {len(self.tools)} tools" + (f" ({hidden} hidden by the filter)" if hidden else ""))

    @on(Input.Changed, "#filter")
    @on(Switch.Changed, "#show-deprecated")
    def filter_changed(self) -> None:
        self.refresh_table()

    @on(Input.Submitted, "#filter")
    def filter_done(self) -> None:
        self.query_one(DataTable).focus()

    def selected(self) -> ToolInstance | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((t for t in self.tools if t.id == key), None)

    # -- actions ------------------------------------------------------------------------------

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_reload(self) -> None:
        self.load()

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        tool = self.selected()
        if tool:
            from workbench.tui.screens.tool import ToolScreen

            self.app.push_screen(ToolScreen(tool))

    def action_create(self) -> None:
        fields = [Field("name", "Name (lowercase letters, digits and _)"), Field("description", "Description"), Field("tags", "Tags", placeholder="team=support, beta")]
        self.app.push_screen(FormDialog("New tool", fields, "Create"), self._create)

    def _create(self, values: dict[str, Any] | None) -> None:
        if values:
            self.run_service("Creating the tool", lambda s, org: s.create_tool(org, {"name": values["name"], "description": values["description"], "tags": parse_tags(values["tags"])}), f"created {values['name']}")

    def action_edit(self) -> None:
        tool = self.selected()
        if tool:
            fields = [Field("description", "Description", value=tool.description), Field("tags", "Tags (replace all)", value=tags_text(tool), placeholder="team=support, beta")]
            self.app.push_screen(FormDialog(f"Edit {tool.name}", fields, "Save"), lambda values: self._edit(tool, values))

    def _edit(self, tool: ToolInstance, values: dict[str, Any] | None) -> None:
        if values:
            self.run_service("Saving the tool", lambda s, org: s.modify_tool(org, tool.id, {"description": values["description"], "tags": parse_tags(values["tags"])}), f"saved {tool.name}")

    def action_deprecate(self) -> None:
        tool = self.selected()
        if tool and not tool.deprecated:
            versions = self.active_versions.get(tool.id, [])
            effect = (
                f"Its {len(versions)} active version(s) ({', '.join(versions)}) will be deprecated too and can no longer be invoked; their warm workers stop."
                if versions
                else "It has no active versions."
            )
            text = f"Deprecate {tool.name}? {effect} The name {tool.name!r} becomes free for a new tool. This cannot be undone."

            def deprecate(ok: bool | None) -> None:
                if ok:
                    self.run_service("Deprecating", lambda api, org: api.deprecate_tool(org, tool.id), f"deprecated {tool.name}")

            self.app.push_screen(ConfirmDialog("Deprecate tool", text, "Deprecate"), deprecate)

    @work(thread=True, group="tools-change", exit_on_error=False, description="Tools")
    def run_service(self, what: str, call: Callable[[ToolsApi, str], object], done: str) -> None:
        call(self.api, self.org)
        self.post_message(ToolsChangeDone(what, done))  # the list reloads on the workbench's event

    @on(ToolsChangeDone)
    def change_done(self, message: ToolsChangeDone) -> None:
        self.app.notify(message.done, title=message.title)

    def palette_commands(self):
        return [
            ("New tool", "Create a tool", self.action_create),
            ("Edit tool", "Change the selected tool's description and tags", self.action_edit),
            ("Deprecate tool", "Deprecate the selected tool and all its versions", self.action_deprecate),
            ("Reload tools", "Read the tools again", self.action_reload),
        ]
