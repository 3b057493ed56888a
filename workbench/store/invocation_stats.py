"""Aggregate questions of the invocation catalog: per tool and version, how many, how often they
failed, how long they took, how large their outputs were, which exceptions, over time.

Counts and series add up the hourly roll-up (``stats_hours``, see ``catalog_schema.py``) for the
whole hours of a window, and the rows themselves for the partial hours at its ends, so they cost
the same whether a tool has a thousand invocations or a million per hour. A percentile is one
walk of a covering index range from its nearer end (``LIMIT 1 OFFSET k``): exact, not
estimated. Failures are counted from a partial index that holds only them. The answers are plain
numbers; what they mean to a person (rates, shares, labels) is the core's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.store.catalog import InvocationCatalog
from workbench.store.catalog_schema import HOUR_MS, LIMIT, THRESHOLD

VersionKey = tuple[int, int, int]
VERSION_COLUMNS = ("major", "minor", "patch")
PERCENTILE_INDEXES = {"duration_ms": "stats_latency", "output_chars": "stats_size"}
ROLLED = (
    "SUM(count), SUM(succeeded), SUM(duration_total), MAX(duration_max), SUM(measured), SUM(at_or_over_threshold), "
    "SUM(over_limit), MAX(output_max), MIN(first_ms), MAX(last_ms)"
)
RAW = (
    f"COUNT(*), SUM(succeeded), TOTAL(duration_ms), MAX(duration_ms), COUNT(output_chars), SUM(CASE WHEN output_chars >= {THRESHOLD} THEN 1 ELSE 0 END), "
    f"SUM(CASE WHEN output_chars > {LIMIT} THEN 1 ELSE 0 END), MAX(output_chars), MIN(created_ms), MAX(created_ms)"
)


@dataclass(frozen=True)
class StatsScope:
    """Which invocations of one tool: a time window (milliseconds since the epoch, ``until``
    exclusive), source types and modes (any of each; empty means all)."""

    org_id: str
    tool_id: str
    since_ms: int | None = None
    until_ms: int | None = None
    source_types: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()

    def where(self, version: VersionKey | None = None) -> tuple[str, list[Any]]:
        """The WHERE clause over the rows (org and tool first, as every statistics index begins)."""
        clauses = ["org_id = ?", "tool_id = ?"]
        params: list[Any] = [self.org_id, self.tool_id]
        if version is not None:
            clauses += [f"{column} = ?" for column in VERSION_COLUMNS]
            params += list(version)
        if self.since_ms is not None:
            clauses.append("created_ms >= ?")
            params.append(self.since_ms)
        if self.until_ms is not None:
            clauses.append("created_ms < ?")
            params.append(self.until_ms)
        return self._kinds(clauses, params)

    def _kinds(self, clauses: list[str], params: list[Any]) -> tuple[str, list[Any]]:
        for column, values in (("source_type", self.source_types), ("mode", self.modes)):
            if values:
                clauses.append(f"{column} IN ({','.join('?' * len(values))})")
                params += list(values)
        return " AND ".join(clauses), params

    def whole_hours(self) -> tuple[int | None, int | None]:
        """The hours wholly inside the window: [first, end) (None: unbounded)."""
        first = None if self.since_ms is None else -(-self.since_ms // HOUR_MS)
        end = None if self.until_ms is None else self.until_ms // HOUR_MS
        return first, end

    def partial_ranges(self) -> list[tuple[int, int]]:
        """The [from, to) millisecond ranges of the window outside its whole hours."""
        first, end = self.whole_hours()
        if first is not None and end is not None and first >= end:
            return [(self.since_ms, self.until_ms)]  # type: ignore[list-item]  # no whole hour: the window itself
        ranges = []
        if self.since_ms is not None and first is not None and self.since_ms < first * HOUR_MS:
            ranges.append((self.since_ms, first * HOUR_MS))
        if self.until_ms is not None and end is not None and end * HOUR_MS < self.until_ms:
            ranges.append((end * HOUR_MS, self.until_ms))
        return ranges

    def rolled_where(self) -> tuple[str, list[Any]] | None:
        """The WHERE clause over the roll-up's whole hours; None if the window has none."""
        first, end = self.whole_hours()
        if first is not None and end is not None and first >= end:
            return None
        clauses = ["org_id = ?", "tool_id = ?"]
        params: list[Any] = [self.org_id, self.tool_id]
        if first is not None:
            clauses.append("hour >= ?")
            params.append(first)
        if end is not None:
            clauses.append("hour < ?")
            params.append(end)
        return self._kinds(clauses, params)


@dataclass
class Sums:
    """What a set of invocations adds up to (one version, or one version's hour)."""

    count: int = 0
    succeeded: int = 0
    duration_total: int = 0
    duration_max: int | None = None
    measured: int = 0  # outputs whose size is known (successes, oversized failures)
    at_or_over_threshold: int = 0
    over_limit: int = 0
    output_max: int | None = None
    first_ms: int | None = None
    last_ms: int | None = None

    def add(self, row: Sequence[Any]) -> None:
        """Add a row of (count, succeeded, duration total, duration max, measured, at or over
        the threshold, over the limit, output max, first, last)."""
        count, ok, total, longest, measured, over, beyond, largest, first, last = row
        self.count += int(count or 0)
        self.succeeded += int(ok or 0)
        self.duration_total += int(total or 0)
        self.duration_max = _max(self.duration_max, longest)
        self.measured += int(measured or 0)
        self.at_or_over_threshold += int(over or 0)
        self.over_limit += int(beyond or 0)
        self.output_max = _max(self.output_max, largest)
        self.first_ms = first if self.first_ms is None or (first is not None and first < self.first_ms) else self.first_ms
        self.last_ms = _max(self.last_ms, last)


    def merge(self, other: Sums) -> None:
        """Add what another set of invocations adds up to."""
        self.add(
            (other.count, other.succeeded, other.duration_total, other.duration_max, other.measured, other.at_or_over_threshold, other.over_limit, other.output_max, other.first_ms, other.last_ms)
        )


def _max(a: int | None, b: Any) -> int | None:
    if b is None:
        return a
    return int(b) if a is None else max(a, int(b))


@dataclass
class VersionTotals:
    """One version's invocations in a scope, and per source type."""

    version: VersionKey
    sums: Sums = field(default_factory=Sums)
    by_source: dict[str, Sums] = field(default_factory=dict)


class InvocationStats:
    """Statistics of the catalog, caught up with the log by :meth:`sync` first."""

    def __init__(self, catalog: InvocationCatalog) -> None:
        self.catalog = catalog

    def sync(self) -> None:
        """Catch the catalog up with the log (call once before a set of questions)."""
        self.catalog.sync()

    def _cells(self, scope: StatsScope, hours: int | None) -> list[tuple[Any, ...]]:
        """Rows of (version..., key, sums...) grouped by source type (``hours`` None) or by steps
        of ``hours`` hours (the key is the step's number): the roll-up's whole hours, then the
        rows of the partial hours."""
        if hours is None:
            rolled_key, raw_key = "source_type", "COALESCE(source_type, '')"
        else:
            rolled_key, raw_key = f"hour / {int(hours)}", f"created_ms / {HOUR_MS * int(hours)}"
        cells: list[tuple[Any, ...]] = []
        rolled = scope.rolled_where()
        if rolled is not None:
            sql, params = rolled
            cells += self.catalog.query(f"SELECT major, minor, patch, {rolled_key}, {ROLLED} FROM stats_hours WHERE {sql} GROUP BY major, minor, patch, {rolled_key}", params)
        for start, end in scope.partial_ranges():
            sql, params = StatsScope(scope.org_id, scope.tool_id, start, end, scope.source_types, scope.modes).where()
            cells += self.catalog.query(
                f"SELECT major, minor, patch, {raw_key}, {RAW} FROM invocations INDEXED BY stats_time WHERE {sql} AND major IS NOT NULL "
                f"GROUP BY major, minor, patch, {raw_key}",
                params,
            )
        return cells

    def totals(self, scope: StatsScope) -> list[VersionTotals]:
        """Per version: counts, successes, durations, output sizes at or over the persistence
        threshold (not kept in a conversation) and over the output limit (failed), first and
        last, and the same per source type."""
        found: dict[VersionKey, VersionTotals] = {}
        for major, minor, patch, source, *sums in self._cells(scope, None):
            version = (int(major), int(minor), int(patch))
            totals = found.setdefault(version, VersionTotals(version))
            totals.sums.add(sums)
            totals.by_source.setdefault(source or "(unknown)", Sums()).add(sums)
        return list(found.values())

    def steps(self, scope: StatsScope, hours: int = 1) -> dict[tuple[VersionKey, int], Sums]:
        """Per version and step of ``hours`` hours (a step's key is its first hour since the
        epoch, UTC; 24-hour steps are UTC days): what its invocations add up to."""
        found: dict[tuple[VersionKey, int], Sums] = {}
        for major, minor, patch, step, *sums in self._cells(scope, hours):
            found.setdefault(((int(major), int(minor), int(patch)), int(step) * hours), Sums()).add(sums)
        return found

    def percentiles(self, scope: StatsScope, version: VersionKey, column: str, count: int, quantiles: Sequence[float]) -> list[int | None]:
        """Nearest-rank percentiles of ``column`` (``duration_ms`` or ``output_chars``) among the
        ``count`` invocations of a version that have a value."""
        index = PERCENTILE_INDEXES[column]
        sql, params = scope.where(version)
        values: list[int | None] = []
        for quantile in quantiles:
            if count <= 0:
                values.append(None)
                continue
            rank = min(count, max(1, -(-int(quantile * 1_000_000) * count // 1_000_000)))  # ceil(q * n), exact in integers
            ascending = rank <= count - rank + 1
            offset = rank - 1 if ascending else count - rank
            rows = self.catalog.query(
                f"SELECT {column} FROM invocations INDEXED BY {index} WHERE {sql} AND {column} IS NOT NULL "
                f"ORDER BY {column} {'ASC' if ascending else 'DESC'} LIMIT 1 OFFSET ?",
                [*params, offset],
            )
            values.append(int(rows[0][0]) if rows else None)
        return values

    def exceptions(self, scope: StatsScope) -> dict[VersionKey, list[tuple[str, int]]]:
        """Per version, the exception types of its failures with their counts, most frequent first."""
        sql, params = scope.where()
        rows = self.catalog.query(
            f"SELECT major, minor, patch, exception_type, COUNT(*) FROM invocations INDEXED BY stats_failures WHERE {sql} AND succeeded = 0 "
            "GROUP BY major, minor, patch, exception_type",
            params,
        )
        found: dict[VersionKey, list[tuple[str, int]]] = {}
        for major, minor, patch, kind, count in rows:
            if major is not None:
                found.setdefault((int(major), int(minor), int(patch)), []).append((kind or "(unknown)", int(count)))
        return {version: sorted(kinds, key=lambda k: (-k[1], k[0])) for version, kinds in found.items()}

    def size_histogram(self, scope: StatsScope, version: VersionKey, edges: Sequence[int]) -> list[int]:
        """How many outputs of a version fall in each bin [edges[i], edges[i+1]), the last bin
        open-ended: one index range count per bin."""
        sql, params = scope.where(version)
        counts = []
        for low, high in zip(edges, [*edges[1:], None]):
            bound = "output_chars >= ?" + ("" if high is None else " AND output_chars < ?")
            rows = self.catalog.query(
                f"SELECT COUNT(*) FROM invocations INDEXED BY stats_size WHERE {sql} AND {bound}", [*params, low, *([] if high is None else [high])]
            )
            counts.append(int(rows[0][0]))
        return counts

    def tool_hours(self, org_id: str, tool_id: str, from_hour: int) -> list[tuple[int, int, int]]:
        """(hour, count, succeeded) of a tool's invocations from ``from_hour`` on, all versions."""
        rows = self.catalog.query(
            "SELECT hour, SUM(count), SUM(succeeded) FROM stats_hours WHERE org_id = ? AND tool_id = ? AND hour >= ? GROUP BY hour",
            [org_id, tool_id, from_hour],
        )
        return [(int(hour), int(count), int(ok or 0)) for hour, count, ok in rows]


def hour_of(ms: int) -> int:
    """The hour since the epoch that a millisecond instant falls in."""
    return ms // HOUR_MS
