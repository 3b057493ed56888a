"""The Tools screen: the organization's tools, filtered by text and tag; create, edit, deprecate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Checkbox, DataTable, Input, Static

from workbench.core.events import ToolsChanged, VersionPublished, VersionsDeprecated
from workbench.errors import WorkbenchError
from workbench.tui.commands import PaletteCommand
from workbench.tui.messages import FollowsWorkbench, WorkbenchChanged
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.sizes import WIDE
from workbench.tui.text import plural
from workbench.tui.widgets.activity import ActivityLoaded, activity_cell
from workbench.tui.widgets.dialogs import Field, FormDialog, confirm_then
from workbench.tui.widgets.tables import TableView

if TYPE_CHECKING:  # the tools arrive from a worker; the screen paints before the models load
    from workbench.core.insight_models import ToolActivity
    from workbench.core.models import ToolInstance
    from workbench.core.results import ToolSummary


WIDE_COLUMNS = ("Name", "Versions", "State", "Activity (14 d)", "Tags", "Env vars", "Description")
NARROW_COLUMNS = ("Name", "Versions", "Activity (14 d)", "Description")
MAX_COLUMN_WIDTH = 40


def cell_width(cell: str | Text) -> int:
    """Terminal cells the value takes (wide characters, such as the padlock, count two)."""
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


class ToolsLoaded(Message):
    """The org's tools with their active versions, read in a worker; when the org has none, the
    organizations that do (so the screen can say where the tools are)."""

    def __init__(self, org: str, summaries: list[ToolSummary], elsewhere: list[str]) -> None:
        super().__init__()
        self.org, self.summaries, self.elsewhere = org, summaries, elsewhere


class ToolsChangeDone(Message):
    """A change made from this screen succeeded; ``done`` says what it did."""

    def __init__(self, done: str) -> None:
        super().__init__()
        self.done = done


def tags_text(tool: ToolInstance) -> str:
    return ", ".join(f"{t.key}={t.value}" if t.value is not None else t.key for t in tool.tags)


def parse_tags(text: str) -> dict[str, str | None]:
    tags: dict[str, str | None] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition("=")
        tags[key.strip()] = value.strip() or None
    return tags


def matches(tool: ToolInstance, word: str) -> bool:
    """A filter word: text in the name, description or tags, or ``key:value`` (``key:*``) a tag."""
    if ":" in word:
        key, _, value = word.partition(":")
        return any(t.key.lower() == key and (value in ("*", "") or (t.value or "").lower() == value) for t in tool.tags)
    return word in f"{tool.name} {tool.description} {tags_text(tool)}".lower()


TAGS_ALLOWED = "key=value pairs or bare keys, separated by commas; letters, digits, _ and spaces"


class ToolsScreen(FollowsWorkbench, WorkbenchScreen):
    """Every tool of the organization with its description, tags and active versions."""

    BINDING_GROUP_TITLE = "Tools"
    BINDINGS = [
        Binding("enter", "open", "Open", show=False, id="tools.open", tooltip="Versions, env vars, invoke and test"),
        Binding("n", "create", "New", id="tools.new"),
        Binding("e", "edit", "Edit", id="tools.edit", tooltip="Description and tags"),
        Binding("d", "deprecate", "Deprecate", id="tools.deprecate"),
        Binding("slash", "focus_filter", "Filter", id="tools.filter"),
        Binding("escape", "leave_filter", "Leave filter", show=False, id="tools.leave_filter"),
        Binding("r", "reload", "Reload", show=False, id="tools.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.activity: dict[str, ToolActivity] | None = None
        """Each tool's recent activity; None until read (the list never waits for it)."""
        self.tools: list[ToolInstance] = []
        self.active_versions: dict[str, list[str]] = {}
        self.elsewhere: list[str] = []
        self.loaded = False
        self.wide: bool | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="bar"):
            yield Input(placeholder="/ filter: words, or tag key:value (key:* any value)", id="filter", compact=True)
            yield Checkbox("deprecated", False, id="show-deprecated", compact=True, tooltip="Show deprecated tools")
        yield TableView("tools")
        yield Static("", classes="status", id="status")

    def on_mount(self) -> None:
        self.load()
        self.query_one("#tools").focus()

    def on_resize(self, event: events.Resize) -> None:
        if (event.size.width >= WIDE) != self.wide:
            self.refresh_table()

    @on(WorkbenchChanged)
    def workbench_changed(self, message: WorkbenchChanged) -> None:
        """Tools, versions or variables changed, here or in another process: read them again."""
        if isinstance(message.event, ToolsChanged | VersionPublished | VersionsDeprecated):
            self.load()

    def organization_changed(self) -> None:
        self.tools, self.loaded = [], False
        self.query_one("#filter", Input).value = ""
        self.refresh_table()
        self.load()

    @work(thread=True, exclusive=True, group="tools", exit_on_error=False, description="Loading tools")
    def load(self) -> None:
        org = self.org
        summaries = self.api.tool_overview(org)
        elsewhere = [] if summaries else [o for o in self.api.list_organizations() if o != org]
        self.post_message(ToolsLoaded(org, summaries, elsewhere))

    @on(ToolsLoaded)
    def show(self, message: ToolsLoaded) -> None:
        if message.org != self.org:
            return  # read before an organization switch
        self.tools = [summary.tool for summary in message.summaries]
        self.active_versions = {summary.tool.id: summary.active_versions for summary in message.summaries}
        self.elsewhere, self.loaded = message.elsewhere, True
        self.refresh_table()
        self.load_activity(message.org)

    @work(thread=True, exclusive=True, group="tools-activity", exit_on_error=False, description="Reading the tools' activity")
    def load_activity(self, org: str) -> None:
        """The sparklines come after the list: the list never waits for them."""
        try:
            found = {activity.tool_id: activity for activity in self.api.tool_activity(org)}
        except WorkbenchError:
            found = {}  # a server without the workbench's extras (the hosted API): no sparklines, no alarm
        self.post_message(ActivityLoaded(found))

    @on(ActivityLoaded)
    def show_activity(self, message: ActivityLoaded) -> None:
        self.activity = message.activity
        self.refresh_table()

    def work_failed(self, worker: object, message: str) -> None:
        status = self.query_one("#status", Static)
        status.update(Content(f"could not read the tools: {message}"))
        status.add_class("-error")

    def shown_tools(self) -> list[ToolInstance]:
        text = self.query_one("#filter", Input).value.strip().lower()
        show_deprecated = self.query_one("#show-deprecated", Checkbox).value
        return [
            tool for tool in self.tools
            if (show_deprecated or not tool.deprecated) and all(matches(tool, word) for word in text.split())
        ]

    def refresh_table(self) -> None:
        view = self.query_one(TableView)
        table = view.table
        selected = table.selected_key()
        self.wide = self.size.width >= WIDE
        labels = WIDE_COLUMNS if self.wide else NARROW_COLUMNS
        cells = {tool.id: self.row_cells(tool) for tool in self.tools}
        table.clear(columns=True)
        # Widths fit every tool, shown or filtered out: columns stay put while the filter changes,
        # and the table looks the same however many refreshes led to it. The last one takes the rest.
        for index, label in enumerate(labels):
            if index == len(labels) - 1:
                table.add_column(label)
            else:
                widest = max((cell_width(row[index]) for row in cells.values()), default=0)
                table.add_column(label, width=min(MAX_COLUMN_WIDTH, max(len(label), widest)))
        shown = self.shown_tools()
        for tool in shown:
            table.add_row(*cells[tool.id], key=tool.id)
        if selected and any(t.id == selected for t in shown):
            table.move_cursor(row=table.get_row_index(selected))
        view.say_when_empty(self.empty_hint() if self.loaded else "Loading …")
        self.show_count(shown)

    def row_cells(self, tool: ToolInstance) -> tuple[str | Text, ...]:
        """A tool's row in the current layout."""
        versions = str(len(self.active_versions.get(tool.id, [])))
        if self.wide:
            env = ", ".join([*tool.envvars, *(f"{n}🔒" for n in tool.secret_envvars)])
            return (tool.name, versions, "deprecated" if tool.deprecated else "active", self.activity_of(tool), tags_text(tool), env, tool.description)
        return (tool.name, "deprecated" if tool.deprecated else versions, self.activity_of(tool), tool.description)

    def activity_of(self, tool: ToolInstance) -> Text:
        if self.activity is None:
            return Text("…", style="dim")
        return activity_cell(self.activity.get(tool.id))

    def empty_hint(self) -> str:
        if self.tools:
            return "No tool matches the filter — esc leaves it, or clear it to see every tool."
        hint = f"No tools in organization {self.org!r} yet — n creates one."
        if self.elsewhere:
            hint += f" Tools are in {', '.join(repr(o) for o in self.elsewhere[:5])}: ctrl+o switches organization."
        return hint

    def show_count(self, shown: list[ToolInstance]) -> None:
        status = self.query_one("#status", Static)
        status.remove_class("-error")
        if not self.loaded:
            status.update("")
            return
        show_deprecated = self.query_one("#show-deprecated", Checkbox).value
        hidden_deprecated = 0 if show_deprecated else sum(1 for t in self.tools if t.deprecated)
        filtered = len(self.tools) - len(shown) - hidden_deprecated
        parts = [f"{len(shown)} of {plural(len(self.tools), 'tool')}"]
        if hidden_deprecated:
            parts.append(f"{hidden_deprecated} deprecated hidden (the deprecated switch shows them)")
        if filtered:
            parts.append(f"{filtered} hidden by the filter")
        status.update(Content(" · ".join(parts)))

    @on(Input.Changed, "#filter")
    @on(Checkbox.Changed, "#show-deprecated")
    def filter_changed(self) -> None:
        self.refresh_table()

    @on(Input.Submitted, "#filter")
    def filter_done(self) -> None:
        self.query_one("#tools").focus()

    def selected(self) -> ToolInstance | None:
        key = self.query_one(TableView).table.selected_key()
        return next((t for t in self.tools if t.id == key), None)

    def selected_or_say(self, doing: str) -> ToolInstance | None:
        """The tool under the cursor; if there is none, say so instead of doing nothing."""
        tool = self.selected()
        if tool is None:
            self.app.notify(f"No tool to {doing}: the list is empty (n creates a tool).", severity="warning", timeout=4)
        return tool

    # -- actions ------------------------------------------------------------------------------

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_leave_filter(self) -> None:
        self.leave_input("#tools")

    def action_reload(self) -> None:
        self.load()

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        tool = self.selected()
        if tool:
            from workbench.tui.screens.tool import ToolScreen

            self.app.push_screen(ToolScreen(tool))

    def action_create(self) -> None:
        fields = [
            Field("name", "Name (lowercase letters, digits and _)", allowed="lowercase letters a-z, digits 0-9 and _ (e.g. order_status)"),
            Field("description", "Description"),
            Field("tags", "Tags", placeholder="team=support, beta", allowed=TAGS_ALLOWED),
        ]

        def create(values: dict[str, Any]) -> str:
            self.api.create_tool(self.org, {"name": values["name"], "description": values["description"], "tags": parse_tags(values["tags"])})
            return f"created {values['name']}"

        self.app.push_screen(FormDialog("New tool", fields, "Create", action=create), self.done)

    def action_edit(self) -> None:
        tool = self.selected_or_say("edit")
        if tool:
            fields = [
                Field("description", "Description", value=tool.description),
                Field("tags", "Tags (replace all)", value=tags_text(tool), placeholder="team=support, beta", allowed=TAGS_ALLOWED),
            ]

            def save(values: dict[str, Any]) -> str:
                self.api.modify_tool(self.org, tool.id, {"description": values["description"], "tags": parse_tags(values["tags"])})
                return f"saved {tool.name}"

            self.app.push_screen(FormDialog(f"Edit {tool.name}", fields, "Save", action=save), self.done)

    def done(self, result: object) -> None:
        if isinstance(result, str):
            self.app.notify(result, title="Tools", timeout=4)  # the list reloads on the workbench's event

    def action_deprecate(self) -> None:
        tool = self.selected_or_say("deprecate")
        if tool is None:
            return
        if tool.deprecated:
            self.app.notify(f"{tool.name} is already deprecated.", severity="warning", timeout=4)
            return
        versions = self.active_versions.get(tool.id, [])
        effect = (
            f"Its {plural(len(versions), 'active version')} ({', '.join(versions)}) will be deprecated too and can no longer be invoked; their warm workers stop."
            if versions
            else "It has no active versions."
        )
        text = f"Deprecate {tool.name}? {effect} The name {tool.name!r} becomes free for a new tool. This cannot be undone."
        confirm_then(self.app, "Deprecate tool", text, "Deprecate", lambda: self.deprecate(tool))

    @work(thread=True, group="tools-change", exit_on_error=False, description="Deprecating the tool")
    def deprecate(self, tool: ToolInstance) -> None:
        deprecated = self.api.deprecate_tool(self.org, tool.id)
        also = f" and {plural(len(deprecated), 'version')} ({', '.join(deprecated)})" if deprecated else " (it had no active versions)"
        self.post_message(ToolsChangeDone(f"deprecated {tool.name}{also}"))

    @on(ToolsChangeDone)
    def change_done(self, message: ToolsChangeDone) -> None:
        self.done(message.done)

    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand.bound(self, "Open tool", "Versions, env vars, invoke and test", "open"),
            PaletteCommand.bound(self, "New tool", "Create a tool", "create"),
            PaletteCommand.bound(self, "Edit tool", "Change the selected tool's description and tags", "edit"),
            PaletteCommand.bound(self, "Deprecate tool", "Deprecate the selected tool and all its versions", "deprecate"),
            PaletteCommand.bound(self, "Filter tools", "By words, or tag key:value", "focus_filter"),
            PaletteCommand.bound(self, "Reload tools", "Read the tools again", "reload"),
        ]
