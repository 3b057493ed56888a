"""Requests and results of version insight: statistics per tool and version, activity for the
tools list, replay, compare and fixtures.

These are workbench extensions (the hosted Tools API has none of them); the faces import this
module as they import ``core.models`` and ``core.requests``. Times are UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from workbench.core.models import ApiModel, Input, InvocationMode, InvocationSourceType
from workbench.core.requests import ProjectPath
from workbench.core.time_window import TIME_BOUND_HELP

# -- statistics ---------------------------------------------------------------------------------

Bucket = Literal["hour", "day"]


class StatsQuery(ApiModel):
    """Which invocations of a tool to describe, and how finely over time."""

    version: str | None = Field(default=None, description="A PEP 440 constraint or an exact version; every version when empty.")
    since: str | None = Field(default=None, description=f"From ({TIME_BOUND_HELP}).")
    until: str | None = Field(default=None, description=f"Until, exclusive ({TIME_BOUND_HELP}).")
    invocation_source_type: list[InvocationSourceType] = Field(default_factory=list)
    invocation_mode: list[InvocationMode] = Field(default_factory=list)
    bucket: Literal["auto", "hour", "day", "none"] = Field(default="auto", description="The time series' step: auto is hours for up to 3 days, else days.")
    top_exceptions: int = Field(default=5, ge=0, le=50)


class Percentiles(ApiModel):
    """Nearest-rank percentiles and the largest value."""

    p50: int | None = None
    p95: int | None = None
    p99: int | None = None
    max: int | None = None


class HistogramBin(ApiModel):
    """Outputs of ``low`` up to ``high`` characters (``high`` exclusive; None: no upper end)."""

    low: int
    high: int | None
    count: int


class OutputSizes(ApiModel):
    """Output sizes in characters, of the invocations whose size is known (successes, and
    failures for an output over the limit)."""

    measured: int
    p50: int | None = None
    p95: int | None = None
    max: int | None = None
    at_or_over_threshold: int = 0
    over_limit: int = 0
    share_at_or_over_threshold: float | None = None
    share_over_limit: float | None = None
    histogram: list[HistogramBin] = Field(default_factory=list)


class ExceptionCount(ApiModel):
    exception_type: str
    count: int
    share: float = Field(description="Of this version's failures.")


class SourceCount(ApiModel):
    source_type: str
    count: int
    succeeded: int


class SeriesPoint(ApiModel):
    """One step of a version's time series. Latency here is the mean and the largest of the
    step (percentiles are for the whole window)."""

    start: datetime
    count: int
    failed: int
    failure_rate: float | None
    mean_ms: float | None
    max_ms: int | None
    at_or_over_threshold: int


class VersionStats(ApiModel):
    """One version's invocations in the window."""

    version: str
    count: int
    succeeded: int
    failed: int
    success_rate: float | None
    first_seen: datetime | None
    last_seen: datetime | None
    latency_ms: Percentiles
    output_chars: OutputSizes
    exceptions: list[ExceptionCount]
    by_source: list[SourceCount]
    series: list[SeriesPoint] = Field(default_factory=list)


class ToolStats(ApiModel):
    """A tool's versions as a whole, highest version first."""

    tool_id: str
    tool_name: str
    since: datetime | None
    until: datetime | None
    bucket: Bucket | None
    persistence_threshold: int
    output_limit: int
    versions: list[VersionStats]

    @property
    def count(self) -> int:
        return sum(v.count for v in self.versions)


class ToolActivity(ApiModel):
    """A tool's invocations per UTC day over the last days, oldest first (the Tools list)."""

    tool_id: str
    tool_name: str
    days: list[datetime]
    counts: list[int]
    failures: list[int]
    total: int
    failed: int
    failure_rate: float | None


# -- replay and compare -------------------------------------------------------------------------

Verdict = Literal["same", "changed", "newly failing", "newly fixed"]


class Change(ApiModel):
    """One difference between two outputs: where (``$`` is the whole output, ``$.a[0]`` a part),
    what kind, and the values."""

    path: str
    kind: Literal["added", "removed", "changed"]
    before: Any = None
    after: Any = None


class RunOutcome(ApiModel):
    """One run of an input: recorded or just made."""

    invocation_id: str | None
    version: str
    succeeded: bool
    output: str | None = None
    exception_type: str | None = None
    exception_message: str | None = None
    exception_stack_trace: list[str] = Field(default_factory=list)
    duration_ms: int
    logs: list[str] = Field(default_factory=list)


class ReplayRequest(ApiModel):
    version: str | None = Field(default=None, description="Run on this version (exact or constraint); the original's when empty.")
    sensitive_user_variables: dict[str, str] = Field(default_factory=dict, description="Values for sensitive user variables masked when recorded.")


class ReplayResult(ApiModel):
    """A recorded invocation's input run again, beside the original."""

    input: dict[str, Any]
    original: RunOutcome
    replay: RunOutcome
    verdict: Verdict
    changes: list[Change]
    duration_ratio: float | None
    notes: list[str]


class CompareRequest(ApiModel):
    """Two versions and the inputs to run on both: given, or the most recent distinct inputs
    recorded for the tool."""

    version_a: str
    version_b: str
    inputs: list[Input] = Field(default_factory=list, max_length=100)
    from_history: int | None = Field(default=None, ge=1, le=100)


class InputComparison(ApiModel):
    index: int
    input: dict[str, Any]
    a: RunOutcome
    b: RunOutcome
    verdict: Verdict
    changes: list[Change]
    duration_ratio: float | None


class ComparisonSummary(ApiModel):
    same: int
    changed: int
    newly_failing: int
    newly_fixed: int
    failed_a: int
    failed_b: int
    p50_a_ms: int | None
    p50_b_ms: int | None
    p50_ratio: float | None


class Comparison(ApiModel):
    """The same inputs on two versions, run in parallel; every run is recorded, tagged with the
    comparison's run ids (as conversation or simulation run id, by mode)."""

    tool_id: str
    version_a: str
    version_b: str
    run_ids: list[str]
    inputs: list[InputComparison]
    summary: ComparisonSummary
    wall_ms: int
    notes: list[str]


# -- fixtures -----------------------------------------------------------------------------------


class FixtureInput(ApiModel):
    input_parameters: dict[str, Any]
    invocation_mode: InvocationMode = "regular"
    nonsensitive_user_variables: dict[str, str] = Field(default_factory=dict)
    sensitive_user_variables: dict[str, str] = Field(default_factory=dict)


class FixtureExpectation(ApiModel):
    """What the recorded run did: an output (as JSON when it was JSON) or an exception type."""

    succeeded: bool
    output: str | None = None
    output_json: Any = None
    exception_type: str | None = None


class FixtureOrigin(ApiModel):
    invocation_id: str
    version: str
    created_at: datetime


class Fixture(ApiModel):
    """One recorded input with what it should give; ``ignore`` lists output paths that may differ."""

    name: str
    input: FixtureInput
    expected: FixtureExpectation
    ignore: list[str] = Field(default_factory=list)
    recorded: FixtureOrigin | None = None


class ExportQuery(ApiModel):
    version: str | None = None
    succeeded: bool | None = None
    limit: int = Field(default=50, ge=1, le=1000)
    format: Literal["jsonl", "pytest"] = "jsonl"


class ExportedFixtures(ApiModel):
    """A fixture file's content, ready to write into the tool's repository."""

    format: Literal["jsonl", "pytest"]
    count: int
    content: str
    notes: list[str]


class FixtureCheckRequest(ApiModel):
    """Fixtures (a JSONL file's text) checked against a branch's tip: with the tool's own stored
    variables when ``tool_id`` is given, else with the variables given here."""

    fixtures: str
    commit_branch: str
    project_path: str = ProjectPath
    tool_id: str | None = None
    required_envvars: dict[str, str] = Field(default_factory=dict)
    required_secret_envvars: dict[str, str] = Field(default_factory=dict)


class FixtureResult(ApiModel):
    name: str
    passed: bool
    problem: str | None
    expected: FixtureExpectation
    actual: RunOutcome
    changes: list[Change]


class FixtureReport(ApiModel):
    passed: int
    failed: int
    results: list[FixtureResult]
