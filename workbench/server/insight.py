"""The workbench's extra endpoints for version insight, beside the Tools API's paths (under
``/v1/{organization}/workbench/``, which the hosted API does not have):

    GET  /v1/{organization}/workbench/tool/{tool_id}/stats        statistics per version (query: version,
                                                                  since, until, invocation_source_type,
                                                                  invocation_mode, bucket, top_exceptions)
    GET  /v1/{organization}/workbench/tool/{tool_id}/stats.html   the same as a self-contained HTML report
    GET  /v1/{organization}/workbench/activity                    invocations and failures per day per tool
    POST /v1/{organization}/workbench/invocation/{id}/replay      body: ReplayRequest -> ReplayResult
    POST /v1/{organization}/workbench/tool/{tool_id}/compare      body: CompareRequest -> Comparison
    GET  /v1/{organization}/workbench/tool/{tool_id}/fixtures     recorded invocations as a fixture file
    POST /v1/{organization}/workbench/fixtures/check              body: FixtureCheckRequest -> FixtureReport

Behind the same authentication, organization checks, permissions and rate limits as every
operation: the application hands in its own ``guard`` (operation id -> a FastAPI dependency)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from workbench.core.api import ServedApi
from workbench.core.insight_models import (
    CompareRequest,
    Comparison,
    ExportedFixtures,
    FixtureCheckRequest,
    FixtureReport,
    ReplayRequest,
    ReplayResult,
    ToolActivity,
    ToolStats,
)
from workbench.core.insight_report import stats_report_html
from workbench.core.models import InvocationMode, InvocationSourceType
from workbench.core.results import Identity

Guard = Callable[[str], Any]
"""``guard(operation_id)``: the dependency that authenticates, authorizes the path's organization
and the operation, and rate-limits; it yields the caller's :class:`Identity`."""


def stats_query(
    version: str | None = None,
    since: str | None = None,
    until: str | None = None,
    invocation_source_type: list[InvocationSourceType] = Query(default=[]),
    invocation_mode: list[InvocationMode] = Query(default=[]),
    bucket: Literal["auto", "hour", "day", "none"] = "auto",
    top_exceptions: int = 5,
) -> dict[str, Any]:
    """The stats query from the URL's parameters."""
    return dict(
        version=version, since=since, until=until, invocation_source_type=invocation_source_type,
        invocation_mode=invocation_mode, bucket=bucket, top_exceptions=top_exceptions,
    )


def insight_router(service: ServedApi, guard: Guard) -> APIRouter:
    """The insight endpoints over ``service``, each behind ``guard``."""
    router = APIRouter(prefix="/v1/{organization}/workbench", tags=["workbench insight"])

    @router.get("/tool/{tool_id}/stats", response_model=ToolStats, operation_id="get-tool-stats")
    def tool_stats(organization: str, tool_id: str, query: dict[str, Any] = Depends(stats_query), identity: Identity = guard("get-tool-stats")) -> Any:
        """Statistics per version of a tool over a window."""
        return service.tool_stats(organization, tool_id, query)

    @router.get("/tool/{tool_id}/stats.html", response_class=HTMLResponse, operation_id="get-tool-stats-report")
    def tool_stats_report(organization: str, tool_id: str, query: dict[str, Any] = Depends(stats_query), identity: Identity = guard("get-tool-stats-report")) -> HTMLResponse:
        """The statistics as one self-contained HTML page with SVG charts."""
        return HTMLResponse(stats_report_html(service.tool_stats(organization, tool_id, query), datetime.now(UTC)))

    @router.get("/activity", response_model=list[ToolActivity], operation_id="get-tool-activity")
    def activity(organization: str, days: int = 14, identity: Identity = guard("get-tool-activity")) -> Any:
        """Every live tool's invocations and failures per UTC day."""
        return service.tool_activity(organization, days)

    @router.post("/invocation/{invocation_id}/replay", response_model=ReplayResult, operation_id="replay-invocation")
    def replay(organization: str, invocation_id: str, body: ReplayRequest, identity: Identity = guard("replay-invocation")) -> Any:
        """Run a recorded invocation's input again beside the original."""
        return service.replay_invocation(organization, invocation_id, body, user_id=identity.user_id)

    @router.post("/tool/{tool_id}/compare", response_model=Comparison, operation_id="compare-tool-versions")
    def compare(organization: str, tool_id: str, body: CompareRequest, identity: Identity = guard("compare-tool-versions")) -> Any:
        """The same inputs on two versions, each pair judged."""
        return service.compare_versions(organization, tool_id, body, user_id=identity.user_id)

    @router.get("/tool/{tool_id}/fixtures", response_model=ExportedFixtures, operation_id="export-fixtures")
    def fixtures(
        organization: str,
        tool_id: str,
        version: str | None = None,
        succeeded: bool | None = None,
        limit: int = 50,
        format: Literal["jsonl", "pytest"] = "jsonl",  # noqa: A002 (the query parameter's name)
        identity: Identity = guard("export-fixtures"),
    ) -> Any:
        """Recorded invocations as a fixture file, secrets masked."""
        return service.export_fixtures(organization, tool_id, dict(version=version, succeeded=succeeded, limit=limit, format=format))

    @router.post("/fixtures/check", response_model=FixtureReport, operation_id="check-fixtures")
    def check(organization: str, body: FixtureCheckRequest, identity: Identity = guard("check-fixtures")) -> Any:
        """Fixtures run against a branch's tip."""
        return service.check_fixtures(organization, body)

    return router
