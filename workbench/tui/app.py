"""The workbench app: modes for tools, invocation history and search; the organization it shows
(remembered, switchable); workers for everything slow, posting typed messages; errors shown where
they happened and kept in the messages; themes as data; help on F1 and ?."""

from __future__ import annotations

import importlib
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker

from workbench.core.events import IndexProgress
from workbench.tui.commands import WorkbenchCommands
from workbench.tui.errors import ReportsWorkerErrors
from workbench.tui.messages import FollowsWorkbench, ShowInvocationInHistory, ShowInvocations, WorkbenchChanged
from workbench.tui.progress import ProgressReporter, WorkProgress, WorkProgressed
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.screens.messages import MessagesScreen, Notice
from workbench.tui.screens.tools import ToolsLoaded, ToolsScreen
from workbench.tui.sizes import HORIZONTAL_BREAKPOINTS, VERTICAL_BREAKPOINTS
from workbench.tui.state import RememberedState, starting_organization
from workbench.tui.themes import DEFAULT_THEME, builtin_theme_dir, load_themes

if TYPE_CHECKING:
    from workbench.core.api import ToolsApi
    from workbench.core.models import ToolInvocationInstance
    from workbench.settings import Settings


class IndexRebuilt(Message):
    """The search index was rebuilt with ``count`` invocations."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count


class RuntimeRead(Message):
    """What runs tools here, in a few words."""

    def __init__(self, summary: str) -> None:
        super().__init__()
        self.summary = summary


class OrganizationPicked(Message):
    """The organization to open, chosen after the app started (none was asked for)."""

    def __init__(self, org: str) -> None:
        super().__init__()
        self.org = org


RUNTIME_UNKNOWN = "runtime …"
FIRST_SCREEN_GRACE = 2.0  # seconds: deferred work starts by then even if the first list is slow
REBUILDING = "rebuilding the search index"
INDEXING = "indexing new invocations"
BACKLOG_SHOWN = 1000  # a smaller backlog is indexed before a bar would be worth showing


def runtime_summary(report: object) -> str:
    """``runtime: Docker, sandboxed`` from the service's runtime report (read defensively: the
    report gains fields over time)."""
    active = str(getattr(report, "active", "unknown"))
    name = {"docker": "Docker", "process": "processes"}.get(active, active)
    sandboxed = getattr(report, "sandboxed", None)
    return f"runtime: {name}" + ("" if sandboxed is None else ", sandboxed" if sandboxed else ", NOT sandboxed")


def later_screen(module: str, name: str) -> Callable[[], Screen[object]]:
    """A mode's screen, its module imported when the mode is first shown: the first screen
    paints without waiting for the others' imports."""

    def make() -> Screen[object]:
        screen: Screen[object] = getattr(importlib.import_module(f"workbench.tui.screens.{module}"), name)()
        return screen

    return make


class InvocationOpened(Message):
    """An invocation read for showing in full."""

    def __init__(self, invocation: ToolInvocationInstance, tool_name: str) -> None:
        super().__init__()
        self.invocation, self.tool_name = invocation, tool_name


class WorkbenchApp(ReportsWorkerErrors, FollowsWorkbench, App[None]):
    """Tool Workbench in the terminal."""

    TITLE = "Tool Workbench"
    CSS = """
    .bar { height: auto; padding: 0 1; }
    .bar > Input { width: 1fr; }
    .bar > Select { width: 1fr; }
    .bar > Checkbox { width: auto; }
    .muted { color: $text-muted; }
    .status { height: 1; padding: 0 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    .status.-error { color: $text-error; height: auto; max-height: 4; text-wrap: wrap; }
    """
    HORIZONTAL_BREAKPOINTS = HORIZONTAL_BREAKPOINTS
    VERTICAL_BREAKPOINTS = VERTICAL_BREAKPOINTS
    COMMANDS = App.COMMANDS | {WorkbenchCommands}
    MODES = {
        "tools": ToolsScreen,
        "invocations": later_screen("invocations", "InvocationsScreen"),
        "search": later_screen("search", "SearchScreen"),
        "simulations": later_screen("simulations", "SimulationsScreen"),
    }
    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help", key_display="F1", tooltip="The keys of every screen"),
        Binding("question_mark", "help", "Help", show=False, id="app.help_key"),
        Binding("f2", "switch_mode('tools')", "Tools", id="app.tools", key_display="F2", tooltip="The organization's tools"),
        Binding("f3", "switch_mode('invocations')", "History", id="app.history", key_display="F3", tooltip="Invocation history"),
        Binding("f4", "switch_mode('search')", "Search", id="app.search", key_display="F4", tooltip="Full-text search of invocations"),
        Binding("ctrl+o", "switch_organization", "Org", id="app.organization", tooltip="Switch organization"),
        Binding("f5", "messages", "Messages", show=False, id="app.messages", tooltip="What the app has told you, errors included"),
        Binding("f6", "switch_mode('simulations')", "Simulations", id="app.simulations", key_display="F6", tooltip="Run conversation scenarios and step through their turns"),
        Binding("ctrl+q", "quit", "Quit", show=False, id="app.quit"),
    ]

    org: reactive[str] = reactive("")
    """The organization every screen shows."""
    runtime: reactive[str] = reactive(RUNTIME_UNKNOWN)
    progress: reactive[WorkProgress | None] = reactive(None)
    """Long work the app shows as its one progress bar."""
    unread_errors: reactive[int] = reactive(0)

    def __init__(
        self,
        service: ToolsApi,
        org: str | None = None,
        *,
        theme_dirs: list[Path] | None = None,
        config: Path | None = None,
        background_work: bool = True,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``service`` is the workbench to show (local or remote); ``org`` the organization asked
        for, or None to open the one used last time with this data directory (or the only one
        that has tools). Tests hand in a service over their own data directory, and a clock
        for the times of the app's messages."""
        super().__init__()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.service = service
        self.settings: Settings = service.settings
        self.config = config or self.settings.config_dir()
        self.theme_dirs = theme_dirs if theme_dirs is not None else [builtin_theme_dir(), self.config / "themes"]
        self.background_work = background_work
        self.state = RememberedState(self.config)
        self.org_asked = org is not None or self.settings.remote is not None
        remembered = None if self.org_asked else self.state.organization(self.place)
        self.set_reactive(WorkbenchApp.org, org or remembered or self.settings.org)
        self.sub_title = f"organization {self.org}"
        self.notices: deque[Notice] = deque(maxlen=200)
        """What the app has told the user, newest last (toasts fade; this stays)."""
        self.deferred_work_started = False
        self.drafts: dict[tuple[str, str], str] = {}
        """The input editor's text per (organization, tool), kept while the app runs."""

    @property
    def place(self) -> str:
        """Where the data is: the data directory, or the server in remote mode."""
        return self.settings.remote or str(self.settings.paths().home)

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information", timeout: float | None = None, markup: bool = False) -> None:
        """Show a toast and keep it in :attr:`notices`. Messages are plain text unless a caller
        asks for markup (data such as '^[A-Z_]+$' keeps its brackets)."""
        self.keep_notice(message, title=title, severity=severity)
        if severity == "error":
            self.unread_errors += 1
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def keep_notice(self, message: str, *, title: str = "", severity: SeverityLevel = "information") -> None:
        """Keep in :attr:`notices` what is already shown where it happened (no toast)."""
        self.notices.append(Notice(message, title, severity, self.clock()))

    def on_mount(self) -> None:
        themes, problems = load_themes(self.theme_dirs)
        for theme in themes:
            self.register_theme(theme)
        for problem in problems:
            self.notify(problem, title="Theme", severity="warning", timeout=10)
        wanted = self.state.theme() or DEFAULT_THEME
        self.theme = wanted if wanted in self.available_themes else "textual-dark"
        self.switch_mode("tools")
        self.set_timer(FIRST_SCREEN_GRACE, self.start_deferred_work)  # in case the first list never comes
        if self.settings.remote:
            self.runtime = f"remote: {self.settings.remote}"
        else:
            if self.org_asked:
                self.state.remember_organization(self.place, self.org)
            else:
                self.pick_organization()

    def on_unmount(self) -> None:
        if self.background_work and self.deferred_work_started:
            self.service.stop_background_work()

    def watch_theme(self, name: str) -> None:
        if self.is_running:
            self.state.remember_theme(name)

    def watch_org(self, org: str) -> None:
        self.sub_title = f"organization {org}"

    # -- what runs tools, and which organization ----------------------------------------------

    @on(ToolsLoaded)
    def start_deferred_work(self) -> None:
        """Once the tools are listed: what the first screen does not wait for, the background
        indexer and data watcher (indexing a backlog is work for the CPU) and the look at the
        runtime (it may ask a Docker daemon)."""
        if self.deferred_work_started:
            return
        self.deferred_work_started = True
        if self.background_work:
            self.service.start_background_work()
        if not self.settings.remote:
            self.runtime = "runtime: checking …"
            self.read_runtime()

    @work(thread=True, exclusive=True, group="runtime", exit_on_error=False, description="Reading the runtime")
    def read_runtime(self) -> None:
        self.post_message(RuntimeRead(runtime_summary(self.service.runtime_report())))

    def work_failed(self, worker: Worker[object], message: str) -> None:
        if worker.group == "runtime":
            self.runtime = "runtime: unknown (see F5)"

    @on(RuntimeRead)
    def show_runtime(self, message: RuntimeRead) -> None:
        self.runtime = message.summary

    @work(thread=True, exclusive=True, group="organizations", exit_on_error=False, description="Listing organizations")
    def pick_organization(self) -> None:
        with_tools = self.service.list_organizations()
        self.post_message(OrganizationPicked(starting_organization(self.state.organization(self.place), self.settings.org, with_tools)))

    @on(OrganizationPicked)
    def open_picked(self, message: OrganizationPicked) -> None:
        if message.org != self.org:
            self.switch_organization(message.org, why="the organization with tools here; ctrl+o switches")

    def action_switch_organization(self) -> None:
        from workbench.tui.screens.organizations import OrganizationDialog

        if self.settings.remote:
            self.notify(f"In remote mode the organization is the API key's ({self.org}); use another key for another organization.", severity="warning")
            return

        def chosen(org: str | None) -> None:
            if org:
                self.call_later(self.switch_organization, org)

        if not isinstance(self.screen, OrganizationDialog):
            self.push_screen(OrganizationDialog(), chosen)

    def switch_organization(self, org: str, why: str = "") -> None:
        """Show ``org`` on every screen: the other modes start afresh, the current one goes back
        to its first screen and reads everything again."""
        if org == self.org:
            return
        self.org = org
        self.state.remember_organization(self.place, org)
        current = self.current_mode
        for mode, screen in self.MODES.items():
            if mode != current:
                self.remove_mode(mode)
                self.add_mode(mode, screen)
        base = self.screen_stack[0]
        if len(self.screen_stack) > 1:
            base.pop_until_active()
        if isinstance(base, WorkbenchScreen):
            base.organization_changed()
        self.notify(f"now showing organization {org}" + (f" ({why})" if why else ""), title="Organization", timeout=4)

    # -- actions ------------------------------------------------------------------------------

    @on(ShowInvocations)
    def show_invocations(self, message: ShowInvocations) -> None:
        """Invocations another screen points at (Insight's top exceptions): History, filtered."""
        self.switch_mode("invocations")
        from workbench.tui.screens.invocations import InvocationsScreen  # loaded by the switch above

        screen = self.screen
        if isinstance(screen, InvocationsScreen):
            screen.show_query(message.query, message.title)

    @on(ShowInvocationInHistory)
    def show_invocation(self, message: ShowInvocationInHistory) -> None:
        """An invocation named elsewhere (a simulation's turn): open it in full."""
        self.open_invocation(message.invocation_id)

    @work(thread=True, exclusive=True, group="open-invocation", exit_on_error=False, description="Opening the invocation")
    def open_invocation(self, invocation_id: str) -> None:
        invocation = self.service.get_invocation(self.org, invocation_id)
        names = {t.id: t.name for t in self.service.list_all_tools(self.org)}
        self.post_message(InvocationOpened(invocation, names.get(invocation.tool_id, invocation.tool_id)))

    @on(InvocationOpened)
    def push_detail(self, message: InvocationOpened) -> None:
        from workbench.tui.screens.detail import InvocationDetailScreen

        self.push_screen(InvocationDetailScreen(message.invocation, message.tool_name))

    def action_help(self) -> None:
        from workbench.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_messages(self) -> None:
        if not isinstance(self.screen, MessagesScreen):
            self.unread_errors = 0
            self.push_screen(MessagesScreen(self.notices))

    def action_help_quit(self) -> None:
        self.notify("Press ctrl+q to quit the app", title="Do you want to quit?")

    def action_cancel_work(self) -> None:
        """Stop waiting for the current screen's background work."""
        cancelled = [w for w in self.screen.workers if w.is_running]
        self.screen.workers.cancel_all()
        self.notify(f"cancelled {len(cancelled)} task(s)" if cancelled else "nothing to cancel", timeout=3)

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Save an SVG of the screen and say where (the Downloads folder if there is one, else
        the app's config directory), or why it could not be saved."""
        from platformdirs import user_downloads_path

        downloads = Path(path) if path else user_downloads_path()
        target = downloads if downloads.is_dir() else self.config / "screenshots"
        why = "" if target == downloads else f"{downloads} does not exist, so "
        try:
            target.mkdir(parents=True, exist_ok=True)
            saved = self.save_screenshot(filename, str(target))
        except OSError as error:
            self.notify(f"the screenshot was not saved: {error.strerror or error} ({target})", title="Screenshot", severity="error")
            return
        self.notify(f"{why}saved to {saved}", title="Screenshot", timeout=8)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title != "Screenshot":
                yield command
        yield SystemCommand("Screenshot", "Save an SVG of the screen; says where", lambda: self.set_timer(0.1, self.action_screenshot))
        yield SystemCommand("Tools", "The organization's tools  F2", lambda: self.switch_mode("tools"))
        yield SystemCommand("History", "Invocation history  F3", lambda: self.switch_mode("invocations"))
        yield SystemCommand("Search", "Full-text search of invocations  F4", lambda: self.switch_mode("search"))
        yield SystemCommand("Switch organization", "Show another organization's tools and history  ctrl+o", self.action_switch_organization)
        yield SystemCommand("Messages", "What the app has told you, errors included  F5", self.action_messages)
        yield SystemCommand("Rebuild search index", "Rebuild the full-text index from the log", self.rebuild_index)
        for name in sorted(self.available_themes):
            if name.startswith("workbench"):
                yield SystemCommand(f"Theme: {name}", "Switch to this theme (remembered)", lambda n=name: setattr(self, "theme", n))

    # -- long work ----------------------------------------------------------------------------

    def progress_reporter(self, label: str, every: int = 2000) -> ProgressReporter:
        """A (done, total) callback for a worker thread that moves the one progress bar."""
        return ProgressReporter(self.post_message, label, every)

    def end_work(self, label: str) -> None:
        """The work called ``label`` ended: its progress bar goes (another's stays)."""
        if self.progress is not None and self.progress.label == label:
            self.progress = None

    @work(thread=True, exclusive=True, group="index", exit_on_error=False, description="Rebuilding the search index")
    def rebuild_index(self) -> None:
        with self.progress_reporter(REBUILDING) as report:
            self.post_message(IndexRebuilt(self.service.rebuild_index(report)))

    @on(WorkProgressed)
    def show_progress(self, message: WorkProgressed) -> None:
        if message.ended:
            self.end_work(message.progress.label)
        else:
            self.progress = message.progress

    @on(WorkbenchChanged)
    def index_caught_up(self, message: WorkbenchChanged) -> None:
        """A large backlog being indexed in the background shows as the progress bar."""
        event = message.event
        if isinstance(event, IndexProgress) and (self.progress is None or self.progress.label == INDEXING):  # one bar at a time
            if event.total - event.done >= BACKLOG_SHOWN:
                self.progress = WorkProgress(INDEXING, event.done, event.total)
            else:
                self.end_work(INDEXING)

    @on(IndexRebuilt)
    def show_rebuilt(self, message: IndexRebuilt) -> None:
        self.notify(f"search index rebuilt: {message.count:,} invocations", title="Search index")


def make_app(settings: Settings, org: str | None = None) -> WorkbenchApp:
    """The app over the workbench the settings name: a data directory, or a server in remote mode."""
    from workbench.connect import open_api

    return WorkbenchApp(open_api(settings, org), org, background_work=settings.remote is None)

