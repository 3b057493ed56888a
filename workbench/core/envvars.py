"""Environment variables of a tool: one request of inserts, updates and deletes, all or nothing.

Plain values live in the metadata; secret values live in the secrets file and the metadata holds
only a reference to them. Listings show names, never values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from workbench.core.events import EventBus, ToolsChanged
from workbench.core.lookup import require_tool
from workbench.core.requests import ModifyEnvVarsRequest
from workbench.core.results import EnvVarInfo
from workbench.core.validation import ModelOrDict, check_org, parse
from workbench.errors import BadRequest, Conflict, DataDamaged
from workbench.store import SecretStore
from workbench.store.records import EnvVarRecord, VersionRecord
from workbench.store.tables import Metadata, MetadataView


@dataclass(frozen=True)
class ToolEnvironment:
    """A tool's variable values for its sandbox, and which of them are secret (to mask).
    Never for display."""

    plain: dict[str, str]
    secret: dict[str, str]

    @property
    def all(self) -> dict[str, str]:
        return {**self.plain, **self.secret}


def required_by(versions: list[VersionRecord]) -> dict[str, list[str]]:
    """Variable name -> the versions among ``versions`` that require it."""
    found: dict[str, list[str]] = {}
    for version in versions:
        for name in version.required:
            found.setdefault(name, []).append(version.label)
    return found


class EnvVars:
    """Set, list and read a tool's environment variables."""

    def __init__(self, metadata: Metadata, secrets: SecretStore, events: EventBus, clock: Callable[[], datetime], recovery_window: timedelta) -> None:
        self.metadata = metadata
        self.secrets = secrets
        self.events = events
        self.clock = clock
        self.recovery_window = recovery_window

    def modify_envvars(self, org_id: str, tool_id: str, request: ModelOrDict, user_id: str | None = None) -> None:
        """Apply inserts, updates and deletes together, or none of them.

        409: an inserted name exists or was deleted within the recovery window.
        400: an updated or deleted name does not exist; a deleted name is required by a
        non-deprecated version; a name appears twice in one request.
        """
        check_org(org_id)
        req = parse(ModifyEnvVarsRequest, request, "environment variables request")
        names = [*(i.name for i in req.inserts), *(u.name for u in req.updates), *(d.name for d in req.deletes)]
        repeated = sorted(name for name, count in Counter(names).items() if count > 1)
        if repeated:
            raise BadRequest(
                f"{', '.join(repeated)} appear(s) more than once in this request; "
                "each variable may be inserted, updated or deleted once per request"
            )
        now = self.clock()
        staged_secrets: dict[str, str] = {}
        with self.metadata.write() as view:
            tool = require_tool(view, org_id, tool_id)
            records = view.envvars.of_tool(org_id, tool.id)
            active = {r.name: r for r in records if r.live}
            tombstones = {r.name: r for r in records if not r.live}
            self._check(view, tool.id, req, active, tombstones, now)
            for insert in req.inserts:
                record = EnvVarRecord(org_id=org_id, tool_id=tool.id, name=insert.name, is_secret=insert.is_secret, created_at=now, updated_at=now)
                self._assign(record, insert.value, staged_secrets)
                view.envvars.insert(record)
            for update in req.updates:
                record = active[update.name].model_copy(update={"updated_at": now})
                self._assign(record, update.value, staged_secrets)
                view.envvars.save(record)
            for delete in req.deletes:
                view.envvars.save(active[delete.name].model_copy(update={"deleted_at": now, "updated_at": now, "value": None, "secret_ref": None}))
            self.secrets.add(staged_secrets)  # before the metadata that refers to them is committed
        try:
            self._prune_secrets()
        except DataDamaged:
            pass  # the change is committed; values nothing refers to go with the next change or repair
        self.events.emit(ToolsChanged(org_id, tool_id))

    def _check(
        self, view: MetadataView, tool_id: str, req: ModifyEnvVarsRequest, active: dict[str, EnvVarRecord], tombstones: dict[str, EnvVarRecord], now: datetime
    ) -> None:
        for item in req.inserts:
            if item.name in active:
                raise Conflict(f"environment variable {item.name} already exists on this tool; use an update to change its value")
            tomb = tombstones.get(item.name)
            if tomb and tomb.deleted_at and tomb.deleted_at + self.recovery_window > now:
                free_at = tomb.deleted_at + self.recovery_window
                raise Conflict(
                    f"environment variable {item.name} was deleted recently ({tomb.deleted_at.isoformat()}); "
                    f"its name is reserved until {free_at.isoformat()}"
                )
        for name in (*(u.name for u in req.updates), *(d.name for d in req.deletes)):
            if name not in active:
                existing = ", ".join(sorted(active)) or "none"
                raise BadRequest(f"environment variable {name} does not exist on this tool (existing: {existing})")
        if req.deletes:
            in_use = required_by(view.versions.active(tool_id))
            blocked = {d.name: in_use[d.name] for d in req.deletes if in_use.get(d.name)}
            if blocked:
                detail = "; ".join(f"{name} is required by version(s) {', '.join(versions)}" for name, versions in sorted(blocked.items()))
                raise BadRequest(f"cannot delete variables in use: {detail}. Deprecate those versions first.")

    @staticmethod
    def _assign(record: EnvVarRecord, value: str, staged_secrets: dict[str, str]) -> None:
        if record.is_secret:
            ref = SecretStore.new_ref()
            staged_secrets[ref] = value
            record.secret_ref, record.value = ref, None
        else:
            record.value, record.secret_ref = value, None

    def _prune_secrets(self) -> None:
        """Drop secret values no metadata refers to any more (replaced or deleted ones)."""
        with self.metadata.lock():
            with self.metadata.read() as view:
                live = view.envvars.secret_refs()
            self.secrets.retain(live)

    def list_envvars(self, org_id: str, tool_id: str) -> list[EnvVarInfo]:
        """The tool's variables by name, with the versions that require each; no values."""
        check_org(org_id)
        with self.metadata.read() as view:
            tool = require_tool(view, org_id, tool_id)
            required = required_by(view.versions.active(tool.id))
            records = view.envvars.live(org_id, tool.id)
        return [EnvVarInfo(name=r.name, is_secret=r.is_secret, updated_at=r.updated_at, required_by=tuple(required.get(r.name, ()))) for r in records]

    def environment(self, view: MetadataView, org_id: str, tool_id: str) -> ToolEnvironment:
        """The values of the tool's live variables, read from an open view (and the secrets file)."""
        records = view.envvars.live(org_id, tool_id)
        refs = {r.name: r.secret_ref for r in records if r.is_secret and r.secret_ref}
        stored = self.secrets.get(refs.values())
        environment = ToolEnvironment(
            plain={r.name: r.value or "" for r in records if not r.is_secret},
            secret={name: stored[ref] for name, ref in refs.items() if ref in stored},
        )
        unusable = sorted(name for name, value in environment.all.items() if "\x00" in value)
        if unusable:  # stored by an older workbench: no process environment can carry a NUL
            raise BadRequest(
                f"environment variable(s) {', '.join(unusable)} of this tool hold a NUL character, which no process environment can carry; "
                "set them again (workbench env set TOOL NAME=VALUE)"
            )
        return environment
