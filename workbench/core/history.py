"""Invocation history and search: list with the spec's filters, sort keys and pages, count, fetch
one, and full-text search with highlighted snippets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from workbench.core.context import ServiceContext, check_org, parse
from workbench.core.invoke import InvokeOperations
from workbench.core.listing import parse_sort_by
from workbench.core.models import ApiModel, ObjectId, ToolInvocationInstance
from workbench.core.requests import ListInvocationsResponse, SearchInvocationsResponse
from workbench.core.versions import VersionConstraint
from workbench.errors import BadRequest, NotFound, ServiceUnavailable
from workbench.search.index import IndexUnusable, Progress
from workbench.search.query import filter_query, index_fields, parse_query, snippets

SOURCE_TYPES = {
    "regular-conversation": "regular-conversation",
    "simulation-conversation": "simulation-conversation",
    "workbench": "workbench",
    "conversation": "regular-conversation",  # the seed document's short names
    "simulation": "simulation-conversation",
}
SQL_SORT_FIELDS = {
    "created_at": "created_at",
    "version.major": "major",
    "version.minor": "minor",
    "version.patch": "patch",
    "tool_id": "tool_id",
    "invocation_source.type": "source_type",
    "invocation_status.succeeded": "succeeded",
}


class InvocationFilters(ApiModel):
    tool_id: list[ObjectId] = Field(default_factory=list)
    invocation_source_type: list[str] = Field(default_factory=list)
    conversation_id: list[ObjectId] = Field(default_factory=list)
    simulation_unit_test_set_run_id: list[ObjectId] = Field(default_factory=list)
    succeeded: bool | None = None


class ListInvocationsQuery(InvocationFilters):
    version: list[str] = Field(default_factory=list)
    sort_by: list[str] = Field(default_factory=list)
    limit: int = Field(default=100, ge=0, le=100)
    continuation_token: int = Field(default=0, ge=0)


class SearchInvocationsQuery(InvocationFilters):
    query: str
    query_against: list[str] = Field(default_factory=list)
    order: Literal["newest", "relevance"] = Field(default="newest", description="Workbench extension: newest first, or best match first.")
    limit: int = Field(default=50, ge=1, le=100, description="Workbench extension: at most this many hits.")


@dataclass
class SearchHit:
    """A hit for the UI: the invocation and, per matched field, fragments with marked matches."""

    invocation: ToolInvocationInstance
    snippets: dict[str, str]
    score: float


def _source_types(raw: list[str]) -> list[str]:
    unknown = [t for t in raw if t not in SOURCE_TYPES]
    if unknown:
        raise BadRequest(f"unknown invocation_source_type {', '.join(unknown)}; allowed: {', '.join(SOURCE_TYPES)}")
    return sorted({SOURCE_TYPES[t] for t in raw})


class HistoryOperations(InvokeOperations):
    """History and search. Mixed into the service."""

    ctx: ServiceContext

    # -- listing ------------------------------------------------------------------------------

    def _where(self, org_id: str, q: InvocationFilters, versions: list[str] | None = None) -> tuple[str, list[Any]]:
        catalog = self.ctx.catalog
        clauses, params = ["org_id = ?"], [org_id]
        if versions is not None and len(q.tool_id) != len(versions):
            raise BadRequest(
                f"tool_id and version pair up by position and must be given the same number of times; got {len(q.tool_id)} tool_id and {len(versions)} version"
            )
        if q.tool_id:
            pairs = []
            for index, tool_id in enumerate(q.tool_id):
                constraint = (versions[index] if versions else "").strip()
                if constraint in ("", "*"):
                    pairs.append("tool_id = ?")
                    params.append(tool_id)
                    continue
                spec = VersionConstraint(constraint)
                present = catalog.query("SELECT DISTINCT major, minor, patch FROM invocations WHERE org_id = ? AND tool_id = ?", [org_id, tool_id])
                matching = [v for v in present if spec.matches({"major": v[0], "minor": v[1], "patch": v[2]})]
                if not matching:
                    pairs.append("0")
                    continue
                pairs.append("(tool_id = ? AND (" + " OR ".join("(major = ? AND minor = ? AND patch = ?)" for _ in matching) + "))")
                params.append(tool_id)
                for version in matching:
                    params.extend(version)
            clauses.append("(" + " OR ".join(pairs) + ")")
        for column, values in (
            ("source_type", _source_types(q.invocation_source_type)),
            ("conversation_id", q.conversation_id),
            ("sim_run_id", q.simulation_unit_test_set_run_id),
        ):
            if values:
                clauses.append(f"{column} IN ({','.join('?' * len(values))})")
                params.extend(values)
        if q.succeeded is not None:
            clauses.append("succeeded = ?")
            params.append(1 if q.succeeded else 0)
        return " AND ".join(clauses), params

    def list_invocations(self, org_id: str, query: ListInvocationsQuery | dict[str, Any] | None = None) -> ListInvocationsResponse:
        """A page of the org's invocations, newest first unless sorted otherwise."""
        check_org(org_id)
        q = parse(ListInvocationsQuery, query, "list-invocations query")
        sort_keys = parse_sort_by(q.sort_by, SQL_SORT_FIELDS) or [("created_at", True)]
        self.ctx.catalog.sync()
        where, params = self._where(org_id, q, q.version)
        order = ", ".join(f"{column} {'DESC' if descending else 'ASC'}" for column, descending in sort_keys) + ", seq DESC"
        rows = self.ctx.catalog.query(
            f"SELECT segment, offset, length FROM invocations WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, q.limit + 1, q.continuation_token],
        )
        has_more = len(rows) > q.limit
        records = self.ctx.catalog.read(rows[: q.limit])
        return ListInvocationsResponse(
            tool_invocations=[ToolInvocationInstance.model_validate(r) for r in records],
            has_more=has_more,
            continuation_token=q.continuation_token + q.limit if has_more else None,
        )

    def count_invocations(self, org_id: str, query: ListInvocationsQuery | dict[str, Any] | None = None) -> int:
        """How many invocations match the filters (for "100 of 84,213")."""
        check_org(org_id)
        q = parse(ListInvocationsQuery, query, "list-invocations query")
        self.ctx.catalog.sync()
        where, params = self._where(org_id, q, q.version)
        return self.ctx.catalog.query(f"SELECT COUNT(*) FROM invocations WHERE {where}", params)[0][0]

    def get_invocation(self, org_id: str, invocation_id: str) -> ToolInvocationInstance:
        check_org(org_id)
        self.ctx.catalog.sync()
        rows = self.ctx.catalog.query("SELECT segment, offset, length FROM invocations WHERE org_id = ? AND id = ?", [org_id, invocation_id])
        if not rows:
            raise NotFound(f"invocation {invocation_id} does not exist in organization {org_id}")
        return ToolInvocationInstance.model_validate(self.ctx.catalog.read(rows)[0])

    # -- search -------------------------------------------------------------------------------

    def search_hits(self, org_id: str, query: SearchInvocationsQuery | dict[str, Any], on_rebuild: Progress | None = None) -> list[SearchHit]:
        """Full-text search with the filters; hits newest first (or by relevance) with snippets.

        If the index is missing, damaged or of an older schema, it is rebuilt: here with
        ``on_rebuild`` reporting progress, else in the background while this answers 503.
        """
        check_org(org_id)
        q = parse(SearchInvocationsQuery, query, "search query")
        fields = index_fields(q.query_against)
        text_query = parse_query(q.query, fields)
        filters = filter_query(
            org_id,
            tool_id=q.tool_id,
            source_type=_source_types(q.invocation_source_type),
            conversation_id=q.conversation_id,
            sim_run_id=q.simulation_unit_test_set_run_id,
            succeeded=None if q.succeeded is None else ["true" if q.succeeded else "false"],
        )
        index = self.ctx.search_index
        try:
            index.check()
        except IndexUnusable as problem:
            if on_rebuild is None:
                self.ctx.indexer.nudge(rebuild=True)
                raise ServiceUnavailable(f"{problem}; it is being rebuilt, search again shortly") from None
            index.rebuild(progress=on_rebuild)
        if index.backlog():
            self.ctx.indexer.nudge()  # searches what is indexed now; the rest follows shortly
        hits, terms = index.search(text_query, filters, q.order == "newest", q.limit)
        if not hits:
            return []
        seqs = [seq for seq, _ in hits]
        rows = self.ctx.catalog.query(f"SELECT seq, segment, offset, length FROM invocations WHERE seq IN ({','.join('?' * len(seqs))})", seqs)
        located = {row[0]: row[1:] for row in rows}
        records = self.ctx.catalog.read([located[seq] for seq in seqs if seq in located])
        scores = dict(hits)
        return [
            SearchHit(ToolInvocationInstance.model_validate(record), snippets(record, terms, fields), scores[seq])
            for seq, record in zip([s for s in seqs if s in located], records)
        ]

    def search_invocations(self, org_id: str, query: SearchInvocationsQuery | dict[str, Any], on_rebuild: Progress | None = None) -> SearchInvocationsResponse:
        """The API's search: the matching invocations."""
        return SearchInvocationsResponse(tool_invocations=[hit.invocation for hit in self.search_hits(org_id, query, on_rebuild)])

    def flush_index(self) -> None:
        """Index what this process recorded now (a short-lived command's last act)."""
        self.ctx.indexer.flush()

    def rebuild_index(self, progress: Progress | None = None) -> int:
        """Rebuild the search index from the log; returns the number of invocations indexed."""
        return self.ctx.search_index.rebuild(progress=progress)

    def index_status(self) -> dict[str, Any]:
        index = self.ctx.search_index
        try:
            meta = index.check()
            usable, problem = True, None
        except IndexUnusable as error:
            meta, usable, problem = index.meta() or {}, False, str(error)
        self.ctx.catalog.sync()
        return {
            "usable": usable,
            "problem": problem,
            "indexed": int(meta.get("indexed_seq", 0)),
            "recorded": self.ctx.catalog.max_seq(),
            "partitions": len(index.partitions()),
        }
