"""One invocation in full: source, inputs, output or exception with stack trace, logs."""

from __future__ import annotations

import json

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from workbench.core.models import ToolInvocationInstance


def render_invocation(inv: ToolInvocationInstance, tool_name: str) -> str:
    status = inv.invocation_status
    lines = [
        f"[b]{escape(tool_name)} {inv.tool_version}[/]   {inv.created_at:%Y-%m-%d %H:%M:%S} UTC   {inv.duration_ms} ms   id {inv.id}",
        f"[b]source[/] {escape(json.dumps(inv.invocation_source.model_dump(mode='json')))}",
        "",
        "[b]inputs[/]",
        escape(json.dumps(inv.inputs, indent=2)),
        "",
    ]
    if status.succeeded:
        try:
            body = json.dumps(json.loads(status.output), indent=2)
        except ValueError:
            body = status.output
        lines += [f"[b $success]output[/] ({len(status.output):,} characters)", escape(body)]
    else:
        lines += [f"[b $error]{escape(status.exception_type)}[/]: {escape(status.exception_message)}", "", "[b]stack trace[/]"]
        lines += [escape(line) for line in status.exception_stack_trace]
    lines += ["", f"[b]logs[/] ({len(inv.logs)} lines)"] + [escape(line) for line in inv.logs]
    return "\n".join(lines)


class InvocationDetailScreen(Screen[None]):
    BINDING_GROUP_TITLE = "Invocation"
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="detail.back")]

    def __init__(self, invocation: ToolInvocationInstance, tool_name: str) -> None:
        super().__init__()
        self.invocation, self.tool_name = invocation, tool_name

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(render_invocation(self.invocation, self.tool_name), id="detail")
        yield Footer()
