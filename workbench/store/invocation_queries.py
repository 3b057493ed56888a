"""The questions the workbench asks of the invocation catalog, with their SQL.

The catalog (``catalog.py``) keeps itself in step with the log; this module knows how to find a
filtered, sorted page in it, count it, and locate records by id or by search hit, and how to read
them: parsed (:meth:`InvocationQueries.records`) or, for a page sent as JSON, as their stored lines
(:meth:`InvocationQueries.lines`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.store.catalog import InvocationCatalog, LogState, StoredLine

LINE = "segment, offset, length, crc, verbatim"
"""The columns of a :class:`StoredLine`."""
VersionKey = tuple[int, int, int]

SORT_COLUMNS = {
    "created_at": "created_at",
    "version.major": "major",
    "version.minor": "minor",
    "version.patch": "patch",
    "tool_id": "tool_id",
    "invocation_source.type": "source_type",
    "invocation_status.succeeded": "succeeded",
}
"""The API's sort keys and the catalog columns they sort by."""


@dataclass(frozen=True)
class ToolSelection:
    """One tool, and which of its versions (None: any)."""

    tool_id: str
    versions: tuple[VersionKey, ...] | None = None


@dataclass(frozen=True)
class InvocationFilter:
    """Which invocations of one organization: each list means any of its values; empty means all."""

    org_id: str
    tools: tuple[ToolSelection, ...] = ()
    source_types: tuple[str, ...] = ()
    conversation_ids: tuple[str, ...] = ()
    sim_run_ids: tuple[str, ...] = ()
    succeeded: bool | None = None
    created_from_ms: int | None = None  # milliseconds since the epoch, inclusive
    created_until_ms: int | None = None  # exclusive
    exception_types: tuple[str, ...] = ()

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = ["org_id = ?"]
        params: list[Any] = [self.org_id]
        if self.tools:
            ors = []
            for selection in self.tools:
                if selection.versions is None:
                    ors.append("tool_id = ?")
                    params.append(selection.tool_id)
                elif not selection.versions:
                    ors.append("0")
                else:
                    ors.append("(tool_id = ? AND (" + " OR ".join("(major = ? AND minor = ? AND patch = ?)" for _ in selection.versions) + "))")
                    params.append(selection.tool_id)
                    for version in selection.versions:
                        params.extend(version)
            clauses.append("(" + " OR ".join(ors) + ")")
        for column, values in (
            ("source_type", self.source_types),
            ("conversation_id", self.conversation_ids),
            ("sim_run_id", self.sim_run_ids),
            ("exception_type", self.exception_types),
        ):
            if values:
                clauses.append(f"{column} IN ({','.join('?' * len(values))})")
                params.extend(values)
        if self.succeeded is not None:
            clauses.append("succeeded = ?")
            params.append(1 if self.succeeded else 0)
        if self.created_from_ms is not None:
            clauses.append("created_ms >= ?")
            params.append(self.created_from_ms)
        if self.created_until_ms is not None:
            clauses.append("created_ms < ?")
            params.append(self.created_until_ms)
        return " AND ".join(clauses), params


@dataclass
class InvocationQueries:
    """Pages, counts and lookups over the catalog (caught up with the log first)."""

    catalog: InvocationCatalog
    _sort_sql: dict[str, str] = field(default_factory=lambda: dict(SORT_COLUMNS))

    def tool_selection(self, org_id: str, tool_id: str, matches: Callable[[int, int, int], bool] | None = None) -> ToolSelection:
        """A tool's invocations of the recorded versions ``matches`` accepts (None: of any version)."""
        if matches is None:
            return ToolSelection(tool_id)
        return ToolSelection(tool_id, tuple(v for v in self.versions_present(org_id, tool_id) if matches(*v)))

    def versions_present(self, org_id: str, tool_id: str) -> list[VersionKey]:
        """The versions of a tool that have invocations recorded, the log's latest included (a
        version filter made from an older view would leave out what was just recorded)."""
        self.catalog.sync()
        rows = self.catalog.query("SELECT DISTINCT major, minor, patch FROM invocations WHERE org_id = ? AND tool_id = ?", [org_id, tool_id])
        return [(int(a), int(b), int(c)) for a, b, c in rows if a is not None]

    def caught_up(self) -> LogState:
        """The catalog caught up with the log, and the state it caught up to (see
        :meth:`InvocationCatalog.caught_up`)."""
        return self.catalog.caught_up()

    def caught_up_at_once(self) -> LogState | None:
        """:meth:`caught_up`'s state if it is known without waiting or reading (see
        :meth:`InvocationCatalog.caught_up_at_once`)."""
        return self.catalog.caught_up_at_once()

    def page(self, where: InvocationFilter, sort: Sequence[tuple[str, bool]], limit: int, offset: int, caught_up: bool = False) -> tuple[list[StoredLine], bool]:
        """One page of locations in the given order (API sort key, descending), newest first by
        default; and whether more follow. ``caught_up``: the caller has just caught the catalog up."""
        if not caught_up:
            self.catalog.sync()
        sql, params = where.where()
        keys = list(sort) or [("created_at", True)]
        order = ", ".join(f"{self._sort_sql[key]} {'DESC' if descending else 'ASC'}" for key, descending in keys) + ", seq DESC"
        rows = self.catalog.query(f"SELECT {LINE} FROM invocations WHERE {sql} ORDER BY {order} LIMIT ? OFFSET ?", [*params, limit + 1, offset])
        return [StoredLine(*row) for row in rows[:limit]], len(rows) > limit

    def count(self, where: InvocationFilter) -> int:
        self.catalog.sync()
        sql, params = where.where()
        return int(self.catalog.query(f"SELECT COUNT(*) FROM invocations WHERE {sql}", params)[0][0])

    def locate(self, org_id: str, invocation_id: str) -> StoredLine | None:
        self.catalog.sync()
        rows = self.catalog.query(f"SELECT {LINE} FROM invocations WHERE org_id = ? AND id = ?", [org_id, invocation_id])
        return StoredLine(*rows[0]) if rows else None

    def locate_seqs(self, seqs: Iterable[int]) -> dict[int, StoredLine]:
        wanted = list(seqs)
        if not wanted:
            return {}
        rows = self.catalog.query(f"SELECT seq, {LINE} FROM invocations WHERE seq IN ({','.join('?' * len(wanted))})", wanted)
        return {row[0]: StoredLine(*row[1:]) for row in rows}

    def records(self, lines: Sequence[StoredLine]) -> list[dict[str, Any]]:
        """The records, parsed and checked."""
        return self.catalog.read(lines)

    def lines(self, lines: Sequence[StoredLine]) -> list[bytes | dict[str, Any]]:
        """Each record's stored JSON where it is shown as stored, else the record to convert."""
        return self.catalog.read_lines(lines)
