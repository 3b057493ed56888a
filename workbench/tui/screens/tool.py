"""A tool's screen: its versions, its environment variables, and invoking or testing it."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from workbench.core.events import VersionPublished, VersionsDeprecated
from workbench.core.models import ToolInstance, ToolVersionInstance
from workbench.tui.messages import FollowsWorkbench, WorkbenchChanged
from workbench.tui.screens.envvars import EnvVarsPane
from workbench.tui.screens.invoke import InvokePane
from workbench.tui.screens.publish import PublishScreen
from workbench.tui.widgets.dialogs import ConfirmDialog, Field, FormDialog
from workbench.tui.errors import ReportsWorkerErrors


class VersionsLoaded(Message):
    def __init__(self, versions: list[ToolVersionInstance], max_active: int) -> None:
        super().__init__()
        self.versions, self.max_active = versions, max_active


class BranchesLoaded(Message):
    def __init__(self, branches: list[str]) -> None:
        super().__init__()
        self.branches = branches


class DeprecationPreview(Message):
    def __init__(self, constraint: str, matches: list[ToolVersionInstance]) -> None:
        super().__init__()
        self.constraint, self.matches = constraint, matches


class VersionsPane(ReportsWorkerErrors, FollowsWorkbench, Vertical):
    """The versions tab: every version with its commit, creator and requirements."""

    BINDING_GROUP_TITLE = "Versions"
    BINDINGS = [
        Binding("p", "publish", "Publish", id="versions.publish"),
        Binding("x", "deprecate", "Deprecate…", id="versions.deprecate", tooltip="Deprecate the versions matching a constraint"),
    ]

    def __init__(self, tool: ToolInstance) -> None:
        super().__init__()
        self.tool = tool
        self.versions: list[ToolVersionInstance] = []

    def compose(self) -> ComposeResult:
        yield DataTable(id="versions", cursor_type="row", zebra_stripes=True)
        yield Static("", classes="status", id="versions-status")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Version", "Commit", "Created", "Creator", "Requires", "Path", "State")
        self.load()

    @work(thread=True, exclusive=True, group="versions", exit_on_error=False, description="Loading versions")
    def load(self) -> None:
        service = self.api
        response = service.list_versions(self.org, self.tool.id, {"sort_by": ["-created_at"]})
        self.post_message(VersionsLoaded(response.tool_versions, service.limits().max_active_versions))

    @on(WorkbenchChanged)
    def versions_changed(self, message: WorkbenchChanged) -> None:
        event = message.event
        if isinstance(event, VersionPublished | VersionsDeprecated) and event.tool_id == self.tool.id:
            self.load()
            if isinstance(event, VersionsDeprecated):
                self.app.notify(f"deprecated {', '.join(event.versions)}", title=self.tool.name)

    @on(VersionsLoaded)
    def show(self, message: VersionsLoaded) -> None:
        versions = self.versions = message.versions
        table = self.query_one(DataTable)
        table.clear()
        for v in versions:
            requires = ", ".join([*v.required_envvars, *(f"{n}🔒" for n in v.required_secret_envvars)]) or "-"
            table.add_row(str(v.version), v.tool_commit_hash[:10], f"{v.created_at:%Y-%m-%d %H:%M}", v.creator.user_id, requires, v.project_directory, "deprecated" if v.deprecated else "active", key=v.id)
        active = sum(1 for v in versions if not v.deprecated)
        self.query_one("#versions-status", Static).update(f"{active} active of at most {message.max_active} · {len(versions)} in all")

    def action_publish(self) -> None:
        self.open_publish_form()

    @work(thread=True, exclusive=True, group="publish-form", exit_on_error=False, description="Reading the tools repository")
    def open_publish_form(self) -> None:
        self.post_message(BranchesLoaded(self.api.repo_branches()))

    @on(BranchesLoaded)
    def _publish_form(self, message: BranchesLoaded) -> None:
        branches = message.branches
        newest = self.versions[0].project_directory if self.versions else self.tool.name
        first = not self.versions
        fields = [
            Field("branch", "Branch", kind="select", options=[(b, b) for b in branches], value="main" if "main" in branches else (branches[0] if branches else "")),
            Field("project_path", "Project directory", value=newest),
            Field("bump_type", "Bump", kind="select", options=[(b, b) for b in ("major", "minor", "patch")], value="major" if first else "patch"),
        ]
        note = "The first version is 1.0.0." if first else f"Newest: {self.versions[0].version}."
        self.app.push_screen(FormDialog(f"Publish {self.tool.name}", fields, "Publish", note), self._publish)

    def _publish(self, values: dict[str, Any] | None) -> None:
        if values:
            request = {"repo": "main", "project_path": values["project_path"], "bump_type": values["bump_type"]}
            self.app.push_screen(PublishScreen(self.tool.id, self.tool.name, request, values["branch"]))

    def action_deprecate(self) -> None:
        field = Field("constraint", "PEP 440 constraint", placeholder=">=1.0,<2  or  1.0.0")
        self.app.push_screen(FormDialog(f"Deprecate versions of {self.tool.name}", [field], "Preview"), self._preview)

    def _preview(self, values: dict[str, Any] | None) -> None:
        if values:
            self.preview(values["constraint"])

    @work(thread=True, exclusive=True, group="deprecate", exit_on_error=False, description="Deprecating versions")
    def preview(self, constraint: str) -> None:
        matches = [v for v in self.api.matching_versions(self.org, self.tool.id, constraint) if not v.deprecated]
        self.post_message(DeprecationPreview(constraint, matches))

    @on(DeprecationPreview)
    def _confirm(self, message: DeprecationPreview) -> None:
        constraint, matches = message.constraint, message.matches
        if not matches:
            self.app.notify(f"no active version matches {constraint!r}", severity="warning")
            return
        labels = ", ".join(str(v.version) for v in matches)
        text = f"{constraint!r} matches {labels}. They will be deprecated: no new invocations, their warm workers stop. This cannot be undone."

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.deprecate(constraint)

        self.app.push_screen(ConfirmDialog("Deprecate versions", text, "Deprecate"), confirmed)

    @work(thread=True, group="deprecate", exit_on_error=False, description="Deprecating versions")
    def deprecate(self, constraint: str) -> None:
        self.api.deprecate_versions(self.org, self.tool.id, constraint)  # the table follows the event


class ToolScreen(Screen[None]):
    """One tool: versions, env vars, invoke and test."""

    DEFAULT_CSS = "#tool-title { height: 1; padding: 0 1; margin-bottom: 1; }"

    BINDING_GROUP_TITLE = "Tool"
    BINDINGS = [
        Binding("v", "tab('versions-tab')", "Versions", id="tool.versions"),
        Binding("e", "tab('env-tab')", "Env vars", id="tool.env"),
        Binding("i", "tab('invoke-tab')", "Invoke", id="tool.invoke"),
        Binding("escape", "app.pop_screen", "Back", id="tool.back"),
        Binding("ctrl+x", "app.cancel_work", "Cancel", id="tool.cancel", tooltip="Stop waiting for what is running"),
    ]

    def __init__(self, tool: ToolInstance) -> None:
        super().__init__()
        self.tool = tool

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"[b]{escape(self.tool.name)}[/]  {escape(self.tool.description)}", id="tool-title")
        with TabbedContent(initial="versions-tab"):
            with TabPane("Versions", id="versions-tab"):
                yield VersionsPane(self.tool)
            with TabPane("Env vars", id="env-tab"):
                yield EnvVarsPane(self.tool.id)
            with TabPane("Invoke & test", id="invoke-tab"):
                yield InvokePane(self.tool.id, self.tool.name)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#versions", DataTable).focus()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    @on(TabbedContent.TabActivated)
    def focus_pane(self, event: TabbedContent.TabActivated) -> None:
        """Into the pane, so its keys work (and show in the footer) at once."""
        focusable = [w for w in event.pane.query("DataTable, TextArea") if w.focusable]
        if focusable:
            focusable[0].focus()
        if event.pane.id == "invoke-tab":
            self.query_one(InvokePane).load_targets()  # a version may have been published meanwhile

    def palette_commands(self):
        versions, env = self.query_one(VersionsPane), self.query_one(EnvVarsPane)
        return [
            ("Publish a version", "Build, check and publish from a branch", versions.action_publish),
            ("Deprecate versions", "Deprecate the versions matching a constraint", versions.action_deprecate),
            ("Add environment variable", "A plain variable", lambda: env.action_add(False)),
            ("Add secret", "A secret, typed into a password field", lambda: env.action_add(True)),
            ("Invoke", "Open the invoke tab", lambda: setattr(self.query_one(TabbedContent), "active", "invoke-tab")),
        ]
