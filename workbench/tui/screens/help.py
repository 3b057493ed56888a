"""Help: the keys of every screen as grouped tables, read from the bindings themselves (so help and
footer never disagree), the current screen's first; and the search query language."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from workbench.tui.keys import key_label, own_bindings
from workbench.tui.screens.detail import InvocationDetailScreen
from workbench.tui.screens.envvars import EnvVarsPane
from workbench.tui.screens.invocations import InvocationsScreen
from workbench.tui.screens.invoke import InvokePane
from workbench.tui.screens.search import SearchScreen
from workbench.tui.screens.tool import ToolScreen
from workbench.tui.screens.tools import ToolsScreen
from workbench.tui.screens.versions import VersionsPane
from workbench.tui.widgets.json_editor import JsonEditor

EVERYWHERE_TOO = [
    ("ctrl+p", "Commands: this screen's actions, themes, screenshot, rebuilding the search index"),
    ("tab / shift+tab", "Next / previous field"),
    ("esc", "Back, close a dialog, or leave a filter or query"),
]
QUERY_LANGUAGE = [
    ("words", "all must match (in any of the ticked fields)"),
    ('"a phrase"', "the words in this order"),
    ("field:value", "in one field: output, message, type, trace, logs (e.g. type:KeyError)"),
    ("prefix*", "any word that starts so (e.g. trace:_split*)"),
    ("AND  OR  NOT  ( )", "combine (e.g. timeout AND NOT (retry OR logs:warning))"),
]
SCREENS: list[tuple[str, list[type]]] = [
    ("Tools", [ToolsScreen]),
    ("A tool", [ToolScreen]),
    ("A tool: Versions tab", [VersionsPane]),
    ("A tool: Env vars tab", [EnvVarsPane]),
    ("A tool: Invoke & test tab", [InvokePane, JsonEditor]),
    ("History", [InvocationsScreen]),
    ("Search", [SearchScreen]),
    ("An invocation", [InvocationDetailScreen]),
]


def key_rows(classes: list[type]) -> list[tuple[str, str]]:
    """(keys, what they do) for the bindings the classes declare themselves, keys of one action
    together (``F1, ?``)."""
    by_action: dict[str, tuple[list[str], Binding]] = {}
    for cls in classes:
        for binding in own_bindings(cls):
            keys, _ = by_action.setdefault(binding.action, ([], binding))
            keys.append(key_label(binding.key))
    rows = []
    for keys, binding in by_action.values():
        what = binding.description + (f": {binding.tooltip}" if binding.tooltip and binding.tooltip != binding.description else "")
        rows.append((", ".join(dict.fromkeys(keys)), what))
    return rows


def key_table(rows: list[tuple[str, str]]) -> Table:
    table = Table(box=None, show_header=False, expand=True, padding=(0, 2, 0, 0))
    table.add_column("keys", style="bold", no_wrap=True, min_width=12)
    table.add_column("what", ratio=1)
    for keys, what in rows:
        table.add_row(Text(keys), Text(what))
    return table


class HelpScreen(ModalScreen[None]):
    """The keys, grouped by screen; the screen it was opened from comes first."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 100; max-width: 100%; height: 90%; border: thick $primary; background: $surface; padding: 0 1; }
    HelpScreen.-short > Vertical { height: 100%; }
    HelpScreen .group { text-style: bold; color: $text-accent; margin-top: 1; }
    HelpScreen .group.-here { color: $text-success; }
    """
    BINDINGS = [Binding("escape,f1,question_mark,q", "dismiss", "Close", id="help.close")]

    def __init__(self, opened_from: Screen[object] | None = None) -> None:
        super().__init__()
        self.opened_from = opened_from

    def groups(self) -> list[tuple[str, list[tuple[str, str]], bool]]:
        """(title, rows, is this the screen help was opened from), the current screen's first."""
        here = type(self.opened_from) if self.opened_from is not None else None
        screens = [(title, key_rows(classes), here in classes or (here is ToolScreen and title.startswith("A tool"))) for title, classes in SCREENS]
        screens.sort(key=lambda group: not group[2])
        everywhere = key_rows([type(self.app)]) + EVERYWHERE_TOO
        return [*screens[: sum(1 for s in screens if s[2])], ("Everywhere", everywhere, False), *screens[sum(1 for s in screens if s[2]) :], ("Search query language", QUERY_LANGUAGE, False)]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Content.from_markup("[b]Keys[/]  [dim]F1, ? or esc closes · the screen you came from first[/]"))
            with VerticalScroll(id="help-groups", can_focus=True):
                for title, rows, here in self.groups():
                    yield Label(Content(title + ("  (this screen)" if here else "")), classes="group -here" if here else "group")
                    yield Static(key_table(rows), classes="keys")

    def on_mount(self) -> None:
        self.query_one("#help-groups").focus()
