"""Tables of data: cells shown exactly as stored, and an empty table that says what to do."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static
from textual.widgets.data_table import RowKey

from workbench.tui.text import plain


class PlainTable(DataTable[Any]):
    """A DataTable whose text cells are never read as markup (a description or a pattern with
    square brackets keeps them)."""

    def add_row(self, *cells: Any, height: int | None = 1, key: str | None = None, label: Any = None) -> RowKey:
        shown = [Text(cell, end="") if isinstance(cell, str) else cell for cell in cells]
        return super().add_row(*shown, height=height, key=key, label=label)

    def selected_key(self) -> str | None:
        """The key of the row under the cursor, or None when the table is empty."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value


class TableView(Vertical):
    """A table with a line under its header that says why it is empty and what to do, e.g.
    "No env vars yet — a adds one". Until the first load it says "Loading …"."""

    DEFAULT_CSS = """
    TableView { height: 1fr; }
    TableView > PlainTable { height: 1fr; }
    TableView.-empty > PlainTable { height: auto; max-height: 2; }
    TableView > .empty-hint { display: none; padding: 1 2; color: $text-muted; height: auto; }
    TableView.-empty > .empty-hint { display: block; }
    """

    def __init__(self, table_id: str, *, zebra_stripes: bool = True) -> None:
        super().__init__(id=f"{table_id}-view")
        self.table = PlainTable(id=table_id, cursor_type="row", zebra_stripes=zebra_stripes)
        self.add_class("-empty")

    def compose(self) -> ComposeResult:
        yield self.table
        yield Static(plain("Loading …"), classes="empty-hint")

    def say_when_empty(self, hint: str) -> None:
        """Call after filling the table: shows ``hint`` if it has no rows."""
        empty = self.table.row_count == 0
        self.set_class(empty, "-empty")
        self.query_one(".empty-hint", Static).update(plain(hint) if empty else "")

    @property
    def hint(self) -> str:
        """What the empty table says now (for tests and the help)."""
        return str(self.query_one(".empty-hint", Static).render()) if self.has_class("-empty") else ""
