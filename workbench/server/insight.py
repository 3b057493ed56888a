"""Version insight over HTTP: the workbench's extension of the Tools API under
``/v1/{organization}/insight/``. The hosted API has none of these paths; ``workbench serve``
answers them for the remote mode of the CLI and the app, with the same bearer tokens.

    GET  /insight/tool/{tool_id}/stats            statistics per version (query: version, since, until,
                                                  invocation_source_type, invocation_mode, bucket, top_exceptions)
    GET  /insight/tool/{tool_id}/stats.html       the same as a self-contained HTML report
    GET  /insight/activity                        invocations and failures per day per tool (days)
    POST /insight/invocation/{invocation_id}/replay
    POST /insight/tool/{tool_id}/compare
    GET  /insight/tool/{tool_id}/fixtures         recorded invocations as a fixture file (version, succeeded, limit, format)
    POST /insight/fixtures/check                  fixtures against a branch
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Header, Query
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
from workbench.core.models import InvocationMode
from workbench.core.results import Identity


def insight_router(service: ServedApi) -> APIRouter:
    """The insight paths over ``service``; include it in the API application
    (``app.include_router(insight_router(service))``), whose error handlers it relies on."""
    router = APIRouter(prefix="/v1/{organization}/insight", tags=["insight"])

    def signed_in(organization: str, authorization: str | None = Header(default=None), x_org_id: str | None = Header(default=None)) -> Identity:
        scheme, _, token = (authorization or "").partition(" ")
        identity = service.authenticate(token if scheme.lower() == "bearer" else None)
        service.authorize(identity, organization, x_org_id)
        return identity

    def stats_query(
        version: str | None = None,
        since: str | None = None,
        until: str | None = None,
        invocation_source_type: list[str] = Query(default=[]),
        invocation_mode: list[InvocationMode] = Query(default=[]),
        bucket: str = "auto",
        top_exceptions: int = 5,
    ) -> dict[str, Any]:
        return dict(
            version=version, since=since, until=until, invocation_source_type=invocation_source_type,
            invocation_mode=invocation_mode, bucket=bucket, top_exceptions=top_exceptions,
        )

    @router.get("/tool/{tool_id}/stats", response_model=ToolStats, operation_id="get-tool-stats")
    def tool_stats(organization: str, tool_id: str, query: dict[str, Any] = Depends(stats_query), identity: Identity = Depends(signed_in)) -> Any:
        return service.tool_stats(organization, tool_id, query)

    @router.get("/tool/{tool_id}/stats.html", response_class=HTMLResponse, operation_id="get-tool-stats-report")
    def tool_stats_report(organization: str, tool_id: str, query: dict[str, Any] = Depends(stats_query), identity: Identity = Depends(signed_in)) -> HTMLResponse:
        return HTMLResponse(stats_report_html(service.tool_stats(organization, tool_id, query), datetime.now(UTC)))

    @router.get("/activity", response_model=list[ToolActivity], operation_id="get-tool-activity")
    def activity(organization: str, days: int = 14, identity: Identity = Depends(signed_in)) -> Any:
        return service.tool_activity(organization, days)

    @router.post("/invocation/{invocation_id}/replay", response_model=ReplayResult, operation_id="replay-invocation")
    def replay(organization: str, invocation_id: str, body: ReplayRequest, identity: Identity = Depends(signed_in)) -> Any:
        return service.replay_invocation(organization, invocation_id, body, user_id=identity.user_id)

    @router.post("/tool/{tool_id}/compare", response_model=Comparison, operation_id="compare-tool-versions")
    def compare(organization: str, tool_id: str, body: CompareRequest, identity: Identity = Depends(signed_in)) -> Any:
        return service.compare_versions(organization, tool_id, body, user_id=identity.user_id)

    @router.get("/tool/{tool_id}/fixtures", response_model=ExportedFixtures, operation_id="export-fixtures")
    def fixtures(
        organization: str,
        tool_id: str,
        version: str | None = None,
        succeeded: bool | None = None,
        limit: int = 50,
        format: str = "jsonl",  # noqa: A002 (the query parameter's name)
        identity: Identity = Depends(signed_in),
    ) -> Any:
        return service.export_fixtures(organization, tool_id, dict(version=version, succeeded=succeeded, limit=limit, format=format))

    @router.post("/fixtures/check", response_model=FixtureReport, operation_id="check-fixtures")
    def check(organization: str, body: FixtureCheckRequest, identity: Identity = Depends(signed_in)) -> Any:
        return service.check_fixtures(organization, body)

    return router
