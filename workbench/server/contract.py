"""The server's own contract: the OpenAPI document it serves at ``/openapi.json`` states what it
really does — the Tools API's operations, parameters and constraints, every status code each
operation answers with the one error body, and the security schemes — plus the workbench's
documented extras (``logs``, ``repo``, search's ``order``/``limit``/``has_more``, 413 on bodies)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from workbench.core.permissions import OPERATION_PERMISSIONS
from workbench.core.requests import ErrorBody
from workbench.core.sizes import MAX_BODY_BYTES
from workbench.server.limits import LIMITS

AUTH = "Invalid authorization credentials: no, a forged, an expired or a revoked token, or a Basic username that is not {org_id}_{user_id}."
FORBIDDEN = "Missing required permissions (the API key's role does not grant them), or the token is of another organization."
ORG_NOT_FOUND = "Specified organization is not found."
VALIDATION = "A path, query parameter, header or body failed validation, or holds text the workbench does not store (NUL, a lone surrogate)."
MAINTENANCE = "The search index is being rebuilt (search only); retry after Retry-After seconds."

# The statuses each operation documents beyond 401/403/422/429/503, in the hosted API's terms.
OPERATION_ERRORS: dict[str, dict[int, str]] = {
    "get-tool-scaffold-release": {404: ORG_NOT_FOUND},
    "create-tool": {404: "The specified organization does not exist.", 409: "A tool with the same name already exists.", 400: "The tool name is too long."},
    "get-tools": {404: ORG_NOT_FOUND},
    "deprecate-tool-version": {404: "The specified organization or tool does not exist."},
    "deprecate-tool": {404: "The specified organization or tool does not exist.", 409: "A related operation is in progress."},
    "modify-tool": {404: "The specified organization or tool does not exist."},
    "test-tool": {
        404: "The specified organization or tool commit does not exist.",
        400: "A variable is both secret and not; the commit failed its checks; a required variable is missing; the inputs do not match the input schema; or the build failed.",
    },
    "modify-tool-envvars": {
        404: "The specified organization or tool does not exist.",
        409: "A variable to insert exists or was recently deleted.",
        400: "A variable to update or delete does not exist, or one to delete is required by a non-deprecated version.",
    },
    "publish-tool-version": {
        404: "The specified organization, tool, commit, or project directory does not exist.",
        400: "The commit is older than the last valid one, a required variable is missing on the tool, 3 versions are active, or the build failed.",
        409: "A related operation is in progress.",
    },
    "get-tool-versions": {404: "Specified organization or tool is not found."},
    "get-tool-invocations": {404: "Specified organization does not exist.", 400: "`tool_id` and `version` are given a different number of times."},
    "invoke-tool-version": {404: "The specified organization, tool, or tool version does not exist.", 400: "The input parameters do not conform to the tool's input schema."},
    "search-tool-invocations": {404: "The organization is not found."},
    "sign-in-with-api-key": {404: ORG_NOT_FOUND, 401: "API key not found, is incorrect, or the requested user is not found."},
}
WITH_BODY = {"create-tool", "modify-tool", "test-tool", "modify-tool-envvars", "publish-tool-version", "invoke-tool-version"}
SECURITY_SCHEMES: dict[str, Any] = {
    "Bearer-Authorization": {"type": "http", "scheme": "bearer", "description": "The token from sign-in-with-api-key."},
    "Bearer-Authorization-Organization": {
        "type": "apiKey",
        "in": "header",
        "name": "X-ORG-ID",
        "description": "Optional: the organization that issued the token; a different one is a 401.",
    },
    "Basic": {"type": "http", "scheme": "basic", "description": "Username {org_id}_{user_id}, password the token from sign-in-with-api-key."},
    "API-Key-Authorization-Key": {"type": "apiKey", "in": "header", "name": "x-api-key", "description": "The API key's secret."},
    "API-Key-Authorization-ID": {"type": "apiKey", "in": "header", "name": "x-api-key-id", "description": "The API key's id."},
    "API-Key-Authorization-UserID": {"type": "apiKey", "in": "header", "name": "x-user-id", "description": "The user the key was issued for."},
}
# Bearer or Basic, each with or without X-ORG-ID.
TOKEN_SECURITY: list[dict[str, list[str]]] = [
    {"Bearer-Authorization": []},
    {"Bearer-Authorization": [], "Bearer-Authorization-Organization": []},
    {"Basic": []},
    {"Basic": [], "Bearer-Authorization-Organization": []},
]
SIGN_IN_SECURITY: list[dict[str, list[str]]] = [{"API-Key-Authorization-Key": [], "API-Key-Authorization-ID": [], "API-Key-Authorization-UserID": []}]


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
    if headers:
        response["headers"] = headers
    return response


def error_responses(operation: str) -> dict[int | str, dict[str, Any]]:
    """Every error status an operation answers, each with the one error body."""
    limit = LIMITS[operation]
    retry = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds until a request is allowed again."}}
    responses: dict[int | str, dict[str, Any]] = {code: _error(text) for code, text in OPERATION_ERRORS[operation].items()}
    responses.setdefault(422, _error(VALIDATION))
    if operation != "sign-in-with-api-key":
        responses.setdefault(401, _error(AUTH))
        responses[403] = _error(FORBIDDEN + f" Needs: {', '.join(OPERATION_PERMISSIONS[operation])}.")
    responses[503] = _error(MAINTENANCE if operation == "search-tool-invocations" else "The service is unavailable for a moment; retry after Retry-After seconds.", retry)
    responses[429] = _error(f"More than {limit} request{'s' if limit != 1 else ''} per minute to this endpoint (with `workbench serve --strict-limits`).", retry)
    if operation in WITH_BODY:
        responses[413] = _error(f"Workbench extra: the request body is over {MAX_BODY_BYTES:,} bytes; refused before it is read whole.")
    return responses


def install_contract(app: FastAPI) -> None:
    """Serve the document described above at /openapi.json."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes, separate_input_output_schemas=False)
            components = schema.setdefault("components", {})
            components.setdefault("schemas", {})["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
            components["securitySchemes"] = SECURITY_SCHEMES
            for operations in schema["paths"].values():
                for operation in operations.values():
                    operation["security"] = SIGN_IN_SECURITY if operation["operationId"] == "sign-in-with-api-key" else TOKEN_SECURITY
            _responses_send_every_field(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]  # FastAPI's documented way to customize it


def _referenced(schema: Any, components: dict[str, Any], seen: set[str]) -> set[str]:
    """The component schemas ``schema`` refers to, directly or not."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[1]
            if name not in seen:
                seen.add(name)
                _referenced(components[name], components, seen)
        for value in schema.values():
            _referenced(value, components, seen)
    elif isinstance(schema, list):
        for value in schema:
            _referenced(value, components, seen)
    return seen


def _responses_send_every_field(document: dict[str, Any]) -> None:
    """A response model's fields are always sent (defaults included): say they are required.
    (Pydantic documents a field with a default as optional, which is right for requests only.)"""
    components = document["components"]["schemas"]
    sent, taken = set[str](), set[str]()
    for operations in document["paths"].values():
        for operation in operations.values():
            _referenced(operation.get("requestBody"), components, taken)
            _referenced(operation.get("parameters"), components, taken)
            for status, response in operation["responses"].items():
                if status.startswith("2"):
                    _referenced(response, components, sent)
    for name in sent - taken:
        if "properties" in components[name]:
            components[name]["required"] = list(components[name]["properties"])
