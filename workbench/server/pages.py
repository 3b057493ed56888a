"""The history pages (list and search) at the machine's speed.

For each request FastAPI finds the route, solves its dependencies (the query model field by field,
the guard's headers) and hops to a worker thread; for a page of history that costs more than
reading the page. In front of the application, :class:`HistoryPages` answers a GET of a page
that succeeds directly: the query validated as the route's own model, the caller identified by
the route's own guard, the service's JSON sent as it comes. A list page the service has kept
and knows current (``kept_invocations_json``: the log unchanged since it was built) is sent from
the event loop; any other is read in a worker thread.

Anything else goes on to the application's route, which answers it as it always has: a query
that does not validate, credentials that do not pass, any error of the service, and every request
when strict rate limits are on (they add headers). So this changes how fast a page is answered,
never what it says.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_origin

import anyio
import anyio.to_thread
from pydantic import BaseModel, ValidationError
from starlette.datastructures import QueryParams

from workbench.core.api import ServedApi
from workbench.core.invocation_list import InvocationListQuery
from workbench.core.requests import SearchInvocationsParams
from workbench.errors import WorkbenchError
from workbench.server.auth import Guard
from workbench.server.wire import Receive, Scope, Send

PAGE_PATH = re.compile(r"^/v1/(?P<organization>[^/]+)/tool/invocation(?P<search>/search)?$")
PAGE_THREADS = 2
"""Threads that read pages at once. SQLite and the search engine work outside the GIL, but reading
a page's lines and joining them is Python: more threads than cores only take the GIL from each
other and from the event loop (on 2 cores, 2 threads served 1,520 fresh pages/s and 4 threads 1,180,
search alike)."""


@dataclass(frozen=True)
class Page:
    """One of the two pages: its operation, its query model, the service's JSON of it, and that
    JSON when the service can give it at once (None: it cannot)."""

    operation: str
    model: type[BaseModel]
    answer: Callable[[str, Any], bytes]
    at_once: Callable[[str, Any], bytes | None] | None
    lists: frozenset[str]  # the query's fields that take repeated parameters


def _page(operation: str, model: type[BaseModel], answer: Callable[[str, Any], bytes], at_once: Callable[[str, Any], bytes | None] | None = None) -> Page:
    lists = frozenset(name for name, field in model.model_fields.items() if get_origin(field.annotation) is list)
    return Page(operation, model, answer, at_once, lists)


@dataclass(frozen=True)
class Asked:
    """A page asked for by a caller the route's guard lets see it, the query valid."""

    organization: str
    query: BaseModel


class HistoryPages:
    """ASGI middleware: answers the list and search pages that succeed; defers the rest."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Any], service: ServedApi, guard: Guard) -> None:
        self.app = app
        self.guard = guard
        self.threads = anyio.CapacityLimiter(PAGE_THREADS)
        self.pages = {
            False: _page("get-tool-invocations", InvocationListQuery, service.list_invocations_json, service.kept_invocations_json),
            True: _page("search-tool-invocations", SearchInvocationsParams, service.search_invocations_json),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = PAGE_PATH.match(scope.get("path", "")) if scope["type"] == "http" and scope["method"] == "GET" and self.guard.limiter is None else None
        body = await self._body(scope, self.pages[bool(found.group("search"))], found) if found else None
        if body is None:
            await self.app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def _body(self, scope: Scope, page: Page, found: re.Match[str]) -> bytes | None:
        """The page's body, or None to leave the request to the application's route. A page the
        service can give at once (kept, and known current) is sent from the event loop; any other
        is read in a thread. A search is asked and answered there whole: the engine searches
        without the GIL, so the loop is better left to the HTTP (10% more searches a second)."""
        if page.at_once is None:
            return await anyio.to_thread.run_sync(self._asked_and_answered, scope, page, found, limiter=self.threads)
        asked = self._asked(scope, page, found)
        if asked is None:
            return None
        return _answer(asked, page.at_once) or await anyio.to_thread.run_sync(_answer, asked, page.answer, limiter=self.threads)

    def _asked_and_answered(self, scope: Scope, page: Page, found: re.Match[str]) -> bytes | None:
        asked = self._asked(scope, page, found)
        return _answer(asked, page.answer) if asked else None

    def _asked(self, scope: Scope, page: Page, found: re.Match[str]) -> Asked | None:
        """The page asked for, or None to leave the request to the application's route. Cheap
        enough for the event loop: the guard reads nothing that is not kept, as on every route."""
        params = QueryParams(scope.get("query_string", b""))
        values: dict[str, Any] = {}
        for name in page.model.model_fields:  # as FastAPI reads a query model: lists only when given
            if name in page.lists:
                if given := params.getlist(name):
                    values[name] = given
            elif (value := params.get(name)) is not None:
                values[name] = value
        headers: dict[bytes, bytes] = {}
        for key, value in scope.get("headers", []):
            if key in (b"authorization", b"x-org-id"):
                headers.setdefault(key, value)  # the first, as the route's header parameters take it
        organization = found.group("organization")
        try:
            query = page.model.model_validate(values)
            self.guard.identify(page.operation, organization, _text(headers.get(b"authorization")), _text(headers.get(b"x-org-id")))
        except (ValidationError, WorkbenchError):
            return None
        except Exception:  # noqa: BLE001 - the route meets it again and answers it as an internal error
            return None
        return Asked(organization, query)


def _answer(asked: Asked, answer: Callable[[str, Any], bytes | None]) -> bytes | None:
    """The page's body, or None to leave the request to the application's route."""
    try:
        return answer(asked.organization, asked.query)
    except WorkbenchError:
        return None
    except Exception:  # noqa: BLE001 - the route meets it again and answers it as an internal error
        return None


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value is not None else None
