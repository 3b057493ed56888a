"""What the server sends and refuses on the wire, whatever the route: one error body for every
error (``core.requests.ErrorBody``), JSON that always encodes, and a guard at the door that refuses
an oversized body (413, before reading it whole), one that is not UTF-8 or nests too deep, and
text the workbench does not store (422)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.convertors import CONVERTOR_TYPES, Convertor, register_url_convertor
from starlette.routing import Match

from workbench.core.requests import ErrorCode
from workbench.core.sizes import MAX_BODY_BYTES, MAX_JSON_DEPTH, unstorable_text
from workbench.errors import RateLimited, ServiceUnavailable, WorkbenchError, validation_error_from_pydantic
from workbench.names import OBJECT_ID_PATTERN

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def encode(content: Any) -> bytes:
    """JSON bytes of ``content``. Text stored before the workbench refused lone surrogates cannot
    be UTF-8: such a body is sent with every non-ASCII character escaped, so it still reads."""
    try:
        return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


class ApiJSONResponse(JSONResponse):
    """A JSON response that always encodes (see :func:`encode`)."""

    def render(self, content: Any) -> bytes:
        return encode(content)


def respond(model: BaseModel, status_code: int = 200) -> Response:
    """A model as the response body, serialized once (the model is trusted: no re-validation)."""
    try:
        content = model.model_dump_json().encode("utf-8")
    except (ValueError, UnicodeEncodeError):  # a stored lone surrogate: escape it, do not fail
        content = encode(model.model_dump(mode="json"))
    return Response(content, status_code=status_code, media_type="application/json")


def error_response(status: int, detail: str, code: ErrorCode, headers: dict[str, str] | None = None, details: dict[str, Any] | None = None) -> Response:
    """The one error body: ``{"detail", "code"}`` and, for some errors, ``details``."""
    body: dict[str, Any] = {"detail": detail, "code": code}
    if details:
        body["details"] = details
    return ApiJSONResponse(body, status_code=status, headers=headers)


def extra_headers(request: Request) -> dict[str, str]:
    """Headers to add to this request's response, whatever the route returns (the rate limit's)."""
    state = request.scope.setdefault("state", {})
    return state.setdefault(EXTRA_HEADERS, {})  # type: ignore[no-any-return]  # the scope's state is untyped


EXTRA_HEADERS = "workbench.response_headers"


class ObjectIdConvertor(Convertor[str]):
    """A path segment that is an object id (24 lowercase hex characters)."""

    regex = OBJECT_ID_PATTERN.strip("^$")

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


def use_object_id_paths() -> None:
    """Let routes say ``{tool_id:objectid}``."""
    if "objectid" not in CONVERTOR_TYPES:
        register_url_convertor("objectid", ObjectIdConvertor())


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method some route answers at this path (for a 405's ``Allow``)."""
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches({**scope, "method": "GET"})
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def bad_object_id(app: FastAPI, path: str) -> str | None:
    """The path segment that keeps ``path`` from an endpoint because it is not an object id."""
    for route in app.router.routes:
        loose = getattr(route, "path", "").replace(":objectid}", "}")
        if loose == getattr(route, "path", ""):
            continue
        pattern = "^" + re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", loose) + "$"
        found = re.match(pattern, path)
        if found and "tool_id" in found.groupdict():
            return found.group("tool_id")
    return None


def install_error_handlers(app: FastAPI) -> None:
    """Every error, the service's or the framework's, answered with the one error body."""

    @app.exception_handler(WorkbenchError)
    def workbench_error(request: Request, error: WorkbenchError) -> Response:
        headers: dict[str, str] = {}
        details = dict(error.details)
        if isinstance(error, RateLimited):
            headers = details.pop("headers", {})
        elif isinstance(error, ServiceUnavailable):
            headers = {"Retry-After": "5"}
        return error_response(error.status, error.message, error.code, headers, details)  # type: ignore[arg-type]  # the errors' codes are ErrorCode's

    @app.exception_handler(RequestValidationError)
    def validation_error(request: Request, error: RequestValidationError) -> Response:
        failed = validation_error_from_pydantic(error, "request")
        return error_response(422, failed.message, "validation_error", details=failed.details)

    @app.exception_handler(StarletteHTTPException)
    def framework_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404:
            bad_id = bad_object_id(app, request.url.path)
            if bad_id is not None:
                return error_response(422, f"invalid request: path.tool_id: {bad_id!r} is not a tool id (24 lowercase hex characters)", "validation_error")
            return error_response(404, f"no such endpoint: {request.method} {request.url.path} (the API's endpoints are listed at /openapi.json)", "not_found")
        if error.status_code == 405:
            allowed = allowed_methods(app, request.scope)
            return error_response(
                405, f"{request.method} is not allowed on {request.url.path}; allowed: {', '.join(allowed)}", "method_not_allowed", {"Allow": ", ".join(allowed)}
            )
        # the framework's other refusals concern the request's form (a body it could not parse)
        return error_response(422, f"invalid request: {error.detail}", "validation_error")

    @app.exception_handler(Exception)
    def internal_error(request: Request, error: Exception) -> Response:
        return error_response(500, f"internal error ({type(error).__name__}); the server's log has the details", "internal_error")


class RequestGuard:
    """ASGI middleware at the door: a body over ``max_bytes`` is refused with 413 as soon as its
    declared or received size says so, before it is read whole; a body that is not UTF-8 JSON,
    nests deeper than the workbench takes, or holds a NUL or a lone surrogate, and a path with a
    NUL, are refused with 422. The body the route reads is the one checked here."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", ""):
            await _refuse(scope, receive, send, error_response(422, "invalid request: the path contains a NUL character (%00)", "validation_error"))
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _refuse(scope, receive, send, self._too_large(int(declared)))
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _refuse(scope, receive, send, self._too_large(size, at_least=True))
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = _body_problem(body, headers.get("content-type", "")) if body else None
        if problem:
            await _refuse(scope, receive, send, error_response(422, f"invalid request body: {problem}", "validation_error"))
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send_with_extra_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = scope.get("state", {}).get(EXTRA_HEADERS) or {}
                message["headers"] = [*message.get("headers", []), *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items())]
            await send(message)

        await self.app(scope, replay, send_with_extra_headers)

    def _too_large(self, size: int, at_least: bool = False) -> Response:
        said = f"more than {self.max_bytes:,}" if at_least else f"{size:,}"
        return error_response(413, f"the request body is {said} bytes; at most {self.max_bytes:,} bytes are accepted", "payload_too_large")


def _body_problem(body: bytes, content_type: str) -> str | None:
    """Why a JSON body cannot be taken, or None (a body of another type is left to the route)."""
    if content_type and "json" not in content_type.lower():
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"it is not UTF-8 text (byte {error.start})"
    try:
        parsed = json.loads(text)
    except RecursionError:
        return f"it nests deeper than {MAX_JSON_DEPTH} levels"
    except ValueError as error:
        return f"it is not valid JSON ({error})"
    return unstorable_text(parsed)


async def _refuse(scope: Scope, receive: Receive, send: Send, response: Response) -> None:
    await response(scope, receive, send)
