"""Versions: semantic bumps, PEP 440 constraints, listing, resolving and deprecating."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version as PepVersion

from workbench.core.events import EventBus, VersionsDeprecated
from workbench.core.listing import paginate, parse_sort_by, sort_records
from workbench.core.locks import OperationLocks
from workbench.core.lookup import require_tool, version_instance, version_user
from workbench.core.models import ToolVersionInstance, VersionUserInfo
from workbench.core.requests import ListVersionsQuery, ListVersionsResponse, VersionFilterValues
from workbench.core.runtimes import Runtimes
from workbench.core.validation import ModelOrDict, check_org, parse
from workbench.errors import NotFound, ValidationFailed
from workbench.store.records import VersionNumber, VersionRecord
from workbench.store.tables import Metadata, MetadataView

MAX_ACTIVE_VERSIONS = 3

VERSION_SORT_FIELDS: dict[str, Callable[[VersionRecord], Any]] = {
    "created_at": lambda v: v.created_at,
    "version.major": lambda v: v.version.major,
    "version.minor": lambda v: v.version.minor,
    "version.patch": lambda v: v.version.patch,
    "deprecated": lambda v: v.deprecated,
}


class VersionConstraint:
    """A PEP 440 constraint such as ``>=1.2,<2``; a bare ``1.2.3`` means exactly that version."""

    def __init__(self, text: str) -> None:
        raw = (text or "").strip()
        if not raw:
            raise ValidationFailed("the version constraint is empty: give a PEP 440 constraint such as '>=1.2,<2', '==1.0.0' or '1.0.0'")
        if raw[0].isdigit():
            raw = f"=={raw}"
        try:
            self.specifier = SpecifierSet(raw)
        except InvalidSpecifier:
            raise ValidationFailed(
                f"invalid version constraint {text!r}: use a PEP 440 constraint such as '>=1.2,<2', '==1.0.0' or '1.0.0'"
            ) from None
        self.text = text

    def matches(self, major: int, minor: int, patch: int) -> bool:
        return self.specifier.contains(f"{major}.{minor}.{patch}", prereleases=True)

    def matches_version(self, version: VersionNumber) -> bool:
        return self.matches(version.major, version.minor, version.patch)


def next_version(existing: Iterable[VersionRecord], bump_type: Literal["major", "minor", "patch"]) -> VersionNumber:
    """The version after the highest one ever published (deprecated ones count: versions are
    immutable, a number is never reused). The first version is 1.0.0."""
    keys = [v.version.key for v in existing]
    if not keys:
        return VersionNumber(major=1, minor=0, patch=0)
    major, minor, patch = max(keys)
    if bump_type == "major":
        return VersionNumber(major=major + 1, minor=0, patch=0)
    if bump_type == "minor":
        return VersionNumber(major=major, minor=minor + 1, patch=0)
    return VersionNumber(major=major, minor=minor, patch=patch + 1)


def _parse_creator(raw: str) -> tuple[str, str]:
    org_id, sep, user_id = raw.partition(",")
    if not sep or not org_id or not user_id:
        raise ValidationFailed(f"invalid creator {raw!r}: use org_id,user_id")
    return org_id, user_id


def resolve(tool_name: str, versions: list[VersionRecord], wanted: str) -> VersionRecord:
    """The active version to run for ``wanted``: an exact version, or the highest active version
    matching a constraint. Deprecated versions are not invocable (404)."""
    try:
        exact_version = PepVersion(wanted)
        exact = [v for v in versions if PepVersion(v.label) == exact_version]
        if exact and exact[0].deprecated:
            raise NotFound(f"version {wanted} of tool {tool_name} is deprecated and can no longer be invoked")
        candidates = exact
    except InvalidVersion:
        constraint = VersionConstraint(wanted)
        candidates = [v for v in versions if constraint.matches_version(v.version) and not v.deprecated]
    if not candidates:
        active = ", ".join(v.label for v in versions if not v.deprecated) or "none"
        raise NotFound(f"tool {tool_name} has no active version matching {wanted!r} (active versions: {active})")
    return max(candidates, key=lambda v: v.version.key)


class Versions:
    """Listing, previewing and deprecating a tool's versions."""

    def __init__(self, metadata: Metadata, runtimes: Runtimes, locks: OperationLocks, events: EventBus, clock: Callable[[], datetime], default_user: str) -> None:
        self.metadata = metadata
        self.runtimes = runtimes
        self.locks = locks
        self.events = events
        self.clock = clock
        self.default_user = default_user

    def list_versions(self, org_id: str, tool_id: str, query: ModelOrDict = None) -> ListVersionsResponse:
        """The tool's versions with the spec's filters, sort keys and pagination."""
        check_org(org_id)
        q = parse(ListVersionsQuery, query, "list-versions query")
        text = q.versions if q.versions is not None else q.version_constraint
        constraint = VersionConstraint(text) if text else None
        creators = {_parse_creator(raw) for raw in q.creator}
        sort_keys = parse_sort_by(q.sort_by, VERSION_SORT_FIELDS)
        with self.metadata.read() as view:
            every = view.versions.of_tool(require_tool(view, org_id, tool_id).id)
        selected = [
            v
            for v in every
            if (q.deprecated is None or v.deprecated == q.deprecated)
            and (constraint is None or constraint.matches_version(v.version))
            and (not creators or (v.creator.user_org_id, v.creator.user_id) in creators)
        ]
        page, has_more, token = paginate(sort_records(selected, sort_keys), q.limit, q.continuation_token)
        filter_values = None
        if q.continuation_token == 0:
            seen = sorted({(v.creator.user_id, v.creator.user_org_id) for v in every})
            filter_values = VersionFilterValues(creators=[VersionUserInfo(user_id=u, user_org_id=o) for u, o in seen])
        return ListVersionsResponse(tool_versions=[version_instance(v) for v in page], has_more=has_more, continuation_token=token, filter_values=filter_values)

    def matching_versions(self, org_id: str, tool_id: str, constraint: str) -> list[ToolVersionInstance]:
        """The versions a deprecation by ``constraint`` would affect (its preview)."""
        check_org(org_id)
        spec = VersionConstraint(constraint)
        with self.metadata.read() as view:
            every = view.versions.of_tool(require_tool(view, org_id, tool_id).id)
        return [version_instance(v) for v in every if spec.matches_version(v.version)]

    def deprecate_versions(self, org_id: str, tool_id: str, constraint: str, user_id: str | None = None) -> list[str]:
        """Deprecate every active version matching the PEP 440 ``constraint``; their warm workers
        stop. Returns their labels."""
        check_org(org_id)
        spec = VersionConstraint(constraint)
        with self.locks.hold(tool_id), self.metadata.write() as view:
            tool = require_tool(view, org_id, tool_id)
            hits = [v for v in view.versions.active(tool.id) if spec.matches_version(v.version)]
            builds = self.deprecate_in(view, org_id, hits, user_id)
        self.runtimes.retire(builds)
        labels = [v.label for v in hits]
        if labels:
            self.events.emit(VersionsDeprecated(org_id, tool_id, tuple(labels)))
        return labels

    def deprecate_in(self, view: MetadataView, org_id: str, versions: list[VersionRecord], user_id: str | None) -> list[Any]:
        """Mark versions deprecated inside an open write; returns their builds, to retire once
        the change is committed."""
        view.versions.deprecate(versions, self.clock(), version_user(org_id, user_id or self.default_user))
        return view.builds.for_versions(v.id for v in versions)
