"""Replaying an invocation: its recorded input runs again (same mode and variables) on its
version or another one, and the result is shown beside the original with what changed. The
replay is recorded like any invocation; what was masked when recorded is said, not hidden."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker

from workbench.core.insight_models import ReplayResult
from workbench.core.insight_text import ratio
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.widgets.runs import changes_text, run_text, verdict_text


class Replayed(Message):
    def __init__(self, result: ReplayResult) -> None:
        super().__init__()
        self.result = result


class ReplayScreen(WorkbenchScreen):
    """One invocation replayed, the original on the left, the replay on the right."""

    BINDING_GROUP_TITLE = "Replay"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="replay.back"),
        Binding("r", "again", "Again", id="replay.again", tooltip="Replay once more"),
    ]
    DEFAULT_CSS = """
    ReplayScreen #replay-status { height: auto; padding: 0 1; }
    ReplayScreen #sides { height: 1fr; }
    ReplayScreen #sides > VerticalScroll { width: 1fr; border: round $primary; padding: 0 1; }
    ReplayScreen #replay-diff { height: auto; max-height: 12; padding: 0 1; }
    """

    def __init__(self, invocation_id: str, version: str | None = None) -> None:
        super().__init__()
        self.invocation_id, self.version = invocation_id, version
        self.result: ReplayResult | None = None

    def context_label(self) -> str:
        return f"replay of {self.invocation_id}"

    def compose_body(self) -> ComposeResult:
        yield Static(f"replaying {self.invocation_id} …", id="replay-status")
        with Horizontal(id="sides"):
            with VerticalScroll(id="original-side"):
                yield Static("", id="original")
            with VerticalScroll(id="replay-side"):
                yield Static("", id="replayed")
        yield Static("", id="replay-diff")

    def on_mount(self) -> None:
        self.query_one("#original-side").border_title = "original"
        self.query_one("#replay-side").border_title = "replay"
        self.replay()

    def action_again(self) -> None:
        self.query_one("#replay-status", Static).update(f"replaying {self.invocation_id} …")
        self.replay()

    @work(thread=True, exclusive=True, group="replay", exit_on_error=False, description="Replaying")
    def replay(self) -> None:
        self.post_message(Replayed(self.api.replay_invocation(self.org, self.invocation_id, {"version": self.version})))

    @on(Replayed)
    def show(self, message: Replayed) -> None:
        result = self.result = message.result
        status = Text.assemble(("verdict: ", "bold"), verdict_text(result.verdict), f" · the replay took {ratio(result.duration_ratio)} the original's time")
        for note in result.notes:
            status.append(f"\nnote: {note}", style="dim")
        self.query_one("#replay-status", Static).update(status)
        self.query_one("#original", Static).update(run_text(result.original))
        self.query_one("#replayed", Static).update(run_text(result.replay))
        self.query_one("#replay-diff", Static).update(changes_text(result.changes))

    def work_failed(self, worker: Worker[object], message: str) -> None:
        """Said where the replay was to be shown, not only in a toast."""
        if worker.group == "replay":
            self.query_one("#replay-status", Static).update(Text(f"the replay failed: {message}", style="bold red"))
