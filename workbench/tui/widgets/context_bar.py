"""The line at the top of every screen: where you are (organization, tool), what runs tools
(Docker or processes, sandboxed or not, or a remote server), long work in progress as one bar,
and how many errors are waiting in the messages."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Label, ProgressBar, Static

from workbench.tui.keys import key_for
from workbench.tui.progress import WorkProgress
from workbench.tui.text import plural


class Where(Static):
    """Organization › tool; a click opens the organization switcher."""

    async def on_click(self, event: events.Click) -> None:
        await self.app.run_action("switch_organization")


class ContextBar(Horizontal):
    """Follows the app's ``org``, ``runtime``, ``progress`` and ``unread_errors``."""

    DEFAULT_CSS = """
    ContextBar { dock: top; height: 1; background: $panel; }
    ContextBar > Where { width: 1fr; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    ContextBar > #ctx-work-label { width: auto; display: none; padding: 0 1 0 0; color: $text-muted; }
    ContextBar > ProgressBar { width: auto; display: none; }
    ContextBar > ProgressBar > Bar { width: 16; }
    ContextBar.-working > #ctx-work-label, ContextBar.-working > ProgressBar { display: block; }
    ContextBar > #ctx-alerts { width: auto; color: $text-error; padding: 0 1; }
    ContextBar > #ctx-runtime { width: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, context: str = "") -> None:
        super().__init__()
        self.context = context

    def compose(self) -> ComposeResult:
        yield Where(id="ctx-where")
        yield Label(id="ctx-work-label")
        yield ProgressBar(id="ctx-work", show_eta=False)
        yield Label(id="ctx-alerts")
        yield Label(id="ctx-runtime")

    def on_mount(self) -> None:
        app = self.app
        self.watch(app, "org", self.show_where)
        self.watch(app, "runtime", self.show_runtime)
        self.watch(app, "progress", self.show_work)
        self.watch(app, "unread_errors", self.show_alerts)

    def show_where(self, org: str) -> None:
        parts: list[str | tuple[str, str]] = [("org ", "dim"), (org, "bold")]
        if self.context:
            parts += [("  ›  ", "dim"), (self.context, "bold")]
        self.query_one(Where).update(Content.assemble(*parts))

    def show_runtime(self, runtime: str) -> None:
        self.query_one("#ctx-runtime", Label).update(Content(runtime))

    def show_work(self, work: WorkProgress | None) -> None:
        self.set_class(work is not None, "-working")
        if work is not None:
            self.query_one("#ctx-work-label", Label).update(Content(work.label))
            self.query_one(ProgressBar).update(total=max(work.total, 1), progress=work.done)

    def show_alerts(self, count: int) -> None:
        key = key_for(type(self.app), "messages")
        self.query_one("#ctx-alerts", Label).update(Content(f"⚠ {plural(count, 'error')} · {key}" if count else ""))
