"""Publishing with its stages shown live: resolve, export, validate, build, checks, record."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Label, RichLog, Static

from workbench.core.results import STAGES, StageEvent
from workbench.tui.errors import describe_error
from workbench.tui.uses_api import UsesApi
from workbench.tui.widgets.dialogs import DIALOG_CSS


class StageReported(Message):
    """A stage of the running publish started, passed, failed or printed a line."""

    def __init__(self, event: StageEvent) -> None:
        super().__init__()
        self.event = event


class PublishFinished(Message):
    """The publish ended: with the new version, or with the error."""

    def __init__(self, version: str | None, error: str) -> None:
        super().__init__()
        self.version, self.error = version, error


ICONS = {"pending": "·", "running": "▶", "passed": "✓", "failed": "✗"}


class PublishScreen(UsesApi, ModalScreen[str | None]):
    """Runs the publish in a worker and shows each stage as it happens; a failure says which
    stage failed and why. Dismisses with the new version, or None."""

    SCOPED_CSS = False  # its rules name the screen's size classes (Screen.-short ...)

    DEFAULT_CSS = DIALOG_CSS + """
    PublishScreen .dialog { width: 100; }
    PublishScreen RichLog { height: 16; border: round $panel; }
    PublishScreen.-short RichLog { height: 1fr; min-height: 4; }
    PublishScreen.-short .dialog { height: 100%; }
    PublishScreen #stages { height: auto; margin-bottom: 1; }
    PublishScreen.-short #stages { margin-bottom: 0; }
    PublishScreen #outcome { height: auto; }
    """
    BINDINGS = [Binding("escape", "close", "Close", id="publish.close"), Binding("ctrl+x", "app.cancel_work", "Stop waiting", id="publish.cancel")]

    def __init__(self, tool_id: str, tool_name: str, request: dict[str, Any], branch: str | None) -> None:
        super().__init__()
        self.tool_id, self.tool_name, self.request, self.branch = tool_id, tool_name, request, branch
        self.states = {stage: "pending" for stage in STAGES}
        self.result: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Content(f"Publishing {self.tool_name} ({self.request['bump_type']} bump of {self.request['project_path']} from {self.branch})"), classes="title")
            yield Static(self.stage_line(), id="stages")
            yield RichLog(id="output", wrap=True, markup=False)
            yield Static("", id="outcome")
            yield Button("Close", id="close", compact=True)

    def stage_line(self) -> Content:
        return Content("   ".join(f"{ICONS[self.states[s]]} {s}" for s in STAGES))

    def on_mount(self) -> None:
        self.publish()

    @work(thread=True, exclusive=True, group="publish", exit_on_error=False, description="Publishing")
    def publish(self) -> None:
        def on_stage(event: StageEvent) -> None:
            self.post_message(StageReported(event))

        try:
            response = self.api.publish_version(self.org, self.tool_id, self.request, branch=self.branch, on_stage=on_stage)
        except Exception as error:  # noqa: BLE001 - every failure ends the dialog in a visible state
            self.post_message(PublishFinished(None, describe_error(error)))
            return
        self.post_message(PublishFinished(response.new_version, ""))

    @on(StageReported)
    def show_event(self, message: StageReported) -> None:
        event = message.event
        log = self.query_one(RichLog)
        if event.state == "output":
            log.write(f"  {event.detail}")
            return
        self.states[event.stage] = event.state if event.state in ICONS else "passed"
        if event.state == "running":
            log.write(f"» {event.stage}")
        self.query_one("#stages", Static).update(self.stage_line())

    @on(PublishFinished)
    def show_outcome(self, message: PublishFinished) -> None:
        version, error = message.version, message.error
        self.result = version
        outcome = self.query_one("#outcome", Static)
        if version:
            outcome.update(Content.from_markup("[b $text-success]published $tool $version[/]", tool=self.tool_name, version=version))
        else:
            failed = next((s for s in STAGES if self.states[s] in ("failed", "running")), None)
            if failed:
                self.states[failed] = "failed"
                self.query_one("#stages", Static).update(self.stage_line())
            outcome.update(Content.from_markup("[b $text-error]$stage[/]$error", stage=f"stage {failed} failed: " if failed else "", error=error))
        self.query_one(Button).focus()

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(self.result)
