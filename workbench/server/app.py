"""The Tools API over HTTP: the same methods, paths, query parameters, bodies and status codes as
the hosted API, answered by the service. Thin: authentication, translation, rendering."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
import math
import time
from typing import Any

from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from workbench.core.api import ServedApi
from workbench.core.models import ObjectId
from workbench.core.requests import (
    CreateToolRequest,
    CreateToolResponse,
    InvokeRequest,
    InvokeResponse,
    ListInvocationsResponse,
    ListToolsResponse,
    ListVersionsResponse,
    ModifyEnvVarsRequest,
    ModifyToolRequest,
    PublishRequest,
    PublishResponse,
    SearchInvocationsResponse,
    TestToolRequest,
)
from workbench.core.results import Identity
from workbench.errors import RateLimited, ServiceUnavailable, WorkbenchError, validation_error_from_pydantic
from workbench.server.limits import RateLimiter

ToolId = ObjectId


def create_app(service: ServedApi, strict_limits: bool = False, background_indexing: bool = True) -> FastAPI:
    """The API application over ``service``. ``strict_limits`` enforces the per-endpoint rate
    limits (429 with Retry-After and X-RateLimit-* headers)."""
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if background_indexing:
            service.start_background_work()  # new invocations are searchable within moments
        yield
        if background_indexing:
            service.stop_background_work()

    app = FastAPI(title="Tool Workbench: Tools API", version="1", description="The hosted Tools API, served locally by Tool Workbench.", lifespan=lifespan)
    limiter = RateLimiter()

    @app.exception_handler(WorkbenchError)
    def workbench_error(request: Request, error: WorkbenchError) -> JSONResponse:
        headers = {}
        if isinstance(error, RateLimited):
            headers = error.details.pop("headers", {})
        elif isinstance(error, ServiceUnavailable):
            headers = {"Retry-After": "5"}
        return JSONResponse(error.to_body(), status_code=error.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        failed = validation_error_from_pydantic(error, "request")
        return JSONResponse(failed.to_body(), status_code=422)

    def guard(operation: str, authenticated: bool = True):
        """Authenticate (Bearer token of the path's org; X-ORG-ID checked) and rate-limit."""

        def dependency(
            request: Request,
            response: Response,
            organization: str,
            authorization: str | None = Header(default=None),
            x_org_id: str | None = Header(default=None),
        ) -> Identity | None:
            identity = None
            caller = request.client.host if request.client else "local"
            if authenticated:
                scheme, _, token = (authorization or "").partition(" ")
                identity = service.authenticate(token if scheme.lower() == "bearer" else None)
                service.authorize(identity, organization, x_org_id)
                caller = identity.key_id
            if strict_limits:
                allowed, limit, remaining, reset = limiter.hit(caller, operation)
                headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset": str(int(time.time() + math.ceil(reset)))}
                if not allowed:
                    raise RateLimited(
                        f"rate limit exceeded: {limit} requests per minute for {operation}; retry in {math.ceil(reset)} s",
                        retry_after=math.ceil(reset),
                        headers={**headers, "Retry-After": str(math.ceil(reset))},
                    )
                response.headers.update(headers)
            return identity

        return Depends(dependency)

    def user(identity: Identity | None) -> str | None:
        return identity.user_id if identity else None

    # -- sign-in ------------------------------------------------------------------------------

    @app.post("/v1/{organization}/user/signin_with_api_key", operation_id="sign-in-with-api-key", tags=["user"])
    def sign_in(
        organization: str,
        x_api_key: str | None = Header(default=None),
        x_api_key_id: str | None = Header(default=None),
        x_user_id: str | None = Header(default=None),
        _: Any = guard("sign-in-with-api-key", authenticated=False),
    ) -> dict[str, Any]:
        signed_in = service.sign_in(organization, x_api_key_id, x_api_key, x_user_id)
        return {"id_token": signed_in.token, "expires_at": signed_in.expires_at.isoformat()}

    # -- tools (fixed paths before /{tool_id}) ------------------------------------------------

    @app.get("/v1/{organization}/tool/amigo_tool_scaffold.tar.gz", operation_id="get-tool-scaffold-release", tags=["tool"])
    def scaffold(organization: str, identity: Identity = guard("get-tool-scaffold-release")) -> Response:
        return Response(service.scaffold_archive(), media_type="application/gzip")

    @app.post("/v1/{organization}/tool/", status_code=201, response_model=CreateToolResponse, operation_id="create-tool", tags=["tool"])
    def create_tool(organization: str, body: CreateToolRequest, identity: Identity = guard("create-tool")) -> Any:
        return service.create_tool(organization, body, user_id=user(identity))

    @app.get("/v1/{organization}/tool/", response_model=ListToolsResponse, operation_id="get-tools", tags=["tool"])
    def get_tools(
        organization: str,
        id: list[str] = Query(default=[]),  # noqa: A002 (the API's name)
        deprecated: bool | None = None,
        sort_by: list[str] = Query(default=[]),
        tag: list[str] = Query(default=[]),
        limit: int = 10,
        continuation_token: int = 0,
        identity: Identity = guard("get-tools"),
    ) -> Any:
        return service.list_tools(organization, {"id": id, "deprecated": deprecated, "sort_by": sort_by, "tag": tag, "limit": limit, "continuation_token": continuation_token})

    @app.post("/v1/{organization}/tool/test", response_model=InvokeResponse, operation_id="test-tool", tags=["tool"])
    def test_tool(organization: str, body: TestToolRequest, identity: Identity = guard("test-tool")) -> Any:
        return service.test_tool(organization, body)

    @app.get("/v1/{organization}/tool/invocation", response_model=ListInvocationsResponse, operation_id="get-tool-invocations", tags=["tool"])
    def get_invocations(
        organization: str,
        tool_id: list[str] = Query(default=[]),
        version: list[str] = Query(default=[]),
        invocation_source_type: list[str] = Query(default=[]),
        conversation_id: list[str] = Query(default=[]),
        simulation_unit_test_set_run_id: list[str] = Query(default=[]),
        succeeded: bool | None = None,
        limit: int = 100,
        continuation_token: int = 0,
        sort_by: list[str] = Query(default=[]),
        identity: Identity = guard("get-tool-invocations"),
    ) -> Any:
        return service.list_invocations(organization, dict(tool_id=tool_id, version=version, invocation_source_type=invocation_source_type, conversation_id=conversation_id, simulation_unit_test_set_run_id=simulation_unit_test_set_run_id, succeeded=succeeded, limit=limit, continuation_token=continuation_token, sort_by=sort_by))

    @app.get("/v1/{organization}/tool/invocation/search", response_model=SearchInvocationsResponse, operation_id="search-tool-invocations", tags=["tool"])
    def search_invocations(
        organization: str,
        query: str,
        query_against: list[str] = Query(default=[]),
        tool_id: list[str] = Query(default=[]),
        invocation_source_type: list[str] = Query(default=[]),
        conversation_id: list[str] = Query(default=[]),
        simulation_unit_test_set_run_id: list[str] = Query(default=[]),
        succeeded: bool | None = None,
        order: str = Query(default="newest", description="Workbench extension: newest or relevance."),
        limit: int = Query(default=50, description="Workbench extension: at most this many hits (1-100)."),
        identity: Identity = guard("search-tool-invocations"),
    ) -> Any:
        return service.search_invocations(organization, dict(query=query, query_against=query_against, tool_id=tool_id, invocation_source_type=invocation_source_type, conversation_id=conversation_id, simulation_unit_test_set_run_id=simulation_unit_test_set_run_id, succeeded=succeeded, order=order, limit=limit))

    @app.post("/v1/{organization}/tool/{tool_id}", status_code=204, operation_id="modify-tool", tags=["tool"])
    def modify_tool(organization: str, tool_id: str, body: ModifyToolRequest, identity: Identity = guard("modify-tool")) -> Response:
        service.modify_tool(organization, tool_id, body, user_id=user(identity))
        return Response(status_code=204)

    @app.delete("/v1/{organization}/tool/{tool_id}", status_code=204, operation_id="deprecate-tool", tags=["tool"])
    def deprecate_tool(organization: str, tool_id: str, identity: Identity = guard("deprecate-tool")) -> Response:
        service.deprecate_tool(organization, tool_id, user_id=user(identity))
        return Response(status_code=204)

    @app.post("/v1/{organization}/tool/{tool_id}/envvar", status_code=204, operation_id="modify-tool-envvars", tags=["tool"])
    def modify_envvars(organization: str, tool_id: str, body: ModifyEnvVarsRequest, identity: Identity = guard("modify-tool-envvars")) -> Response:
        service.modify_envvars(organization, tool_id, body, user_id=user(identity))
        return Response(status_code=204)

    @app.post("/v1/{organization}/tool/{tool_id}/version", status_code=201, response_model=PublishResponse, operation_id="publish-tool-version", tags=["tool"])
    def publish(organization: str, tool_id: str, body: PublishRequest, identity: Identity = guard("publish-tool-version")) -> Any:
        return service.publish_version(organization, tool_id, body, user_id=user(identity))

    @app.get("/v1/{organization}/tool/{tool_id}/version", response_model=ListVersionsResponse, operation_id="get-tool-versions", tags=["tool"])
    def get_versions(
        organization: str,
        tool_id: str,
        deprecated: bool | None = None,
        versions: str | None = None,
        version_constraint: str | None = Query(default=None, description="The seed document's name for `versions`."),
        sort_by: list[str] = Query(default=[]),
        creator: list[str] = Query(default=[]),
        limit: int = 50,
        continuation_token: int = 0,
        identity: Identity = guard("get-tool-versions"),
    ) -> Any:
        return service.list_versions(organization, tool_id, dict(deprecated=deprecated, versions=versions, version_constraint=version_constraint, sort_by=sort_by, creator=creator, limit=limit, continuation_token=continuation_token))

    @app.delete("/v1/{organization}/tool/{tool_id}/version/{versions}", status_code=204, operation_id="deprecate-tool-version", tags=["tool"])
    def deprecate_versions(organization: str, tool_id: str, versions: str, identity: Identity = guard("deprecate-tool-version")) -> Response:
        service.deprecate_versions(organization, tool_id, versions, user_id=user(identity))
        return Response(status_code=204)

    @app.post("/v1/{organization}/tool/{tool_id}/version/{version}/invoke", response_model=InvokeResponse, operation_id="invoke-tool-version", tags=["tool"])
    def invoke(organization: str, tool_id: str, version: str, body: InvokeRequest, identity: Identity = guard("invoke-tool-version")) -> Any:
        from workbench.core.models import WorkbenchInvocationSource

        return service.invoke_version(organization, tool_id, version, body, user_id=user(identity), source=WorkbenchInvocationSource(user_id=user(identity) or "api", interface="api"))

    from workbench.server.simulation import simulation_router

    app.include_router(simulation_router(service, guard))  # the documented extra: scenarios and graph checks

    return app

