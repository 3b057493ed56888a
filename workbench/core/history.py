"""Invocation history and search: list with the spec's filters, sort keys and pages, count, fetch
one, and full-text search with highlighted snippets."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from workbench.core.listing import parse_sort_by
from workbench.core.models import LEGACY_SOURCE_TYPE, InvocationSourceType, ToolInvocationInstance
from workbench.core.requests import (
    InvocationFilters,
    ListInvocationsQuery,
    ListInvocationsResponse,
    SearchInvocationsQuery,
    SearchInvocationsResponse,
)
from workbench.core.results import IndexStatus, Progress, SearchHit, SearchPage
from workbench.core.validation import ModelOrDict, check_org, parse
from workbench.core.versions import VersionConstraint
from workbench.errors import BadRequest, NotFound, ServiceUnavailable
from workbench.search.index import IndexUnusable, SearchIndex
from workbench.search.indexer import Indexer
from workbench.search.query import filter_query, index_fields, parse_query, snippets
from workbench.store.invocation_queries import SORT_COLUMNS, InvocationFilter, InvocationQueries, ToolSelection

def _stored_source_types(types: Sequence[InvocationSourceType]) -> list[str]:
    """The source types as the catalog and the index hold them: a regular conversation includes
    the runs older workbenches recorded as ``workbench`` (they read as regular conversations)."""
    stored: set[str] = set(types)
    if "regular-conversation" in stored:
        stored.add(LEGACY_SOURCE_TYPE)
    return sorted(stored)


PLAIN_WORDS = re.compile(r"[^\w\s]+")


def _readable_query(text: str, fields: list[str]) -> Any:
    """The query language's reading of ``text``; where it cannot read it (an unclosed quote,
    unbalanced parentheses), the same text as plain words; None if it has nothing to search for.
    (The search engine's own parser, which never fails on plain text, replaces this.)"""
    try:
        return parse_query(text, fields)
    except BadRequest:
        words = PLAIN_WORDS.sub(" ", text).strip()
    try:
        return parse_query(words, fields) if words else None
    except BadRequest:  # nothing searchable in it (only stop words): nothing matches
        return None


class History:
    """The org's recorded invocations: pages, counts, one by id, and full-text search."""

    def __init__(self, queries: InvocationQueries, search_index: SearchIndex, indexer: Indexer, engine: str = "whoosh") -> None:
        self.queries = queries
        self.search_index = search_index
        self.indexer = indexer
        self.engine = engine

    # -- listing ------------------------------------------------------------------------------

    def _filter(self, org_id: str, q: InvocationFilters, versions: list[str] | None = None) -> InvocationFilter:
        """The catalog's filter; ``versions`` pair with ``q.tool_id`` by position (none given:
        any version of each tool)."""
        if versions and len(q.tool_id) != len(versions):
            raise BadRequest(
                f"tool_id and version pair up by position and must be given the same number of times; got {len(q.tool_id)} tool_id and {len(versions)} version"
            )
        selections = []
        for index, tool_id in enumerate(q.tool_id):
            text = (versions[index] if versions else "").strip()
            if text in ("", "*"):
                selections.append(ToolSelection(tool_id))
                continue
            constraint = VersionConstraint(text)
            present = self.queries.versions_present(org_id, tool_id)
            selections.append(ToolSelection(tool_id, tuple(v for v in present if constraint.matches(*v))))
        return InvocationFilter(
            org_id=org_id,
            tools=tuple(selections),
            source_types=tuple(_stored_source_types(q.invocation_source_type)),
            conversation_ids=tuple(q.conversation_id),
            sim_run_ids=tuple(q.simulation_unit_test_set_run_id),
            succeeded=q.succeeded,
        )

    def list_invocations(self, org_id: str, query: ModelOrDict = None) -> ListInvocationsResponse:
        """A page of the org's invocations, newest first unless sorted otherwise. A page of
        ``limit=0`` is empty and last (``has_more`` false), so a client following the tokens
        always stops."""
        check_org(org_id)
        q = parse(ListInvocationsQuery, query, "list-invocations query")
        sort = parse_sort_by(q.sort_by, {name: name for name in SORT_COLUMNS})
        where = self._filter(org_id, q, q.version)
        if q.limit == 0:
            return ListInvocationsResponse(tool_invocations=[], has_more=False, continuation_token=None)
        locations, has_more = self.queries.page(where, sort, q.limit, q.continuation_token)
        return ListInvocationsResponse(
            tool_invocations=[ToolInvocationInstance.model_validate(r) for r in self.queries.records(locations)],
            has_more=has_more,
            continuation_token=q.continuation_token + q.limit if has_more else None,
        )

    def count_invocations(self, org_id: str, query: ModelOrDict = None) -> int:
        """How many invocations match the filters (for "100 of 84,213")."""
        check_org(org_id)
        q = parse(ListInvocationsQuery, query, "list-invocations query")
        return self.queries.count(self._filter(org_id, q, q.version))

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
        A blank query selects by the filters alone (newest first); text the query language cannot
        read is searched as plain words, so what people type never fails.

        If the index is missing, damaged or of an older schema, it is rebuilt: here with
        ``on_rebuild`` reporting progress, else in the background while this answers 503.
        """
        check_org(org_id)
        q = parse(SearchInvocationsQuery, query, "search query")
        if not q.query.strip():
            return self._filtered_page(org_id, q)
        fields = index_fields(list(q.query_against))
        text_query = _readable_query(q.query, fields)
        if text_query is None:
            return SearchPage(hits=[], has_more=False)
        filters = filter_query(
            org_id,
            tool_id=q.tool_id,
            source_type=_stored_source_types(q.invocation_source_type),
            conversation_id=q.conversation_id,
            sim_run_id=q.simulation_unit_test_set_run_id,
            succeeded=None if q.succeeded is None else ["true" if q.succeeded else "false"],
        )
        index = self.search_index
        try:
            index.check()
        except IndexUnusable as problem:
            if on_rebuild is None:
                self.indexer.nudge(rebuild=True)
                raise ServiceUnavailable(f"{problem}; it is being rebuilt, search again shortly") from None
            index.rebuild(progress=on_rebuild)
        if index.backlog():
            self.indexer.nudge()  # searches what is indexed now; the rest follows shortly
        hits, terms = index.search(text_query, filters, q.order == "newest", q.limit + 1)
        has_more = len(hits) > q.limit
        hits = hits[: q.limit]
        located = self.queries.locate_seqs(seq for seq, _ in hits)
        found = [(seq, score) for seq, score in hits if seq in located]
        records = self.queries.records([located[seq] for seq, _ in found])
        return SearchPage(
            hits=[SearchHit(ToolInvocationInstance.model_validate(record), snippets(record, terms, fields), score) for (seq, score), record in zip(found, records)],
            has_more=has_more,
        )

    def _filtered_page(self, org_id: str, q: SearchInvocationsQuery) -> SearchPage:
        """A blank search: the newest invocations the filters select, from the catalog."""
        locations, has_more = self.queries.page(self._filter(org_id, q), [], q.limit, 0)
        return SearchPage(hits=[SearchHit(ToolInvocationInstance.model_validate(r), {}, 0.0) for r in self.queries.records(locations)], has_more=has_more)

    def search_invocations(self, org_id: str, query: ModelOrDict, on_rebuild: Progress | None = None) -> SearchInvocationsResponse:
        """The API's search: the matching invocations, and whether more match (a workbench extra)."""
        page = self.search_page(org_id, query, on_rebuild)
        return SearchInvocationsResponse(tool_invocations=[hit.invocation for hit in page.hits], has_more=page.has_more)

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

    def index_status(self) -> IndexStatus:
        index = self.search_index
        try:
            meta = index.check()
            usable, problem = True, None
        except IndexUnusable as error:
            meta, usable, problem = index.meta() or {}, False, str(error)
        index.catalog.sync()
        return IndexStatus(usable=usable, problem=problem, engine=self.engine, indexed=int(meta.get("indexed_seq", 0)), recorded=index.catalog.max_seq())
