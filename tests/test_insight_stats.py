"""Statistics per tool and version against a brute-force reference computed from the records
themselves (read back through the API), over a generated history plus records made to sit on the
edges: outputs of 4,999, 5,000 and 20,000 characters, outputs over the limit, a record written
in another time zone, records without inputs."""

from __future__ import annotations

import json
import math
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from workbench.core.models import ToolInvocationInstance
from workbench.core.service import ToolService
from workbench.errors import BadRequest, NotFound, ValidationFailed
from workbench.synthetic import generate_invocations

ORG = "acme"


def nearest_rank(values: list[int], q: float) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def record(tool_id: str, created: datetime, *, version=(1, 0, 0), output: str | None = None, failure: tuple[str, str] | None = None, duration: int = 10, source: str = "regular", mode: str = "regular", stamp: str | None = None) -> ToolInvocationInstance:
    status = {"succeeded": True, "output": output or "{}"} if failure is None else {"succeeded": False, "exception_type": failure[0], "exception_message": failure[1], "exception_stack_trace": []}
    src = (
        {"type": "regular-conversation", "user_id": "u", "conversation_id": None, "interaction_id": None, "invocation_metadata": {"type": "engage-user", "current_state_machine_and_version": ["sm", 1], "tool_call_round_index": 0}}
        if source == "regular"
        else {"type": "simulation-conversation", "simulation_unit_test_set_run_id": None, "unit_test_id": None, "run_index": None, "invocation_metadata": {"type": "engage-user", "current_state_machine_and_version": ["sm", 1], "tool_call_round_index": 0}}
    )
    when = stamp or created.isoformat()
    return ToolInvocationInstance.model_validate(
        {
            "id": f"{abs(hash((tool_id, when, duration, output, failure))) % 16**24:024x}",
            "org_id": ORG, "created_at": when, "updated_at": when, "invocation_status": status, "invocation_source": src, "logs": [],
            "duration_ms": duration, "tool_id": tool_id, "tool_version": dict(zip(("major", "minor", "patch"), version)),
            "inputs": {"input_parameters": {"q": duration}, "invocation_mode": mode, "nonsensitive_user_variables": {}, "sensitive_user_variables": {}},
        }
    )


@pytest.fixture
def history(service: ToolService, clock) -> dict[str, str]:
    tools = generate_invocations(service, ORG, 3000, seed=11, days=20, end=clock.now)
    tool = tools["report_generator"]
    now = clock.now
    edge = (5, 0, 0)  # a version the generated history does not have
    two_hours_ago = now - timedelta(hours=2)
    edges = [
        record(tool, now - timedelta(hours=5), version=edge, output="x" * 4_999, duration=7),
        record(tool, now - timedelta(hours=5, minutes=1), version=edge, output="x" * 5_000, duration=8),
        record(tool, now - timedelta(hours=5, minutes=2), version=edge, output="x" * 20_000, duration=900),
        record(tool, now - timedelta(hours=4), version=edge, failure=("OutputTooLarge", "the output is 25,000 characters; a tool's output may be at most 20,000"), duration=40),
        record(tool, now - timedelta(hours=4, minutes=1), version=edge, failure=("OutputTooLarge", "cut short"), duration=41),
        record(tool, now - timedelta(hours=3), version=(3, 0, 0), output="[1, 2]", source="simulation", mode="conversation-simulation", duration=3),
        # the same instant written in UTC and at +02:00: both count two hours ago, whatever their text says
        record(tool, two_hours_ago, version=(3, 0, 0), output="utc", stamp=two_hours_ago.replace(tzinfo=None).isoformat() + "+00:00", duration=5),
        record(tool, two_hours_ago, version=(3, 0, 0), output="zoned", stamp=(two_hours_ago + timedelta(hours=2)).replace(tzinfo=None).isoformat() + "+02:00", duration=6),
    ]
    service.import_invocations(edges)
    return tools


def every_record(service: ToolService, tool_id: str) -> list[ToolInvocationInstance]:
    records, token = [], 0
    while token is not None:
        page = service.list_invocations(ORG, {"tool_id": [tool_id], "version": ["*"], "limit": 100, "continuation_token": token})
        records += page.tool_invocations
        token = page.continuation_token
    return records


def measured(inv: ToolInvocationInstance) -> int | None:
    status = inv.invocation_status
    if status.succeeded:
        return len(status.output)
    if status.exception_type == "OutputTooLarge" and status.exception_message.startswith("the output is "):
        return int(status.exception_message.split()[3].replace(",", ""))
    return None


def reference(records: list[ToolInvocationInstance]) -> dict[str, dict]:
    by_version: dict[str, list[ToolInvocationInstance]] = {}
    for inv in records:
        by_version.setdefault(str(inv.tool_version), []).append(inv)
    expected = {}
    for label, items in by_version.items():
        durations = [i.duration_ms for i in items]
        sizes = [s for s in map(measured, items) if s is not None]
        failures = Counter(i.invocation_status.exception_type for i in items if not i.invocation_status.succeeded)
        sources = Counter(i.invocation_source.type for i in items)
        expected[label] = {
            "count": len(items),
            "succeeded": sum(1 for i in items if i.invocation_status.succeeded),
            "first_seen": min(i.created_at for i in items),
            "last_seen": max(i.created_at for i in items),
            "latency": (nearest_rank(durations, 0.5), nearest_rank(durations, 0.95), nearest_rank(durations, 0.99), max(durations)),
            "sizes": (len(sizes), nearest_rank(sizes, 0.5), nearest_rank(sizes, 0.95), max(sizes, default=None), sum(s >= 5000 for s in sizes), sum(s > 20000 for s in sizes)),
            "exceptions": sorted(failures.items(), key=lambda kv: (-kv[1], kv[0]))[:5],
            "sources": dict(sources),
            "histogram": [sum(1 for s in sizes if low <= s < low + 1000) for low in range(0, 20000, 1000)] + [sum(1 for s in sizes if s >= 20000)],
        }
    return expected


def observed(stats) -> dict[str, dict]:
    found = {}
    for v in stats.versions:
        found[v.version] = {
            "count": v.count,
            "succeeded": v.succeeded,
            "first_seen": v.first_seen,
            "last_seen": v.last_seen,
            "latency": (v.latency_ms.p50, v.latency_ms.p95, v.latency_ms.p99, v.latency_ms.max),
            "sizes": (v.output_chars.measured, v.output_chars.p50, v.output_chars.p95, v.output_chars.max, v.output_chars.at_or_over_threshold, v.output_chars.over_limit),
            "exceptions": [(e.exception_type, e.count) for e in v.exceptions],
            "sources": {s.source_type: s.count for s in v.by_source},
            "histogram": [b.count for b in v.output_chars.histogram],
        }
    return found


def close_times(found: dict, expected: dict) -> None:
    """The catalog keeps milliseconds: times agree to the millisecond."""
    for label in expected:
        for key in ("first_seen", "last_seen"):
            assert abs(found[label].pop(key) - expected[label].pop(key)) < timedelta(milliseconds=1), (label, key)


def test_every_number_matches_a_reference_computed_from_the_records(service: ToolService, history) -> None:
    for name, tool_id in history.items():
        stats = service.tool_stats(ORG, tool_id, {"bucket": "day"})
        expected, found = reference(every_record(service, tool_id)), observed(stats)
        close_times(found, expected)
        assert found == expected, name
        assert [v.version for v in stats.versions] == sorted(expected, key=lambda s: tuple(map(int, s.split("."))), reverse=True)
        for v in stats.versions:  # the series adds up to the whole, step by step in order
            assert sum(p.count for p in v.series) == v.count and sum(p.failed for p in v.series) == v.failed
            starts = [p.start for p in v.series]
            assert starts == sorted(starts) and all(b - a == timedelta(days=1) for a, b in zip(starts, starts[1:]))
            assert sum(b.count for b in v.output_chars.histogram) == v.output_chars.measured


def test_the_edges_of_the_threshold_and_the_limit(service: ToolService, history) -> None:
    stats = service.tool_stats(ORG, history["report_generator"], {"version": "==5.0.0"})
    [v] = stats.versions
    sizes = v.output_chars
    # 4,999 is under the threshold; 5,000 is at it (not kept by persisted-preferred); 20,000 is at
    # the limit (allowed); 25,000 was over it (failed, measured from its message); "cut short" has no size
    assert (sizes.measured, sizes.at_or_over_threshold, sizes.over_limit, sizes.max) == (4, 3, 1, 25_000)
    assert sizes.share_at_or_over_threshold == 0.75 and sizes.share_over_limit == 0.25
    assert [(b.low, b.count) for b in sizes.histogram if b.count] == [(4000, 1), (5000, 1), (20000, 2)]
    assert [(e.exception_type, e.count, e.share) for e in v.exceptions] == [("OutputTooLarge", 2, 1.0)]
    assert stats.persistence_threshold == 5000 and stats.output_limit == 20000


def test_a_window_source_and_mode_narrow_every_number_alike(service: ToolService, history, clock) -> None:
    tool_id = history["order_status"]
    since, until = clock.now - timedelta(days=9), clock.now - timedelta(days=2)
    stats = service.tool_stats(ORG, tool_id, {"since": since.isoformat(), "until": until.isoformat(), "invocation_source_type": ["simulation-conversation"], "bucket": "hour"})
    chosen = [i for i in every_record(service, tool_id) if since <= i.created_at < until and i.invocation_source.type == "simulation-conversation"]
    expected, found = reference(chosen), observed(stats)
    close_times(found, expected)
    assert found == expected and stats.bucket == "hour" and stats.since == since and stats.until == until
    assert len(stats.versions[0].series) == 7 * 24  # every hour of the window, empty ones too
    by_mode = service.tool_stats(ORG, tool_id, {"invocation_mode": ["conversation-simulation"], "bucket": "none"})
    chosen = [i for i in every_record(service, tool_id) if i.inputs["invocation_mode"] == "conversation-simulation"]
    assert {v.version: v.count for v in by_mode.versions} == dict(Counter(str(i.tool_version) for i in chosen))
    assert all(v.series == [] for v in by_mode.versions)


def test_times_count_by_the_instant_whatever_their_time_zone(service: ToolService, history, clock) -> None:
    stats = service.tool_stats(ORG, history["report_generator"], {"version": "3.0.0", "since": "150m", "bucket": "hour"})
    [v] = stats.versions
    assert v.count == 2  # the +00:00 record and the +02:00 one, both two hours ago; not the one three hours ago
    assert [p.count for p in v.series if p.count] == [2]
    assert v.by_source[0].source_type == "regular-conversation"


def test_auto_buckets_hours_for_short_windows_and_days_for_long_ones(service: ToolService, history) -> None:
    tool_id = history["text_stats"]
    assert service.tool_stats(ORG, tool_id, {"since": "2d"}).bucket == "hour"
    assert service.tool_stats(ORG, tool_id).bucket == "day"
    with pytest.raises(BadRequest, match="more than 1,000"):
        service.tool_stats(ORG, tool_id, {"since": "60d", "bucket": "hour"})


def test_activity_per_tool_per_day(service: ToolService, history, clock) -> None:
    activity = {a.tool_name: a for a in service.tool_activity(ORG, 7)}
    assert set(activity) == set(history)
    first = datetime(clock.now.year, clock.now.month, clock.now.day, tzinfo=UTC) - timedelta(days=6)
    for name, tool_id in history.items():
        records = [i for i in every_record(service, tool_id) if i.created_at >= first]
        days = activity[name].days
        assert days[0] == first and len(days) == 7
        assert activity[name].counts == [sum(1 for i in records if d <= i.created_at < d + timedelta(days=1)) for d in days]
        assert activity[name].failed == sum(1 for i in records if not i.invocation_status.succeeded)


def test_bad_questions_get_clear_answers(service: ToolService, history) -> None:
    tool_id = history["order_status"]
    with pytest.raises(BadRequest, match="since 'yesterday' is not understood: give an ISO 8601 date"):
        service.tool_stats(ORG, tool_id, {"since": "yesterday"})
    with pytest.raises(BadRequest, match="give until after since"):
        service.tool_stats(ORG, tool_id, {"since": "2026-01-02", "until": "2026-01-01"})
    with pytest.raises(ValidationFailed, match="invocation_source_type"):
        service.tool_stats(ORG, tool_id, {"invocation_source_type": ["chat"]})
    with pytest.raises(ValidationFailed, match="invalid version constraint"):
        service.tool_stats(ORG, tool_id, {"version": "one"})
    with pytest.raises(ValidationFailed, match="bucket"):
        service.tool_stats(ORG, tool_id, {"bucket": "minute"})
    with pytest.raises(NotFound):
        service.tool_stats(ORG, "f" * 24)
    with pytest.raises(BadRequest, match="days must be 1 to 366"):
        service.tool_activity(ORG, 0)
    empty = service.tool_stats(ORG, tool_id, {"version": "9.9.9"})
    assert empty.versions == [] and empty.count == 0


def test_the_invocation_list_filters_by_date_range_and_exception_type(service: ToolService, history, clock) -> None:
    tool_id = history["flaky_parser"]
    after, before = clock.now - timedelta(days=5), clock.now - timedelta(days=1)
    query = {"tool_id": [tool_id], "version": ["*"], "created_after": after.isoformat(), "created_before": before.isoformat(), "exception_type": ["KeyError", "ValueError"]}
    listed, token = [], 0
    while token is not None:
        page = service.list_invocations(ORG, {**query, "continuation_token": token})
        listed += page.tool_invocations
        token = page.continuation_token
    expected = [i for i in every_record(service, tool_id) if after <= i.created_at < before and not i.invocation_status.succeeded and i.invocation_status.exception_type in ("KeyError", "ValueError")]
    assert sorted(i.id for i in listed) == sorted(i.id for i in expected) and expected
    assert service.count_invocations(ORG, query) == len(expected)
    assert service.count_invocations(ORG, {"created_after": "25h"}) == sum(1 for t in history.values() for i in every_record(service, t) if i.created_at >= clock.now - timedelta(hours=25))
    with pytest.raises(BadRequest, match="created_after 'last week' is not understood"):
        service.list_invocations(ORG, {"created_after": "last week"})


def test_an_older_catalog_rebuilds_itself_with_the_new_columns(service: ToolService, settings, clock, history) -> None:
    before = service.tool_stats(ORG, history["order_status"])
    service.workspace.catalog.close()
    path = settings.paths().catalog
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    old = sqlite3.connect(path)  # the schema-1 catalog an older workbench left: no statistics columns
    old.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        INSERT INTO meta VALUES ('schema', '1'), ('generation', 'old');
        CREATE TABLE segments (name TEXT PRIMARY KEY, synced INTEGER NOT NULL);
        CREATE TABLE invocations (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, org_id TEXT NOT NULL, created_at TEXT NOT NULL,
            tool_id TEXT NOT NULL, major INTEGER, minor INTEGER, patch INTEGER, source_type TEXT, conversation_id TEXT, sim_run_id TEXT,
            succeeded INTEGER, segment TEXT NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL);
        """
    )
    old.commit()
    old.close()
    reopened = ToolService(settings, clock=clock)
    assert reopened.tool_stats(ORG, history["order_status"]) == before
    assert "schema 1" in reopened.workspace.catalog.last_rebuild()["reason"]
    health = {f.part: f for f in reopened.data_health().findings}
    assert all(f.healthy for f in health.values()), [f for f in health.values() if not f.healthy]
    hits = reopened.search_page(ORG, {"query": "order"}, on_rebuild=lambda done, total: None).hits
    assert hits  # the search index followed the new catalog


def test_stats_json_is_plain_json(service: ToolService, history) -> None:
    body = service.tool_stats(ORG, history["crm_account"]).model_dump(mode="json")
    assert json.loads(json.dumps(body)) == body and body["versions"][0]["series"]


@pytest.mark.parametrize(
    "since, until",
    [
        (timedelta(days=3, minutes=41), timedelta(days=3, minutes=17)),  # inside one hour: no whole hour
        (timedelta(days=3, minutes=17), timedelta(days=2, hours=22, minutes=30)),  # a partial hour, a whole one, a partial one
        (timedelta(days=6), timedelta(days=1)),  # hour-aligned ends (the clock is a few microseconds past noon)
        (timedelta(days=5, minutes=59, seconds=59), None),
    ],
)
def test_windows_with_partial_hours_add_up_like_the_records(service: ToolService, history, clock, since, until) -> None:
    tool_id = history["weather_lookup"]
    noon = clock.now.replace(microsecond=0)
    start, end = noon - since, (noon - until if until else None)
    stats = service.tool_stats(ORG, tool_id, {"since": start.isoformat(), "until": end.isoformat() if end else None, "bucket": "hour"})
    chosen = [i for i in every_record(service, tool_id) if start <= i.created_at and (end is None or i.created_at < end)]
    expected, found = reference(chosen), observed(stats)
    close_times(found, expected)
    assert found == expected
    assert sum(p.count for v in stats.versions for p in v.series) == len(chosen)


def test_numbers_stay_right_as_invocations_arrive_in_hours_already_counted(service: ToolService, history, clock) -> None:
    tool_id = history["text_stats"]
    service.tool_stats(ORG, tool_id)  # the roll-up holds these hours now
    late = [record(tool_id, clock.now - timedelta(hours=h, minutes=m), version=(1, 1, 0), output="y" * (m * 100), duration=m) for h in (1, 30, 200) for m in (5, 25)]
    service.import_invocations(late)
    expected, found = reference(every_record(service, tool_id)), observed(service.tool_stats(ORG, tool_id))
    close_times(found, expected)
    assert found == expected


def test_the_catalog_counts_sizes_against_the_same_marks_as_the_core() -> None:
    from workbench.core.persistence import PERSISTENCE_THRESHOLD
    from workbench.core.running import OUTPUT_LIMIT
    from workbench.store.catalog_schema import LIMIT, THRESHOLD

    assert (THRESHOLD, LIMIT) == (PERSISTENCE_THRESHOLD, OUTPUT_LIMIT)
