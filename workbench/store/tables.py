"""Typed tables over one snapshot of the metadata store.

Every TinyDB query of the workbench lives here, behind a method that says what it finds
(``versions.active(tool_id)``) and returns records, not dicts. A view is opened for reading (a
consistent snapshot, changes discarded) or for writing (locked, committed atomically when the block
succeeds), so one operation reads the metadata once however many tables it looks at.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Generic, TypeVar

from tinydb import Query, TinyDB
from tinydb.table import Table

from workbench.store.locks import FileLock
from workbench.store.metadata import MetadataStore
from workbench.store.records import ApiKeyRecord, BuildRecord, EnvVarRecord, Record, ToolRecord, VersionRecord, VersionUserRef

R = TypeVar("R", bound=Record)

Q = Query()


class _Table(Generic[R]):
    model: type[R]
    name: str

    def __init__(self, db: TinyDB) -> None:
        self.table: Table = db.table(self.name)

    def _records(self, docs: Iterable[Any]) -> list[R]:
        return [self.model.model_validate(dict(doc)) for doc in docs]

    def _one(self, doc: Any) -> R | None:
        return None if doc is None else self.model.model_validate(dict(doc))


class ToolTable(_Table[ToolRecord]):
    model, name = ToolRecord, "tools"

    def of_org(self, org_id: str) -> list[ToolRecord]:
        return self._records(self.table.search(Q.org_id == org_id))

    def get(self, org_id: str, tool_id: str) -> ToolRecord | None:
        return self._one(self.table.get((Q.org_id == org_id) & (Q.id == tool_id)))

    def named(self, org_id: str, name: str) -> list[ToolRecord]:
        """Every tool of the org with this name (one live one at most, and deprecated ones)."""
        return self._records(self.table.search((Q.org_id == org_id) & (Q.name == name)))

    def live_named(self, org_id: str, name: str) -> ToolRecord | None:
        return self._one(self.table.get((Q.org_id == org_id) & (Q.name == name) & (Q.deprecated == False)))  # noqa: E712

    def organizations(self) -> list[str]:
        return sorted({doc["org_id"] for doc in self.table.all()})

    def insert(self, record: ToolRecord) -> None:
        self.table.insert(record.stored())

    def save(self, record: ToolRecord) -> None:
        self.table.update(record.stored(), Q.id == record.id)


class VersionTable(_Table[VersionRecord]):
    model, name = VersionRecord, "versions"

    def of_tool(self, tool_id: str) -> list[VersionRecord]:
        """Every version of the tool, deprecated ones included, lowest first."""
        return sorted(self._records(self.table.search(Q.tool_id == tool_id)), key=lambda v: v.version.key)

    def active(self, tool_id: str) -> list[VersionRecord]:
        return [v for v in self.of_tool(tool_id) if not v.deprecated]

    def active_of_org(self, org_id: str) -> dict[str, list[VersionRecord]]:
        """Tool id -> its active versions, lowest first, for every tool of the org at once."""
        found: dict[str, list[VersionRecord]] = {}
        for version in self._records(self.table.search((Q.org_id == org_id) & (Q.deprecated == False))):  # noqa: E712
            found.setdefault(version.tool_id, []).append(version)
        return {tool_id: sorted(versions, key=lambda v: v.version.key) for tool_id, versions in found.items()}

    def deprecated_ids(self) -> set[str]:
        return {doc["id"] for doc in self.table.search(Q.deprecated == True)}  # noqa: E712

    def insert(self, record: VersionRecord) -> None:
        self.table.insert(record.stored())

    def deprecate(self, versions: Iterable[VersionRecord], at: datetime, by: VersionUserRef) -> None:
        ids = [v.id for v in versions]
        if ids:
            self.table.update({"deprecated": True, "updated_at": at.isoformat(), "updated_by": by.stored()}, Q.id.one_of(ids))


class EnvVarTable(_Table[EnvVarRecord]):
    model, name = EnvVarRecord, "envvars"

    def _mine(self, org_id: str, tool_id: str) -> Any:
        return (Q.org_id == org_id) & (Q.tool_id == tool_id)

    def of_tool(self, org_id: str, tool_id: str) -> list[EnvVarRecord]:
        """The tool's variables, deleted ones (tombstones) included."""
        return self._records(self.table.search(self._mine(org_id, tool_id)))

    def live(self, org_id: str, tool_id: str) -> list[EnvVarRecord]:
        return sorted((v for v in self.of_tool(org_id, tool_id) if v.live), key=lambda v: v.name)

    def live_names_of_org(self, org_id: str) -> dict[str, list[EnvVarRecord]]:
        """Tool id -> its live variables, for every tool of the org at once."""
        found: dict[str, list[EnvVarRecord]] = {}
        for var in self._records(self.table.search((Q.org_id == org_id) & (Q.deleted_at == None))):  # noqa: E711
            found.setdefault(var.tool_id, []).append(var)
        return found

    def secret_refs(self) -> list[str]:
        return [doc["secret_ref"] for doc in self.table.all() if doc.get("secret_ref")]

    def insert(self, record: EnvVarRecord) -> None:
        self.table.remove(self._mine(record.org_id, record.tool_id) & (Q.name == record.name))  # an old tombstone
        self.table.insert(record.stored())

    def save(self, record: EnvVarRecord) -> None:
        self.table.update(record.stored(), self._mine(record.org_id, record.tool_id) & (Q.name == record.name))


class BuildTable(_Table[BuildRecord]):
    model, name = BuildRecord, "builds"

    def for_version(self, version_id: str) -> BuildRecord | None:
        return self._one(self.table.get(Q.version_id == version_id))

    def for_versions(self, version_ids: Iterable[str]) -> list[BuildRecord]:
        return self._records(self.table.search(Q.version_id.one_of(list(version_ids))))

    def all(self) -> list[BuildRecord]:
        return self._records(self.table.all())

    def insert(self, record: BuildRecord) -> None:
        self.table.insert(record.stored())


class ApiKeyTable(_Table[ApiKeyRecord]):
    model, name = ApiKeyRecord, "api_keys"

    def of_org(self, org_id: str) -> list[ApiKeyRecord]:
        return self._records(self.table.search(Q.org_id == org_id))

    def get(self, key_id: str) -> ApiKeyRecord | None:
        return self._one(self.table.get(Q.id == key_id))

    def insert(self, record: ApiKeyRecord) -> None:
        self.table.insert(record.stored())

    def revoke(self, org_id: str, key_id: str) -> bool:
        return bool(self.table.update({"revoked": True}, (Q.org_id == org_id) & (Q.id == key_id)))


class MetadataView:
    """One snapshot of the metadata, table by table."""

    def __init__(self, db: TinyDB) -> None:
        self.tools = ToolTable(db)
        self.versions = VersionTable(db)
        self.envvars = EnvVarTable(db)
        self.builds = BuildTable(db)
        self.api_keys = ApiKeyTable(db)


class Metadata:
    """Typed access to a data directory's metadata store."""

    def __init__(self, store: MetadataStore) -> None:
        self.store = store

    def stamp(self) -> tuple[int, int, int] | None:
        """Changes with every commit (see :meth:`MetadataStore.stamp`)."""
        return self.store.stamp()

    @contextmanager
    def read(self) -> Iterator[MetadataView]:
        """A consistent snapshot; changes made to it are discarded."""
        with self.store.read() as db:
            yield MetadataView(db)

    @contextmanager
    def write(self) -> Iterator[MetadataView]:
        """A locked read-modify-write, committed atomically only if the block succeeds."""
        with self.store.write() as db:
            yield MetadataView(db)

    def lock(self) -> FileLock:
        """The lock that serializes every writer of the metadata (and of the secrets beside it)."""
        return self.store.lock()
