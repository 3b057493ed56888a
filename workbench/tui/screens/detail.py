"""One invocation in full: source, inputs, output or exception with stack trace, logs."""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from workbench.core.models import ToolInvocationInstance
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.widgets.results import pretty


def render_invocation(inv: ToolInvocationInstance, tool_name: str) -> Content:
    """The invocation as the detail view shows it; every piece of data shown as it is."""
    status = inv.invocation_status
    lines = [
        Content.from_markup(
            "[b]$tool $version[/]   $created UTC   $ms   id $id",
            tool=tool_name, version=str(inv.tool_version), created=f"{inv.created_at:%Y-%m-%d %H:%M:%S}", ms=f"{inv.duration_ms} ms", id=inv.id,
        ),
        Content.from_markup("[b]source[/] $source", source=json.dumps(inv.invocation_source.model_dump(mode="json"))),
        Content(""),
        Content.from_markup("[b]inputs[/]"),
        Content(json.dumps(inv.inputs, indent=2)),
        Content(""),
    ]
    if status.succeeded:
        lines += [Content.from_markup("[b $text-success]output[/] ($size characters)", size=f"{len(status.output):,}"), Content(pretty(status.output))]
    else:
        lines += [
            Content.from_markup("[b $text-error]$type[/]: $message", type=status.exception_type, message=status.exception_message),
            Content(""),
            Content.from_markup("[b]stack trace[/]"),
        ]
        lines += [Content(line) for line in status.exception_stack_trace]
    lines += [Content(""), Content.from_markup("[b]logs[/] ($count lines)", count=str(len(inv.logs)))] + [Content(line) for line in inv.logs]
    return Content("\n").join(lines)


class InvocationDetailScreen(WorkbenchScreen):
    """An invocation from the history or a search, in full."""

    BINDING_GROUP_TITLE = "Invocation"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="detail.back"),
        Binding("r", "replay", "Re-run", id="detail.replay", tooltip="Run these inputs again and compare with this result"),
    ]

    def action_replay(self) -> None:
        from workbench.tui.screens.replay import ReplayScreen

        self.app.push_screen(ReplayScreen(self.invocation.id))

    def __init__(self, invocation: ToolInvocationInstance, tool_name: str) -> None:
        super().__init__()
        self.invocation, self.tool_name = invocation, tool_name

    def context_label(self) -> str:
        return f"{self.tool_name} {self.invocation.tool_version} · invocation {self.invocation.id}"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="detail-scroll", can_focus=True):
            yield Static(render_invocation(self.invocation, self.tool_name), id="detail")

    def on_mount(self) -> None:
        self.query_one("#detail-scroll").focus()
