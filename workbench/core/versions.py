"""Versions: semantic bumps, PEP 440 constraints, listing and deprecating a tool's versions."""

from __future__ import annotations

from typing import Any, Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version as PepVersion
from pydantic import Field
from tinydb import Query

from workbench.core.context import ServiceContext, check_org, parse
from workbench.core.listing import paginate, parse_sort_by, sort_records
from workbench.core.models import ApiModel, ToolVersionInstance, VersionUserInfo
from workbench.core.requests import ListVersionsResponse, VersionFilterValues
from workbench.core.tools import VERSIONS, ToolOperations
from workbench.errors import NotFound, ValidationFailed

BUILDS = "builds"
MAX_ACTIVE_VERSIONS = 3

VERSION_SORT_FIELDS = {
    "created_at": lambda v: v["created_at"],
    "version.major": lambda v: v["version"]["major"],
    "version.minor": lambda v: v["version"]["minor"],
    "version.patch": lambda v: v["version"]["patch"],
    "deprecated": lambda v: v["deprecated"],
}


class VersionConstraint:
    """A PEP 440 constraint such as ``>=1.2,<2``; a bare ``1.2.3`` means exactly that version."""

    def __init__(self, text: str) -> None:
        raw = (text or "").strip()
        if raw and raw[0].isdigit():
            raw = f"=={raw}"
        try:
            self.specifier = SpecifierSet(raw)
        except InvalidSpecifier:
            raise ValidationFailed(
                f"invalid version constraint {text!r}: use a PEP 440 constraint such as '>=1.2,<2', '==1.0.0' or '1.0.0'"
            ) from None
        self.text = text

    def matches(self, version: dict[str, int]) -> bool:
        return self.specifier.contains(label(version), prereleases=True)


def label(version: dict[str, int]) -> str:
    return f"{version['major']}.{version['minor']}.{version['patch']}"


def key(version: dict[str, int]) -> tuple[int, int, int]:
    return version["major"], version["minor"], version["patch"]


def next_version(existing: list[dict[str, int]], bump_type: Literal["major", "minor", "patch"]) -> dict[str, int]:
    """The version after the highest one ever published (deprecated ones count: versions are
    immutable, a number is never reused). The first version is 1.0.0."""
    if not existing:
        return {"major": 1, "minor": 0, "patch": 0}
    major, minor, patch = max(key(v) for v in existing)
    if bump_type == "major":
        return {"major": major + 1, "minor": 0, "patch": 0}
    if bump_type == "minor":
        return {"major": major, "minor": minor + 1, "patch": 0}
    return {"major": major, "minor": minor, "patch": patch + 1}


class ListVersionsQuery(ApiModel):
    deprecated: bool | None = None
    versions: str | None = None
    version_constraint: str | None = Field(default=None, description="The seed document's name for `versions`.")
    creator: list[str] = Field(default_factory=list)
    sort_by: list[str] = Field(default_factory=list)
    limit: int = Field(default=50, ge=0, le=50)
    continuation_token: int = Field(default=0, ge=0)


def _parse_creator(raw: str) -> tuple[str, str]:
    org_id, sep, user_id = raw.partition(",")
    if not sep or not org_id or not user_id:
        raise ValidationFailed(f"invalid creator {raw!r}: use org_id,user_id")
    return org_id, user_id


def public(record: dict[str, Any]) -> ToolVersionInstance:
    return ToolVersionInstance.model_validate(record)


class VersionOperations(ToolOperations):
    """Listing, resolving and deprecating versions. Mixed into the service."""

    ctx: ServiceContext

    def list_versions(self, org_id: str, tool_id: str, query: ListVersionsQuery | dict[str, Any] | None = None) -> ListVersionsResponse:
        """The tool's versions with the spec's filters, sort keys and pagination."""
        check_org(org_id)
        q = parse(ListVersionsQuery, query, "list-versions query")
        text = q.versions if q.versions is not None else q.version_constraint
        constraint = VersionConstraint(text) if text else None
        creators = {_parse_creator(raw) for raw in q.creator}
        sort_keys = parse_sort_by(q.sort_by, VERSION_SORT_FIELDS)
        with self.ctx.metadata.read() as db:
            tool = self._tool_record(db, org_id, tool_id)
            every = db.table(VERSIONS).search(Query().tool_id == tool["id"])
        selected = [
            v
            for v in every
            if (q.deprecated is None or v["deprecated"] == q.deprecated)
            and (constraint is None or constraint.matches(v["version"]))
            and (not creators or (v["creator"]["user_org_id"], v["creator"]["user_id"]) in creators)
        ]
        selected.sort(key=lambda v: key(v["version"]))
        ordered = sort_records(selected, sort_keys)
        page, has_more, token = paginate(ordered, q.limit, q.continuation_token)
        filter_values = None
        if q.continuation_token == 0:
            seen = {(v["creator"]["user_id"], v["creator"]["user_org_id"]) for v in every}
            filter_values = VersionFilterValues(creators=[VersionUserInfo(user_id=u, user_org_id=o) for u, o in sorted(seen)])
        return ListVersionsResponse(
            tool_versions=[public(v) for v in page], has_more=has_more, continuation_token=token, filter_values=filter_values
        )

    def matching_versions(self, org_id: str, tool_id: str, constraint: str) -> list[ToolVersionInstance]:
        """The versions a deprecation by ``constraint`` would affect (its preview)."""
        check_org(org_id)
        spec = VersionConstraint(constraint)
        with self.ctx.metadata.read() as db:
            tool = self._tool_record(db, org_id, tool_id)
            found = [v for v in db.table(VERSIONS).search(Query().tool_id == tool["id"]) if spec.matches(v["version"])]
        return [public(v) for v in sorted(found, key=lambda v: key(v["version"]))]

    def deprecate_versions(self, org_id: str, tool_id: str, constraint: str, user_id: str | None = None) -> list[str]:
        """Deprecate every version matching the PEP 440 ``constraint``; returns their labels."""
        check_org(org_id)
        spec = VersionConstraint(constraint)
        with self.ctx.operation_lock(tool_id), self.ctx.metadata.write() as db:
            tool = self._tool_record(db, org_id, tool_id)
            table = db.table(VERSIONS)
            hits = [v for v in table.search((Query().tool_id == tool["id"]) & (Query().deprecated == False)) if spec.matches(v["version"])]  # noqa: E712
            now = self.ctx.clock().isoformat()
            for version in hits:
                table.update(
                    {"deprecated": True, "updated_at": now, "updated_by": {"user_id": user_id or self.ctx.settings.user, "user_org_id": org_id}},
                    Query().id == version["id"],
                )
        self._retire_versions([v["id"] for v in hits])
        return [label(v["version"]) for v in hits]

    def resolve_version(self, org_id: str, tool_id: str, version: str) -> dict[str, Any]:
        """The active version to run for ``version``: an exact version, or the highest active
        version matching a constraint. Deprecated versions are not invocable (404)."""
        check_org(org_id)
        with self.ctx.metadata.read() as db:
            tool = self._tool_record(db, org_id, tool_id)
            every = db.table(VERSIONS).search(Query().tool_id == tool["id"])
        try:
            wanted = PepVersion(version)
            exact = [v for v in every if PepVersion(label(v["version"])) == wanted]
            if exact and exact[0]["deprecated"]:
                raise NotFound(f"version {version} of tool {tool['name']} is deprecated and can no longer be invoked")
            candidates = exact
        except InvalidVersion:
            spec = VersionConstraint(version)
            candidates = [v for v in every if spec.matches(v["version"]) and not v["deprecated"]]
        if not candidates:
            active = ", ".join(label(v["version"]) for v in sorted(every, key=lambda v: key(v["version"])) if not v["deprecated"]) or "none"
            raise NotFound(f"tool {tool['name']} has no active version matching {version!r} (active versions: {active})")
        return max(candidates, key=lambda v: key(v["version"]))
