"""The workbench's extra endpoints for conversation simulation, beside the Tools API's paths
(under ``/v1/{organization}/workbench/``, which the hosted API does not have):

    POST /v1/{organization}/workbench/graph/check   body: a context graph document -> GraphCheck
    POST /v1/{organization}/workbench/simulation    body: SimulationRequest -> SimulationReport
                                                    (?report=junit: the report as JUnit XML)

Behind the same authentication, organization checks and rate limits as every operation: the
application hands in its own ``guard`` (operation id -> a FastAPI dependency)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Body, Query, Response

from workbench.core.api import ServedApi
from workbench.core.results import Identity
from workbench.core.simulation.junit import junit_xml
from workbench.core.simulation.report import GraphCheck, SimulationReport
from workbench.core.simulation.scenario import SimulationRequest

Guard = Callable[[str], Any]
"""``guard(operation_id)``: the dependency that authenticates, authorizes the path's organization
and rate-limits; it yields the caller's :class:`Identity` (or None where no sign-in is needed)."""


def simulation_router(service: ServedApi, guard: Guard) -> APIRouter:
    """The simulation endpoints over ``service``, each behind ``guard``."""
    router = APIRouter(tags=["workbench simulation"])

    @router.post("/v1/{organization}/workbench/graph/check", response_model=GraphCheck, operation_id="check-context-graph")
    def check_graph(organization: str, body: dict[str, Any] = Body(..., description="A context graph: name, version, states."), identity: Identity | None = guard("check-context-graph")) -> Any:
        """Check a context graph's tool call specs against the organization's tools and versions."""
        return service.check_graph(organization, body)

    @router.post("/v1/{organization}/workbench/simulation", response_model=SimulationReport, operation_id="simulate-scenario")
    def simulate(
        organization: str,
        body: SimulationRequest,
        report: Literal["json", "junit"] = Query(default="json", description="json: the report; junit: the report as JUnit XML."),
        identity: Identity | None = guard("simulate-scenario"),
    ) -> Any:
        """Run a scenario over its graph; every call is recorded with its conversation source."""
        result = service.simulate(organization, body, user_id=identity.user_id if identity else None)
        if report == "junit":
            return Response(junit_xml([result]), media_type="application/xml")
        return result

    return router
