"""Invocation history and search: list with the spec's filters, sort keys and pages, count, fetch
one, and full-text search with highlighted snippets.

The HTTP server asks for a page as JSON (``*_json``): the records the catalog marks as stored in
the API's shape are sent as their stored lines, not validated and serialized again; the others (an
older workbench's, one with a lone surrogate) go through the model, which converts them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from workbench.core.invocation_list import InvocationListQuery, listed_extras
from workbench.core.listing import parse_sort_by
from workbench.core.models import LEGACY_SOURCE_TYPE, InvocationSourceType, ToolInvocationInstance, utcnow
from workbench.core.page_cache import PageCache
from workbench.core.requests import (
    InvocationFilters,
    ListInvocationsResponse,
    SearchInvocationsQuery,
    SearchInvocationsResponse,
)
from workbench.core.results import Finding, IndexStatus, Progress, SearchHit, SearchPage
from workbench.core.validation import ModelOrDict, check_org, parse
from workbench.core.versions import VersionConstraint
from workbench.errors import BadRequest, NotFound, ServiceUnavailable, WorkbenchError
from workbench.search import IndexUnusable, Indexer, ParsedQuery, SearchFilters, SearchIndex, SearchRequest, SearchResult, index_fields, snippets
from workbench.store.catalog import StoredLine
from workbench.store.invocation_queries import SORT_COLUMNS, InvocationFilter, InvocationQueries

def _stored_source_types(types: Sequence[InvocationSourceType]) -> list[str]:
    """The source types as the catalog and the index hold them: a regular conversation includes
    the runs older workbenches recorded as ``workbench`` (they read as regular conversations)."""
    stored: set[str] = set(types)
    if "regular-conversation" in stored:
        stored.add(LEGACY_SOURCE_TYPE)
    return sorted(stored)


def _constraint(text: str) -> VersionConstraint | None:
    """A version filter's constraint; None for any version (blank or ``*``)."""
    text = text.strip()
    return None if text in ("", "*") else VersionConstraint(text)


def records_json(stored: Sequence[bytes | dict[str, Any]]) -> bytes:
    """A JSON array of invocations: stored lines as they are, other records through the model."""
    return b"[" + b",".join(item if isinstance(item, bytes) else ToolInvocationInstance.model_validate(item).model_dump_json().encode() for item in stored) + b"]"


def with_records(envelope: BaseModel, records: bytes) -> bytes:
    """A response without invocations (``envelope``) as JSON, its ``tool_invocations`` holding the
    JSON array ``records``: the rest of the body is always the model's."""
    empty = envelope.model_dump_json().encode()
    head = b'{"tool_invocations":[]'
    if not empty.startswith(head):
        raise ValueError(f"{type(envelope).__name__} does not start with an empty tool_invocations")
    return b'{"tool_invocations":' + records + empty[len(head):]


@dataclass(frozen=True)
class _Listing:
    """A list query resolved to what it asks of the catalog (and the page cache's key)."""

    where: InvocationFilter
    sort: tuple[tuple[str, bool], ...]
    limit: int
    offset: int

    def envelope(self, has_more: bool) -> ListInvocationsResponse:
        """The response without its invocations."""
        return ListInvocationsResponse(tool_invocations=[], has_more=has_more, continuation_token=self.offset + self.limit if has_more else None)


@dataclass(frozen=True)
class _Found:
    """A search's hits before they are read: their lines, scores, and the parsed query."""

    lines: list[StoredLine]
    scores: list[float]
    has_more: bool
    query: ParsedQuery | None = None
    fields: tuple[str, ...] = ()


class History:
    """The org's recorded invocations: pages, counts, one by id, and full-text search."""

    def __init__(self, queries: InvocationQueries, search_index: SearchIndex, indexer: Indexer, clock: Callable[[], datetime] = utcnow) -> None:
        self.clock = clock  # "7d" in the list's date filters counts back from now
        self.queries = queries
        self.search_index = search_index
        self.indexer = indexer
        self.pages = PageCache()

    # -- listing ------------------------------------------------------------------------------

    def _filter(self, org_id: str, q: InvocationFilters, versions: list[str] | None = None, listed: InvocationListQuery | None = None) -> InvocationFilter:
        """The catalog's filter; ``versions`` pair with ``q.tool_id`` by position (none given:
        any version of each tool); ``listed`` adds the list's extra filters (date range,
        exception types)."""
        if versions and len(q.tool_id) != len(versions):
            raise BadRequest(
                f"tool_id and version pair up by position and must be given the same number of times; got {len(q.tool_id)} tool_id and {len(versions)} version"
            )
        selections = []
        for index, tool_id in enumerate(q.tool_id):
            constraint = _constraint(versions[index] if versions else "")
            selections.append(self.queries.tool_selection(org_id, tool_id, constraint.matches if constraint else None))
        return InvocationFilter(
            org_id=org_id,
            tools=tuple(selections),
            source_types=tuple(_stored_source_types(q.invocation_source_type)),
            conversation_ids=tuple(q.conversation_id),
            sim_run_ids=tuple(q.simulation_unit_test_set_run_id),
            succeeded=q.succeeded,
            **listed_extras(listed, self.clock()),
        )

    def list_invocations(self, org_id: str, query: ModelOrDict = None) -> ListInvocationsResponse:
        """A page of the org's invocations, newest first unless sorted otherwise. A page of
        ``limit=0`` is empty and last (``has_more`` false), so a client following the tokens
        always stops."""
        listing = self._listing(org_id, query)
        lines, has_more = self._lines_of(listing, caught_up=False)
        envelope = listing.envelope(has_more)
        envelope.tool_invocations = [ToolInvocationInstance.model_validate(r) for r in self.queries.records(lines)]
        return envelope

    def list_invocations_json(self, org_id: str, query: ModelOrDict = None) -> bytes:
        """:meth:`list_invocations`'s response as JSON bytes, stored records passed through; the
        same page asked again while the log has not changed is answered from :attr:`pages`."""
        listing = self._listing(org_id, query)
        state = self.queries.caught_up()
        if (body := self.pages.get(listing, state)) is not None:
            return body
        lines, has_more = self._lines_of(listing, caught_up=True)
        body = with_records(listing.envelope(has_more), records_json(self.queries.lines(lines)))
        self.pages.put(listing, state, body)
        return body

    def kept_invocations_json(self, org_id: str, query: ModelOrDict = None) -> bytes | None:
        """:meth:`list_invocations_json`'s answer if it can be given at once: the page is kept
        and the log is known unchanged since, without waiting for or reading anything (a version
        filter reads the catalog to resolve); else None."""
        check_org(org_id)
        q = parse(InvocationListQuery, query, "list-invocations query")
        if any(_constraint(text) for text in q.version):
            return None
        listing = self._listing_of(org_id, q)
        state = self.queries.caught_up_at_once()
        return None if state is None else self.pages.get(listing, state)

    def _listing(self, org_id: str, query: ModelOrDict) -> _Listing:
        check_org(org_id)
        return self._listing_of(org_id, parse(InvocationListQuery, query, "list-invocations query"))

    def _listing_of(self, org_id: str, q: InvocationListQuery) -> _Listing:
        sort = parse_sort_by(q.sort_by, {name: name for name in SORT_COLUMNS})
        return _Listing(self._filter(org_id, q, q.version, q), tuple(sort), q.limit, q.continuation_token)

    def _lines_of(self, listing: _Listing, caught_up: bool) -> tuple[list[StoredLine], bool]:
        if listing.limit == 0:
            return [], False
        return self.queries.page(listing.where, listing.sort, listing.limit, listing.offset, caught_up)

    def count_invocations(self, org_id: str, query: ModelOrDict = None) -> int:
        """How many invocations match the filters (for "100 of 84,213")."""
        check_org(org_id)
        q = parse(InvocationListQuery, query, "list-invocations query")
        return self.queries.count(self._filter(org_id, q, q.version, q))

    def get_invocation(self, org_id: str, invocation_id: str) -> ToolInvocationInstance:
        """One invocation by id (404 if it is not in this org)."""
        check_org(org_id)
        location = self.queries.locate(org_id, invocation_id)
        if location is None:
            raise NotFound(f"invocation {invocation_id} does not exist in organization {org_id}")
        return ToolInvocationInstance.model_validate(self.queries.records([location])[0])

    # -- search -------------------------------------------------------------------------------

    def search_page(self, org_id: str, query: ModelOrDict, on_rebuild: Progress | None = None) -> SearchPage:
        """Full-text search with the filters; hits newest first (or by relevance) with snippets.

        Plain text always searches (the query language is an extra); a blank query selects by
        the filters alone (newest first), and one without a letter or digit finds nothing, so what
        people type never fails. If the index is missing, damaged or of an older schema or
        engine, it is rebuilt (or a killed rebuild resumed): here with ``on_rebuild`` reporting
        progress, else in the background while this answers 503.
        """
        found = self._found(org_id, query, on_rebuild)
        records = self.queries.records(found.lines)
        return SearchPage(
            hits=[
                SearchHit(ToolInvocationInstance.model_validate(r), snippets(r, found.query, list(found.fields)) if found.query else {}, score)
                for r, score in zip(records, found.scores)
            ],
            has_more=found.has_more,
            read_literally=found.query.reason if found.query and found.query.literal else None,
        )

    def _found(self, org_id: str, query: ModelOrDict, on_rebuild: Progress | None) -> _Found:
        """The lines of a search's hits, in order (see :meth:`search_page`)."""
        check_org(org_id)
        q = parse(SearchInvocationsQuery, query, "search query")
        if not q.query.strip():  # a blank search: the newest invocations the filters select, from the catalog
            lines, has_more = self.queries.page(self._filter(org_id, q), [], q.limit, 0)
            return _Found(lines, [0.0] * len(lines), has_more)
        if not any(char.isalnum() for char in q.query):
            return _Found([], [], False)
        request = SearchRequest(
            text=q.query,
            fields=index_fields(list(q.query_against)),
            filters=SearchFilters(
                org_id,
                tool_id=list(q.tool_id),
                source_type=_stored_source_types(q.invocation_source_type),
                conversation_id=list(q.conversation_id),
                sim_run_id=list(q.simulation_unit_test_set_run_id),
                succeeded=q.succeeded,
            ),
            newest_first=q.order == "newest",
            limit=q.limit,
        )
        result = self._search(request, on_rebuild)
        located = self.queries.locate_seqs(seq for seq, _ in result.hits)
        hits = [(located[seq], score) for seq, score in result.hits if seq in located]
        return _Found([line for line, _ in hits], [score for _, score in hits], result.has_more, result.query, tuple(request.fields))

    def _search(self, request: SearchRequest, on_rebuild: Progress | None) -> SearchResult:
        index = self.search_index
        for _ in range(2):
            try:
                index.check()  # an unusable index is rebuilt below, not caught up
                if index.backlog():
                    self.indexer.catch_up()  # what commands recorded without waiting for the index
                return index.search(request)
            except IndexUnusable as problem:
                if on_rebuild is None:
                    self.indexer.nudge(rebuild=True)
                    raise ServiceUnavailable(f"{problem}; it is being rebuilt, search again shortly") from None
                index.update(progress=on_rebuild, blocking=True)  # rebuilds, or resumes a killed rebuild
        raise ServiceUnavailable("the search index could not be rebuilt; see `workbench doctor`")

    def search_invocations(self, org_id: str, query: ModelOrDict, on_rebuild: Progress | None = None) -> SearchInvocationsResponse:
        """The API's search: the matching invocations, and whether more match (a workbench extra)."""
        found = self._found(org_id, query, on_rebuild)
        return SearchInvocationsResponse(tool_invocations=[ToolInvocationInstance.model_validate(r) for r in self.queries.records(found.lines)], has_more=found.has_more)

    def search_invocations_json(self, org_id: str, query: ModelOrDict) -> bytes:
        """:meth:`search_invocations`'s response as JSON bytes, stored records passed through."""
        found = self._found(org_id, query, None)
        return with_records(SearchInvocationsResponse(tool_invocations=[], has_more=found.has_more), records_json(self.queries.lines(found.lines)))

    # -- the index ----------------------------------------------------------------------------

    def flush_index(self) -> None:
        """Index what this process recorded now (a short-lived command's last act)."""
        self.indexer.flush()

    def catch_up_index(self, progress: Progress | None = None) -> int:
        """Index everything recorded so far, waiting for another indexer if one runs."""
        return self.search_index.update(progress=progress, blocking=True)

    def rebuild_index(self, progress: Progress | None = None) -> int:
        """Rebuild the search index from the log; returns the number of invocations indexed."""
        return self.search_index.rebuild(progress=progress)

    def index_health(self) -> Finding:
        """The search index's part of the data directory's health check (it only reads)."""
        try:
            status = self.search_index.status()
        except WorkbenchError as error:
            return Finding("search index", False, f"could not be checked: {error.message}", "repair the catalog first, then check again")
        if not status.usable and not self.search_index.meta_path.exists():
            return Finding("search index", True, f"not built yet: it is built on the first search ({status.recorded:,} invocations)")
        if not status.usable:
            return Finding("search index", False, status.problem or "unusable", f"rebuild it from the log ({status.recorded:,} invocations)", action="rebuild_index")
        behind = status.recorded - status.indexed
        found = f"{status.engine}, holds {status.indexed:,} of {status.recorded:,} invocations"
        return Finding("search index", True, found + (f" ({behind:,} not indexed yet: indexed on the next search or by a running app)" if behind else ""))

    def index_status(self) -> IndexStatus:
        status = self.search_index.status()
        return IndexStatus(
            usable=status.usable, problem=status.problem, engine=status.engine, indexed=status.indexed, recorded=status.recorded, size_bytes=status.size_bytes
        )
