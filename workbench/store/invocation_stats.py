"""Aggregate questions of the invocation catalog: per tool and version, how many, how often they
failed, how long they took, how large their outputs were, which exceptions, over time.

Every query reads one of the catalog's covering statistics indexes in its own order (see
``catalog.py``), so it never touches the table and never sorts: counts stream per version,
series stream per hour, and a percentile is one walk of an index range from its nearer end
(``LIMIT 1 OFFSET k``), exact, not estimated. The answers are plain numbers; what they mean to a
person (rates, shares, labels) is the core's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.store.catalog import HOUR_MS, InvocationCatalog

VersionKey = tuple[int, int, int]
VERSION_COLUMNS = ("major", "minor", "patch")
PERCENTILE_COLUMNS = {"duration_ms": "stats_latency", "output_chars": "stats_size"}


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
        """The WHERE clause (org and tool first, as every statistics index begins)."""
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
        for column, values in (("source_type", self.source_types), ("mode", self.modes)):
            if values:
                clauses.append(f"{column} IN ({','.join('?' * len(values))})")
                params += list(values)
        return " AND ".join(clauses), params


@dataclass
class VersionTotals:
    """What one version's invocations in a scope add up to."""

    version: VersionKey
    count: int
    succeeded: int
    first_ms: int | None
    last_ms: int | None
    measured_outputs: int  # invocations whose output size is known (successes, oversized failures)
    over_threshold: int
    over_limit: int
    max_output: int | None
    max_duration: int | None
    by_source: dict[str, tuple[int, int]] = field(default_factory=dict)  # type -> (count, succeeded)


@dataclass(frozen=True)
class HourRow:
    """One version's invocations in one hour (hours since the epoch, UTC)."""

    hour: int
    version: VersionKey
    count: int
    succeeded: int
    duration_total: int
    duration_max: int
    over_threshold: int


class InvocationStats:
    """Statistics of the catalog, caught up with the log by :meth:`sync` first."""

    def __init__(self, catalog: InvocationCatalog) -> None:
        self.catalog = catalog

    def sync(self) -> None:
        """Catch the catalog up with the log (call once before a set of questions)."""
        self.catalog.sync()

    def totals(self, scope: StatsScope, threshold: int, limit: int, source_types: Sequence[str]) -> list[VersionTotals]:
        """Per version: counts, successes, first and last, output sizes at or over the persistence
        ``threshold`` (not kept in a conversation) and over the output ``limit`` (failed), and counts per each of ``source_types`` (one pass:
        conditional sums instead of a grouping that would need a sort)."""
        sql, params = scope.where()
        per_source = "".join(", SUM(source_type = ?), SUM(source_type = ? AND succeeded)" for _ in source_types)
        source_params = [t for source in source_types for t in (source, source)]
        rows = self.catalog.query(
            "SELECT major, minor, patch, COUNT(*), SUM(succeeded), MIN(created_ms), MAX(created_ms), COUNT(output_chars), "
            "SUM(output_chars >= ?), SUM(output_chars > ?), MAX(output_chars), MAX(duration_ms)"
            f"{per_source} FROM invocations INDEXED BY stats_latency WHERE {sql} GROUP BY major, minor, patch",
            [threshold, limit, *source_params, *params],
        )
        totals = []
        for row in rows:
            if row[0] is None:
                continue  # a record without a version: nothing to say per version
            sources = {name: (int(row[12 + 2 * i] or 0), int(row[13 + 2 * i] or 0)) for i, name in enumerate(source_types)}
            totals.append(
                VersionTotals(
                    version=(int(row[0]), int(row[1]), int(row[2])),
                    count=int(row[3]),
                    succeeded=int(row[4] or 0),
                    first_ms=row[5],
                    last_ms=row[6],
                    measured_outputs=int(row[7]),
                    over_threshold=int(row[8] or 0),
                    over_limit=int(row[9] or 0),
                    max_output=row[10],
                    max_duration=row[11],
                    by_source={name: counts for name, counts in sources.items() if counts[0]},
                )
            )
        return totals

    def percentiles(self, scope: StatsScope, version: VersionKey, column: str, count: int, quantiles: Sequence[float]) -> list[int | None]:
        """Nearest-rank percentiles of ``column`` (``duration_ms`` or ``output_chars``) among
        ``count`` invocations of a version that have a value. Each walks the index range from the
        end nearer its rank, so p95 and p99 cost a few percent of the range."""
        index = PERCENTILE_COLUMNS[column]
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
            f"SELECT major, minor, patch, exception_type, COUNT(*) FROM invocations INDEXED BY stats_latency WHERE {sql} AND succeeded = 0 "
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

    def hourly(self, scope: StatsScope, threshold: int, from_hour: int, to_hour: int) -> list[HourRow]:
        """Per hour and version in [from_hour, to_hour]: counts, successes, total and largest
        duration, outputs at or over ``threshold``. Streams the hourly index in order."""
        sql, params = scope.where()
        rows = self.catalog.query(
            "SELECT created_hour, major, minor, patch, COUNT(*), SUM(succeeded), TOTAL(duration_ms), MAX(duration_ms), SUM(output_chars >= ?) "
            f"FROM invocations INDEXED BY stats_hourly WHERE {sql} AND created_hour >= ? AND created_hour <= ? "
            "GROUP BY created_hour, major, minor, patch",
            [threshold, *params, from_hour, to_hour],
        )
        return [
            HourRow(int(hour), (int(a), int(b), int(c)), int(count), int(ok or 0), int(total or 0), int(largest or 0), int(over or 0))
            for hour, a, b, c, count, ok, total, largest, over in rows
            if hour is not None and a is not None
        ]

    def tool_hours(self, org_id: str, tool_id: str, from_hour: int) -> list[tuple[int, int, int]]:
        """(hour, count, succeeded) of a tool's invocations from ``from_hour`` on, all versions."""
        rows = self.catalog.query(
            "SELECT created_hour, COUNT(*), SUM(succeeded) FROM invocations INDEXED BY stats_hourly "
            "WHERE org_id = ? AND tool_id = ? AND created_hour >= ? GROUP BY created_hour",
            [org_id, tool_id, from_hour],
        )
        return [(int(hour), int(count), int(ok or 0)) for hour, count, ok in rows]


def hour_of(ms: int) -> int:
    """The hour since the epoch that a millisecond instant falls in."""
    return ms // HOUR_MS
