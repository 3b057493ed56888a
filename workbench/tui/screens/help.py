"""Help: the keys of every screen and the search query language."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """
# Tool Workbench

**Everywhere**: `F1` or `?` this help · `F2` tools · `F3` history · `F4` search · `ctrl+p` commands
(themes, rebuilding the search index, and the current screen's actions) · `ctrl+q` quit ·
`escape` back.

**Tools**: `enter` open · `n` new · `e` edit description and tags · `d` deprecate · `/` filter
(words, or `key:value` tags; `key:*` any value) · the switch shows deprecated tools.

**A tool**: tabs *Versions* (`p` publish with live stages, `x` deprecate by constraint with a
preview), *Env vars* (`a` add, `s` add secret, `u` update, `x` delete; values are never shown)
and *Invoke & test* (pick a version or a branch, edit the JSON input, `ctrl+r` run; 1 to 10
inputs as a JSON list). `ctrl+x` stops waiting for running work.

**History**: filters at the top; `enter` details; `m` (or scrolling to the end) loads the next 100.

**Search**: words (all must match), `"a phrase"`, `field:value` (fields: `output`, `message`,
`type`, `trace`, `logs`), `wild*cards`, `AND` / `OR` / `NOT`, `( … )`. Hits come newest first, or
best match first; matches are highlighted.

Errors appear as notifications. Publishing, invoking, searching and rebuilding run in the
background; the screen stays usable.
"""


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = "HelpScreen { align: center middle; } HelpScreen VerticalScroll { width: 90; height: 85%; border: thick $primary; background: $surface; }"
    BINDINGS = [Binding("escape,f1,question_mark,q", "dismiss", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(HELP)
