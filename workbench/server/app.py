"""The Tools API over HTTP: the same methods, paths, query parameters, bodies, status codes and
error bodies as the hosted API, answered by the service. Thin: authentication, translation,
rendering. What it states about itself is served at /openapi.json (``contract.py``); what it
refuses at the door, and how every error reads, is ``wire.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Path, Query, Response

from workbench.core.api import ServedApi
from workbench.core.invocation_list import InvocationListQuery
from workbench.core.requests import (
    CreateToolBody,
    CreateToolResponse,
    InvokeBody,
    InvokeResponse,
    ListInvocationsResponse,
    ListToolsQuery,
    ListToolsResponse,
    ListVersionsQuery,
    ListVersionsResponse,
    ModifyEnvVarsRequest,
    ModifyToolRequest,
    PublishRequest,
    PublishResponse,
    SearchInvocationsParams,
    SearchInvocationsResponse,
    SignInResponse,
    TestToolBody,
)
from workbench.core.results import Identity
from workbench.core.sizes import MAX_USER_ID, MAX_VERSION_CONSTRAINT
from workbench.names import OBJECT_ID_PATTERN
from workbench.server.auth import Guard
from workbench.server.contract import error_responses, install_contract
from workbench.server.memory import ReturnMemory
from workbench.server.pages import HistoryPages
from workbench.server.wire import ApiJSONResponse, RequestGuard, install_error_handlers, respond, use_object_id_paths

ToolId = Annotated[str, Path(pattern=OBJECT_ID_PATTERN, description="The tool's ID (24 lowercase hex characters).")]
Constraint = Annotated[str, Path(max_length=MAX_VERSION_CONSTRAINT, description="A PEP 440 constraint, or an exact version such as 1.0.0.")]


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

    app = FastAPI(
        title="Tool Workbench: Tools API",
        version="1",
        description="The hosted Tools API, served locally by Tool Workbench. Errors all carry the ErrorBody schema.",
        lifespan=lifespan,
        default_response_class=ApiJSONResponse,
        docs_url=None,
        redoc_url=None,
    )
    use_object_id_paths()  # /tool/test is never a tool id: routing knows ids, so a wrong method is a 405
    install_error_handlers(app)
    install_contract(app)
    guard = Guard(service, strict_limits)
    app.add_middleware(HistoryPages, service=service, guard=guard)  # inside the RequestGuard: it reads what passed the door
    app.add_middleware(RequestGuard)
    app.add_middleware(ReturnMemory)  # outermost: it sees every request come and go

    def route(method: str, path: str, operation: str, status_code: int = 200, **extra: Any) -> Any:
        extra.setdefault("tags", ["Tool"])
        return app.api_route(path, methods=[method], operation_id=operation, status_code=status_code, responses=error_responses(operation), **extra)

    def user(identity: Identity) -> str:
        return identity.user_id

    # -- sign-in ------------------------------------------------------------------------------

    @route("POST", "/v1/{organization}/user/signin_with_api_key", "sign-in-with-api-key", tags=["User"], response_model=SignInResponse)
    def sign_in(
        organization: str,
        x_api_key: Annotated[str, Header(description="The API key's secret.")],
        x_api_key_id: Annotated[str, Header(description="The API key's id.")],
        x_user_id: Annotated[str, Header(max_length=MAX_USER_ID, description="The user the key was issued for.")],
        _: None = Depends(guard.anonymous("sign-in-with-api-key")),
    ) -> Response:
        signed_in = service.sign_in(organization, x_api_key_id, x_api_key, x_user_id)
        return respond(SignInResponse(id_token=signed_in.token, expires_at=signed_in.expires_at))

    # -- tools (fixed paths before /{tool_id:objectid}) ------------------------------------------------

    @route(
        "GET",
        "/v1/{organization}/tool/amigo_tool_scaffold.tar.gz",
        "get-tool-scaffold-release",
        response_class=Response,
        openapi_extra={"responses": {"200": {"description": "The scaffold project as a .tar.gz.", "content": {"application/gzip": {"schema": {"type": "string", "format": "binary"}}}}}},
    )
    def scaffold(organization: str, identity: Identity = Depends(guard("get-tool-scaffold-release"))) -> Response:
        return Response(service.scaffold_archive(), media_type="application/gzip")

    @route("POST", "/v1/{organization}/tool/", "create-tool", 201, response_model=CreateToolResponse)
    def create_tool(organization: str, body: CreateToolBody, identity: Identity = Depends(guard("create-tool"))) -> Response:
        return respond(service.create_tool(organization, body, user_id=user(identity)), 201)

    @route("GET", "/v1/{organization}/tool/", "get-tools", response_model=ListToolsResponse)
    def get_tools(organization: str, query: Annotated[ListToolsQuery, Query()], identity: Identity = Depends(guard("get-tools"))) -> Response:
        return respond(service.list_tools(organization, query))

    @route("POST", "/v1/{organization}/tool/test", "test-tool", response_model=InvokeResponse)
    def test_tool(organization: str, body: TestToolBody, identity: Identity = Depends(guard("test-tool"))) -> Response:
        return respond(service.test_tool(organization, body))

    @route("GET", "/v1/{organization}/tool/invocation", "get-tool-invocations", response_model=ListInvocationsResponse)
    def get_invocations(
        organization: str, query: Annotated[InvocationListQuery, Query()], identity: Identity = Depends(guard("get-tool-invocations"))
    ) -> Response:
        return Response(service.list_invocations_json(organization, query), media_type="application/json")

    @route("GET", "/v1/{organization}/tool/invocation/search", "search-tool-invocations", response_model=SearchInvocationsResponse)
    def search_invocations(
        organization: str, query: Annotated[SearchInvocationsParams, Query()], identity: Identity = Depends(guard("search-tool-invocations"))
    ) -> Response:
        return Response(service.search_invocations_json(organization, query), media_type="application/json")

    @route("POST", "/v1/{organization}/tool/{tool_id:objectid}", "modify-tool", 204)
    def modify_tool(organization: str, tool_id: ToolId, body: ModifyToolRequest, identity: Identity = Depends(guard("modify-tool"))) -> Response:
        service.modify_tool(organization, tool_id, body, user_id=user(identity))
        return Response(status_code=204)

    @route("DELETE", "/v1/{organization}/tool/{tool_id:objectid}", "deprecate-tool", 204)
    def deprecate_tool(organization: str, tool_id: ToolId, identity: Identity = Depends(guard("deprecate-tool"))) -> Response:
        service.deprecate_tool(organization, tool_id, user_id=user(identity))
        return Response(status_code=204)

    @route("POST", "/v1/{organization}/tool/{tool_id:objectid}/envvar", "modify-tool-envvars", 204)
    def modify_envvars(organization: str, tool_id: ToolId, body: ModifyEnvVarsRequest, identity: Identity = Depends(guard("modify-tool-envvars"))) -> Response:
        service.authorize(identity, organization, None, "modify-tool-envvars", tool_id, body)  # secrets need more
        service.modify_envvars(organization, tool_id, body, user_id=user(identity))
        return Response(status_code=204)

    @route("POST", "/v1/{organization}/tool/{tool_id:objectid}/version", "publish-tool-version", 201, response_model=PublishResponse)
    def publish(organization: str, tool_id: ToolId, body: PublishRequest, identity: Identity = Depends(guard("publish-tool-version"))) -> Response:
        return respond(service.publish_version(organization, tool_id, body, user_id=user(identity)), 201)

    @route("GET", "/v1/{organization}/tool/{tool_id:objectid}/version", "get-tool-versions", response_model=ListVersionsResponse)
    def get_versions(
        organization: str, tool_id: ToolId, query: Annotated[ListVersionsQuery, Query()], identity: Identity = Depends(guard("get-tool-versions"))
    ) -> Response:
        return respond(service.list_versions(organization, tool_id, query))

    @route("DELETE", "/v1/{organization}/tool/{tool_id:objectid}/version/{versions}", "deprecate-tool-version", 204)
    def deprecate_versions(organization: str, tool_id: ToolId, versions: Constraint, identity: Identity = Depends(guard("deprecate-tool-version"))) -> Response:
        service.deprecate_versions(organization, tool_id, versions, user_id=user(identity))
        return Response(status_code=204)

    @route("POST", "/v1/{organization}/tool/{tool_id:objectid}/version/{version}/invoke", "invoke-tool-version", response_model=InvokeResponse)
    def invoke(organization: str, tool_id: ToolId, version: Constraint, body: InvokeBody, identity: Identity = Depends(guard("invoke-tool-version"))) -> Response:
        return respond(service.invoke_version(organization, tool_id, version, body, user_id=user(identity), origin="api"))

    from workbench.server.simulation import simulation_router

    from workbench.server.insight import insight_router

    depends = lambda operation: Depends(guard(operation))  # noqa: E731
    app.include_router(simulation_router(service, depends))  # the documented extras: scenarios, graph checks,
    app.include_router(insight_router(service, depends))  # stats, reruns and fixtures

    return app
