"""A tool's screen: its versions, its environment variables, and invoking or testing it. The tool's
name stays in the context line and its description right under it, on every tab."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Static, TabbedContent, TabPane

from workbench.core.models import ToolInstance
from workbench.tui.commands import PaletteCommand
from workbench.tui.keys import key_for
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.screens.compare import CompareScreen
from workbench.tui.screens.envvars import EnvVarsPane
from workbench.tui.screens.insight import InsightPane
from workbench.tui.screens.invoke import InvokePane
from workbench.tui.screens.tools import tags_text
from workbench.tui.screens.versions import VersionsPane


class ToolScreen(WorkbenchScreen):
    """One tool: versions, env vars, invoke and test."""

    DEFAULT_CSS = """
    ToolScreen #tool-title { height: 1; padding: 0 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    ToolScreen TabbedContent { height: 1fr; }
    ToolScreen ContentSwitcher { height: 1fr; }
    ToolScreen TabPane { height: 1fr; padding: 0; }
    ToolScreen TabPane > * { height: 1fr; }
    """

    BINDING_GROUP_TITLE = "Tool"
    BINDINGS = [
        Binding("v", "tab('versions-tab')", "Versions", id="tool.versions"),
        Binding("e", "tab('env-tab')", "Env vars", id="tool.env"),
        Binding("i", "tab('invoke-tab')", "Invoke", id="tool.invoke"),
        Binding("t", "tab('insight-tab')", "Insight", id="tool.insight", tooltip="Statistics per version: latency, failures, output sizes, exceptions"),
        Binding("c", "compare", "Compare", id="tool.compare", tooltip="Run the same inputs on two versions and compare"),
        Binding("escape", "app.pop_screen", "Back", id="tool.back"),
        Binding("ctrl+x", "app.cancel_work", "Cancel", show=False, id="tool.cancel", tooltip="Stop waiting for what is running"),
    ]

    def __init__(self, tool: ToolInstance) -> None:
        super().__init__()
        self.tool = tool

    def context_label(self) -> str:
        return self.tool.name

    def compose_body(self) -> ComposeResult:
        parts = [self.tool.description or "(no description)"]
        if self.tool.tags:
            parts.append(f"tags {tags_text(self.tool)}")
        if self.tool.deprecated:
            parts.append("deprecated")
        yield Static(Content(" · ".join(parts)), id="tool-title")
        with TabbedContent(initial="versions-tab"):
            with TabPane("Versions", id="versions-tab"):
                yield VersionsPane(self.tool)
            with TabPane("Env vars", id="env-tab"):
                yield EnvVarsPane(self.tool.id)
            with TabPane("Invoke & test", id="invoke-tab"):
                yield InvokePane(self.tool.id, self.tool.name)
            with TabPane("Insight", id="insight-tab"):
                yield InsightPane(self.tool)

    def on_mount(self) -> None:
        self.query_one("#versions").focus()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_compare(self) -> None:
        self.app.push_screen(CompareScreen(self.tool))

    @on(TabbedContent.TabActivated)
    def focus_pane(self, event: TabbedContent.TabActivated) -> None:
        """Into the pane, so its keys work (and show in the footer) at once."""
        focusable = [w for w in event.pane.query("DataTable, TextArea") if w.focusable]
        if focusable:
            focusable[0].focus()
        if event.pane.id == "invoke-tab":
            self.query_one(InvokePane).load_targets()  # a version may have been published meanwhile

    def palette_commands(self) -> list[PaletteCommand]:
        versions, env, invoke = self.query_one(VersionsPane), self.query_one(EnvVarsPane), self.query_one(InvokePane)
        return [
            PaletteCommand.bound(versions, "Publish a version", "Build, check and publish from a branch", "publish"),
            PaletteCommand.bound(versions, "Deprecate versions", "Deprecate the versions matching a constraint", "deprecate"),
            PaletteCommand("Add environment variable", "A plain variable", lambda: env.action_add(False), key_for(EnvVarsPane, "add(False)")),
            PaletteCommand("Add secret", "A secret, typed into a password field", lambda: env.action_add(True), key_for(EnvVarsPane, "add(True)")),
            PaletteCommand.bound(env, "Update variable", "A new value for the selected variable", "update"),
            PaletteCommand.bound(env, "Delete variable", "Delete the selected variable", "delete"),
            PaletteCommand("Invoke", "Open the invoke tab", lambda: self.action_tab("invoke-tab"), key_for(ToolScreen, "tab('invoke-tab')")),
            PaletteCommand.bound(invoke, "Run", "Run the inputs against the chosen version or branch", "run"),
            PaletteCommand.bound(invoke, "Reset the input to the example", "From the input schema's examples and defaults", "example"),
            PaletteCommand("Insight", "Statistics per version", lambda: self.action_tab("insight-tab"), key_for(ToolScreen, "tab('insight-tab')")),
            PaletteCommand.bound(self, "Compare versions", "Run the same inputs on two versions and compare", "compare"),
            PaletteCommand("Back to the tools", "Close this tool", self.app.pop_screen, key_for(ToolScreen, "app.pop_screen")),
        ]
