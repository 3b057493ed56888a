"""The workbench app: modes for tools, invocation history and search; workers for everything
slow, posting typed messages; errors as notifications; themes as data; help on F1 and ?."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import get_current_worker

from workbench.core.api import ToolsApi
from workbench.errors import WorkbenchError
from workbench.settings import Settings
from workbench.tui.commands import WorkbenchCommands
from workbench.tui.errors import ReportsWorkerErrors
from workbench.tui.screens.invocations import InvocationsScreen
from workbench.tui.screens.search import SearchScreen
from workbench.tui.screens.tools import ToolsScreen
from workbench.tui.themes import DEFAULT_THEME, builtin_theme_dir, load_themes, remember_theme, remembered_theme


class IndexRebuilt(Message):
    """The search index was rebuilt with ``count`` invocations."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count


class IndexRebuildProgress(Message):
    """``done`` of ``total`` invocations indexed so far."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done, self.total = done, total


@dataclass(frozen=True)
class Notice:
    """Something the app told the user in a notification; kept after the toast fades."""

    message: str
    title: str
    severity: str
    at: datetime


class WorkbenchApp(ReportsWorkerErrors, App[None]):
    """Tool Workbench in the terminal."""

    TITLE = "Tool Workbench"
    CSS = """
    .bar { height: auto; padding: 0 1; }
    .bar > Input { width: 1fr; }
    .bar > Static { width: auto; padding: 1 0 0 1; }
    .bar > Switch { width: auto; }
    .muted { color: $text-muted; }
    .status { height: 1; padding: 0 1; color: $text-muted; }
    DataTable { height: 1fr; }
    #filters { height: auto; }
    #filters > Select { width: 1fr; }
    #fields { height: 7; width: 46; }
    #hits { height: 1fr; }
    #hits > .option-list--option { padding: 0 1; }
    """
    COMMANDS = App.COMMANDS | {WorkbenchCommands}
    MODES = {"tools": ToolsScreen, "invocations": InvocationsScreen, "search": SearchScreen}
    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help"),
        Binding("question_mark", "help", "Help", show=False, id="app.help_key"),
        Binding("f2", "switch_mode('tools')", "Tools", id="app.tools", tooltip="The organization's tools"),
        Binding("f3", "switch_mode('invocations')", "History", id="app.history", tooltip="Invocation history"),
        Binding("f4", "switch_mode('search')", "Search", id="app.search", tooltip="Full-text search of invocations"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        service: ToolsApi,
        org: str | None = None,
        *,
        theme_dirs: list[Path] | None = None,
        config: Path | None = None,
        background_work: bool = True,
    ) -> None:
        """``service`` is the workbench to show (local or remote); tests hand in one over their
        own data directory and clock."""
        super().__init__()
        self.service = service
        self.settings: Settings = service.settings
        self.org = org or self.settings.org
        self.config = config or self.settings.config_dir()
        self.theme_dirs = theme_dirs if theme_dirs is not None else [builtin_theme_dir(), self.config / "themes"]
        self.background_work = background_work
        self.sub_title = f"organization {self.org}"
        self.notices: deque[Notice] = deque(maxlen=200)
        """What the app has told the user, newest last (toasts fade; this stays)."""

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information", timeout: float | None = None, markup: bool = True) -> None:
        """Show a toast, and keep it in :attr:`notices`."""
        self.notices.append(Notice(message, title, severity, datetime.now(UTC)))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def on_mount(self) -> None:
        themes, problems = load_themes(self.theme_dirs)
        for theme in themes:
            self.register_theme(theme)
        for problem in problems:
            self.notify(problem, title="Theme", severity="warning", timeout=10)
        wanted = remembered_theme(self.config) or DEFAULT_THEME
        self.theme = wanted if wanted in self.available_themes else "textual-dark"
        if self.background_work:
            self.service.start_background_work()
        self.switch_mode("tools")

    def on_unmount(self) -> None:
        if self.background_work:
            self.service.stop_background_work()

    def watch_theme(self, name: str) -> None:
        if self.is_running:
            remember_theme(self.config, name)

    # -- actions ------------------------------------------------------------------------------

    def action_help(self) -> None:
        from workbench.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_cancel_work(self) -> None:
        """Stop waiting for the current screen's background work."""
        cancelled = [w for w in self.screen.workers if w.is_running]
        self.screen.workers.cancel_all()
        self.notify(f"cancelled {len(cancelled)} task(s)" if cancelled else "nothing to cancel", timeout=3)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Tools", "The organization's tools (F2)", lambda: self.switch_mode("tools"))
        yield SystemCommand("History", "Invocation history (F3)", lambda: self.switch_mode("invocations"))
        yield SystemCommand("Search", "Full-text search of invocations (F4)", lambda: self.switch_mode("search"))
        yield SystemCommand("Rebuild search index", "Rebuild the full-text index from the log", self.rebuild_index)
        for name in sorted(self.available_themes):
            if name.startswith("workbench"):
                yield SystemCommand(f"Theme: {name}", "Switch to this theme (remembered)", lambda n=name: setattr(self, "theme", n))

    @work(thread=True, exclusive=True, group="index", exit_on_error=False, description="Rebuilding the search index")
    def rebuild_index(self) -> None:
        worker = get_current_worker()
        last = [0]

        def progress(done: int, total: int) -> None:
            if worker.is_cancelled:
                raise WorkbenchError("rebuild cancelled; the index is rebuilt on the next search")
            if done - last[0] >= 2000 or done == total:
                last[0] = done
                self.post_message(IndexRebuildProgress(done, total))

        self.post_message(IndexRebuilt(self.service.rebuild_index(progress)))

    @on(IndexRebuildProgress)
    def show_rebuild_progress(self, message: IndexRebuildProgress) -> None:
        self.notify(f"indexed {message.done:,} of {message.total:,}", title="Search index", timeout=2)

    @on(IndexRebuilt)
    def show_rebuilt(self, message: IndexRebuilt) -> None:
        self.notify(f"search index rebuilt: {message.count:,} invocations", title="Search index")


def make_app(settings: Settings, org: str | None = None) -> WorkbenchApp:
    """The app over the workbench the settings name: a data directory, or a server in remote mode."""
    from workbench.connect import open_api

    return WorkbenchApp(open_api(settings, org), org, background_work=settings.remote is None)
