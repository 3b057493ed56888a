"""A tool's versions tab: every version with its commit, creator and requirements; publishing from
a branch (stages shown live) and deprecating by constraint after a preview."""

from __future__ import annotations

from typing import Any

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from workbench.core.events import VersionPublished, VersionsDeprecated
from workbench.core.models import ToolInstance, ToolVersionInstance
from workbench.errors import WorkbenchError
from workbench.tui.errors import ReportsWorkerErrors
from workbench.tui.messages import FollowsWorkbench, WorkbenchChanged
from workbench.tui.screens.publish import PublishScreen
from workbench.tui.sizes import WIDE
from workbench.tui.text import plural
from workbench.tui.widgets.dialogs import Field, FormDialog, confirm_then
from workbench.tui.widgets.tables import TableView


class VersionsLoaded(Message):
    """The tool's versions, newest first, and how many may be active."""

    def __init__(self, versions: list[ToolVersionInstance], max_active: int) -> None:
        super().__init__()
        self.versions, self.max_active = versions, max_active


class BranchesLoaded(Message):
    """The tools repository's branches, read for the publish form."""

    def __init__(self, branches: list[str]) -> None:
        super().__init__()
        self.branches = branches


class VersionsPane(ReportsWorkerErrors, FollowsWorkbench, Vertical):
    """The versions tab of a tool's screen."""

    BINDING_GROUP_TITLE = "Versions"
    BINDINGS = [
        Binding("p", "publish", "Publish", id="versions.publish", tooltip="Build, check and publish from a branch"),
        Binding("x", "deprecate", "Deprecate…", id="versions.deprecate", tooltip="Deprecate the versions matching a constraint"),
    ]

    def __init__(self, tool: ToolInstance) -> None:
        super().__init__()
        self.tool = tool
        self.versions: list[ToolVersionInstance] = []
        self.max_active = 0
        self.loaded = False
        self.wide: bool | None = None

    def compose(self) -> ComposeResult:
        yield TableView("versions")
        yield Static("", classes="status", id="versions-status")

    def on_mount(self) -> None:
        self.load()

    def on_resize(self, event: events.Resize) -> None:
        if (self.screen.size.width >= WIDE) != self.wide:
            self.show_versions()

    @work(thread=True, exclusive=True, group="versions", exit_on_error=False, description="Loading versions")
    def load(self) -> None:
        response = self.api.list_versions(self.org, self.tool.id, {"sort_by": ["-created_at"]})
        self.post_message(VersionsLoaded(response.tool_versions, self.api.limits().max_active_versions))

    def work_failed(self, worker: object, message: str) -> None:
        status = self.query_one("#versions-status", Static)
        status.update(Content(message))
        status.add_class("-error")

    @on(WorkbenchChanged)
    def versions_changed(self, message: WorkbenchChanged) -> None:
        event = message.event
        if isinstance(event, VersionPublished | VersionsDeprecated) and event.tool_id == self.tool.id:
            self.load()
            if isinstance(event, VersionsDeprecated):
                self.app.notify(f"deprecated {plural(len(event.versions), 'version')}: {', '.join(event.versions)}", title=self.tool.name)

    @on(VersionsLoaded)
    def show(self, message: VersionsLoaded) -> None:
        self.versions, self.max_active, self.loaded = message.versions, message.max_active, True
        self.show_versions()

    def show_versions(self) -> None:
        view = self.query_one(TableView)
        table = view.table
        self.wide = self.screen.size.width >= WIDE
        table.clear(columns=True)
        if self.wide:
            table.add_columns("Version", "Commit", "Created (UTC)", "Creator", "Requires", "Path", "State")
        else:
            table.add_columns("Version", "Commit", "Created (UTC)", "Requires", "State")
        for v in self.versions:
            requires = ", ".join([*v.required_envvars, *(f"{n}🔒" for n in v.required_secret_envvars)]) or "-"
            state = "deprecated" if v.deprecated else "active"
            if self.wide:
                table.add_row(str(v.version), v.tool_commit_hash[:10], f"{v.created_at:%Y-%m-%d %H:%M}", v.creator.user_id, requires, v.project_directory, state, key=v.id)
            else:
                table.add_row(str(v.version), v.tool_commit_hash[:7], f"{v.created_at:%m-%d %H:%M}", requires, state, key=v.id)
        view.say_when_empty("No versions yet — p publishes the first one (1.0.0) from a branch." if self.loaded else "Loading …")
        if self.loaded:
            active = sum(1 for v in self.versions if not v.deprecated)
            status = self.query_one("#versions-status", Static)
            status.remove_class("-error")
            status.update(Content(f"{active} active of at most {self.max_active} · {len(self.versions)} in all"))

    # -- publish ------------------------------------------------------------------------------

    def action_publish(self) -> None:
        self.open_publish_form()

    @work(thread=True, exclusive=True, group="publish-form", exit_on_error=False, description="Reading the tools repository")
    def open_publish_form(self) -> None:
        self.post_message(BranchesLoaded(self.api.repo_branches()))  # fresh: the repository may have changed

    @on(BranchesLoaded)
    def _publish_form(self, message: BranchesLoaded) -> None:
        branches = message.branches
        newest = self.versions[0].project_directory if self.versions else self.tool.name
        first = not self.versions
        fields = [
            Field("branch", "Branch", kind="select", options=[(b, b) for b in branches], value="main" if "main" in branches else (branches[0] if branches else "")),
            Field("project_path", "Project directory", value=newest, allowed="a directory of the tools repository with a pyproject.toml"),
            Field("bump_type", "Bump", kind="select", options=[(b, b) for b in ("major", "minor", "patch")], value="major" if first else "patch"),
        ]
        note = "The first version is 1.0.0." if first else f"Newest: {self.versions[0].version}."
        self.app.push_screen(FormDialog(f"Publish {self.tool.name}", fields, "Publish", note), self._publish)

    def _publish(self, values: dict[str, Any] | None) -> None:
        if values:
            request = {"repo": "main", "project_path": values["project_path"], "bump_type": values["bump_type"]}
            self.app.push_screen(PublishScreen(self.tool.id, self.tool.name, request, values["branch"]))

    # -- deprecate ----------------------------------------------------------------------------

    def action_deprecate(self) -> None:
        if self.loaded and not any(not v.deprecated for v in self.versions):
            self.app.notify(f"{self.tool.name} has no active versions to deprecate.", severity="warning", timeout=4)
            return
        field = Field("constraint", "PEP 440 constraint", placeholder=">=1.0,<2  or  1.0.0", allowed="a version (1.0.0) or PEP 440 specifiers such as >=1.0,<2 or ~=1.2")

        def preview(values: dict[str, Any]) -> tuple[str, list[ToolVersionInstance]]:
            constraint = values["constraint"].strip()
            matches = [v for v in self.api.matching_versions(self.org, self.tool.id, constraint) if not v.deprecated]
            if not matches:
                raise WorkbenchError(f"no active version matches {constraint!r}")
            return constraint, matches

        self.app.push_screen(FormDialog(f"Deprecate versions of {self.tool.name}", [field], "Preview", action=preview), self._confirm)

    def _confirm(self, previewed: tuple[str, list[ToolVersionInstance]] | None) -> None:
        if not previewed:
            return
        constraint, matches = previewed
        labels = ", ".join(str(v.version) for v in matches)
        text = f"{constraint!r} matches {plural(len(matches), 'active version')}: {labels}. They will be deprecated: no new invocations, their warm workers stop. This cannot be undone."
        confirm_then(self.app, "Deprecate versions", text, "Deprecate", lambda: self.deprecate(constraint))

    @work(thread=True, group="deprecate", exit_on_error=False, description="Deprecating versions")
    def deprecate(self, constraint: str) -> None:
        self.api.deprecate_versions(self.org, self.tool.id, constraint)  # the table follows the event
