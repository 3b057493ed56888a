"""Version insight: what a tool's versions did, as a whole, from the invocation catalog.

Per version: how many invocations, how many succeeded, latency and output size percentiles, how
many outputs reach the 5,000-character persistence threshold and the 20,000-character limit, the
most frequent exceptions, first and last seen, counts per source type, and a time series per hour
or day. Per tool: invocations and failures per day for the tools list. Every number comes from the
catalog's statistics indexes (``store/invocation_stats.py``), never from reading the log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from workbench.core.insight_models import (
    Bucket,
    ExceptionCount,
    HistogramBin,
    OutputSizes,
    Percentiles,
    SeriesPoint,
    SourceCount,
    StatsQuery,
    ToolActivity,
    ToolStats,
    VersionStats,
)
from workbench.core.lookup import require_tool
from workbench.core.models import LEGACY_SOURCE_TYPE, InvocationSourceType
from workbench.core.persistence import PERSISTENCE_THRESHOLD
from workbench.core.running import OUTPUT_LIMIT
from workbench.core.time_window import epoch_ms, window
from workbench.core.validation import ModelOrDict, check_org, parse
from workbench.core.versions import VersionConstraint
from workbench.errors import BadRequest
from workbench.names import version_label
from workbench.store.invocation_stats import InvocationStats, StatsScope, Sums, VersionKey, VersionTotals, hour_of
from workbench.store.tables import Metadata

SIZE_EDGES = tuple(range(0, OUTPUT_LIMIT + 1, 1000))  # 1,000-character bins to the limit, then one beyond
MAX_BUCKETS = 1000
AUTO_HOURS_UP_TO = timedelta(days=3)
STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


def stored_source_types(types: list[InvocationSourceType]) -> tuple[str, ...]:
    """The source types as the catalog holds them: a regular conversation includes the runs older
    workbenches recorded as ``workbench`` (they read as regular conversations)."""
    stored: set[str] = set(types)
    if "regular-conversation" in stored:
        stored.add(LEGACY_SOURCE_TYPE)
    return tuple(sorted(stored))


def spec_source_type(stored: str) -> str:
    return "regular-conversation" if stored == LEGACY_SOURCE_TYPE else stored


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def _moment(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def _floor(moment: datetime, bucket: Bucket) -> datetime:
    moment = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if bucket == "day" else moment


class Insight:
    """Statistics of a tool's versions and the org's tools, from the catalog."""

    def __init__(self, metadata: Metadata, stats: InvocationStats, clock: Callable[[], datetime]) -> None:
        self.metadata = metadata
        self.stats = stats
        self.clock = clock

    def tool_stats(self, org_id: str, tool_id: str, query: ModelOrDict = None) -> ToolStats:
        """Per version of the tool (highest first): counts, success rate, latency p50/p95/p99,
        output size p50/p95/max with the shares at or over 5,000 and over 20,000 characters, the
        most frequent exceptions, first and last seen, counts per source type, and a series."""
        check_org(org_id)
        q = parse(StatsQuery, query, "stats query")
        with self.metadata.read() as view:
            tool = require_tool(view, org_id, tool_id)
        since, until = window(q.since, q.until, self.clock())
        scope = StatsScope(org_id, tool_id, epoch_ms(since), epoch_ms(until), stored_source_types(q.invocation_source_type), tuple(q.invocation_mode))
        constraint = VersionConstraint(q.version) if q.version else None
        self.stats.sync()
        totals = [t for t in self.stats.totals(scope) if constraint is None or constraint.matches(*t.version)]
        totals.sort(key=lambda t: t.version, reverse=True)
        exceptions = self.stats.exceptions(scope) if totals else {}
        versions = [self._version_stats(scope, t, exceptions.get(t.version, []), q.top_exceptions) for t in totals]
        bucket, start, end = self._series_range(q.bucket, since, until, totals)
        if bucket and start and end:
            start_ms = epoch_ms(start) or 0
            steps = StatsScope(org_id, tool_id, max(start_ms, scope.since_ms or start_ms), scope.until_ms, scope.source_types, scope.modes)
            hours = self.stats.steps(steps, 24 if bucket == "day" else 1)
            for stats, series in zip(versions, self._series(hours, [t.version for t in totals], bucket, start, end)):
                stats.series = series
        return ToolStats(
            tool_id=tool_id,
            tool_name=tool.name,
            since=since,
            until=until,
            bucket=bucket,
            persistence_threshold=PERSISTENCE_THRESHOLD,
            output_limit=OUTPUT_LIMIT,
            versions=versions,
        )

    def _version_stats(self, scope: StatsScope, totals: VersionTotals, exceptions: list[tuple[str, int]], top: int) -> VersionStats:
        version, sums = totals.version, totals.sums
        p50, p95, p99 = self.stats.percentiles(scope, version, "duration_ms", sums.count, (0.5, 0.95, 0.99))
        measured = sums.measured
        s50, s95 = self.stats.percentiles(scope, version, "output_chars", measured, (0.5, 0.95))
        histogram = self.stats.size_histogram(scope, version, SIZE_EDGES) if measured else [0] * len(SIZE_EDGES)
        edges = [*SIZE_EDGES, None]
        failed = sums.count - sums.succeeded
        return VersionStats(
            version=version_label(*version),
            count=sums.count,
            succeeded=sums.succeeded,
            failed=failed,
            success_rate=_rate(sums.succeeded, sums.count),
            first_seen=_moment(sums.first_ms),
            last_seen=_moment(sums.last_ms),
            latency_ms=Percentiles(p50=p50, p95=p95, p99=p99, max=sums.duration_max),
            output_chars=OutputSizes(
                measured=measured,
                p50=s50,
                p95=s95,
                max=sums.output_max,
                at_or_over_threshold=sums.at_or_over_threshold,
                over_limit=sums.over_limit,
                share_at_or_over_threshold=_rate(sums.at_or_over_threshold, measured),
                share_over_limit=_rate(sums.over_limit, measured),
                histogram=[HistogramBin(low=low, high=high, count=count) for low, high, count in zip(edges, edges[1:], histogram)],  # type: ignore[arg-type]
            ),
            exceptions=[ExceptionCount(exception_type=kind, count=count, share=_rate(count, failed) or 0.0) for kind, count in exceptions[:top]],
            by_source=self._by_source(totals),
        )

    @staticmethod
    def _by_source(totals: VersionTotals) -> list[SourceCount]:
        """Counts per source type, older workbenches' own runs counted as regular conversations."""
        merged: dict[str, Sums] = {}
        for name, sums in totals.by_source.items():
            merged.setdefault(spec_source_type(name), Sums()).merge(sums)
        return [SourceCount(source_type=name, count=s.count, succeeded=s.succeeded) for name, s in sorted(merged.items())]

    def _series_range(
        self, wanted: str, since: datetime | None, until: datetime | None, totals: list[VersionTotals]
    ) -> tuple[Bucket | None, datetime | None, datetime | None]:
        """The series' step and its first and last step start; none without invocations."""
        if wanted == "none" or not totals:
            return None, None, None
        first = min(t.sums.first_ms for t in totals if t.sums.first_ms is not None)
        last = max(t.sums.last_ms for t in totals if t.sums.last_ms is not None)
        start = since or _moment(first)
        end = (until - timedelta(milliseconds=1)) if until else max(self.clock(), _moment(last) or self.clock())
        assert start is not None
        bucket: Bucket = ("hour" if end - start <= AUTO_HOURS_UP_TO else "day") if wanted == "auto" else wanted  # type: ignore[assignment]
        start, end = _floor(start, bucket), _floor(end, bucket)
        steps = (end - start) // STEP[bucket] + 1
        if steps > MAX_BUCKETS:
            if wanted == "hour":
                raise BadRequest(f"an hourly series of this window has {steps:,} steps, more than {MAX_BUCKETS:,}; give a shorter window (--since) or days as the step")
            start = end - STEP[bucket] * (MAX_BUCKETS - 1)  # the most recent steps
        return bucket, start, end

    @staticmethod
    def _series(hours: dict[tuple[VersionKey, int], Sums], versions: list[VersionKey], bucket: Bucket, start: datetime, end: datetime) -> list[list[SeriesPoint]]:
        """Each version's points at every step from ``start`` to ``end`` (empty steps too, so
        the series of all versions line up)."""
        step = STEP[bucket]
        steps = (end - start) // step + 1
        index = {version: i for i, version in enumerate(versions)}
        sums = [[Sums() for _ in range(steps)] for _ in versions]
        origin = hour_of(epoch_ms(start) or 0)
        per_step = 24 if bucket == "day" else 1
        for (version, hour), cell in hours.items():
            slot = (hour - origin) // per_step
            if version in index and 0 <= slot < steps:
                sums[index[version]][slot].merge(cell)
        return [
            [
                SeriesPoint(
                    start=start + step * i,
                    count=s.count,
                    failed=s.count - s.succeeded,
                    failure_rate=_rate(s.count - s.succeeded, s.count),
                    mean_ms=round(s.duration_total / s.count, 1) if s.count else None,
                    max_ms=s.duration_max if s.count else None,
                    at_or_over_threshold=s.at_or_over_threshold,
                )
                for i, s in enumerate(points)
            ]
            for points in sums
        ]

    def tool_activity(self, org_id: str, days: int = 14) -> list[ToolActivity]:
        """Every live tool's invocations and failures per UTC day over the last ``days`` days
        (today included), in the order of the tools list."""
        check_org(org_id)
        if not 1 <= days <= 366:
            raise BadRequest(f"days must be 1 to 366, not {days}")
        with self.metadata.read() as view:
            tools = sorted((t for t in view.tools.of_org(org_id) if not t.deprecated), key=lambda t: t.name)
        today = _floor(self.clock(), "day")
        first = today - timedelta(days=days - 1)
        origin = hour_of(epoch_ms(first) or 0)
        self.stats.sync()
        activity = []
        for tool in tools:
            counts, failures = [0] * days, [0] * days
            for hour, count, ok in self.stats.tool_hours(org_id, tool.id, origin):
                slot = (hour - origin) // 24
                if slot < days:
                    counts[slot] += count
                    failures[slot] += count - ok
            total, failed = sum(counts), sum(failures)
            activity.append(
                ToolActivity(
                    tool_id=tool.id,
                    tool_name=tool.name,
                    days=[first + timedelta(days=i) for i in range(days)],
                    counts=counts,
                    failures=failures,
                    total=total,
                    failed=failed,
                    failure_rate=_rate(failed, total),
                )
            )
        return activity
