"""Environment variables of a tool: one request of inserts, updates and deletes, all or nothing.

Plain values live in the metadata; secret values live in the secrets file and the metadata holds
only a reference to them. Listings show names, never values.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tinydb import Query

from workbench.core.context import ServiceContext, check_org, parse
from workbench.errors import BadRequest, Conflict
from workbench.core.requests import ModifyEnvVarsRequest
from workbench.core.tools import ENVVARS, VERSIONS, ToolOperations
from workbench.store import SecretStore


@dataclass(frozen=True)
class EnvVarInfo:
    """What a listing may say about a variable: never its value."""

    name: str
    is_secret: bool
    updated_at: str
    required_by: tuple[str, ...]  # non-deprecated versions that require it, e.g. ("1.0.0",)


def _version_label(version: dict[str, Any]) -> str:
    v = version["version"]
    return f"{v['major']}.{v['minor']}.{v['patch']}"


class EnvVarOperations(ToolOperations):
    """Environment variable operations. Mixed into :class:`workbench.core.service.ToolService`."""

    ctx: ServiceContext

    def modify_envvars(
        self,
        org_id: str,
        tool_id: str,
        request: ModifyEnvVarsRequest | dict[str, Any],
        user_id: str | None = None,
    ) -> None:
        """Apply inserts, updates and deletes together, or none of them.

        409: an inserted name exists or was deleted within the recovery window.
        400: an updated or deleted name does not exist; a deleted name is required by a
        non-deprecated version; a name appears twice in one request.
        """
        check_org(org_id)
        req = parse(ModifyEnvVarsRequest, request, "environment variables request")
        names = [item.name for item in (*req.inserts, *req.updates, *req.deletes)]
        repeated = sorted(name for name, count in Counter(names).items() if count > 1)
        if repeated:
            raise BadRequest(
                f"{', '.join(repeated)} appear(s) more than once in this request; "
                "each variable may be inserted, updated or deleted once per request"
            )
        now = self.ctx.clock()
        window = timedelta(seconds=self.ctx.settings.envvar_recovery_window_seconds)
        staged_secrets: dict[str, str] = {}
        with self.ctx.metadata.write() as db:
            tool = self._tool_record(db, org_id, tool_id)
            table = db.table(ENVVARS)
            mine = (Query().org_id == org_id) & (Query().tool_id == tool["id"])
            records = table.search(mine)
            active = {r["name"]: r for r in records if r["deleted_at"] is None}
            tombstones = {r["name"]: r for r in records if r["deleted_at"] is not None}

            for item in req.inserts:
                if item.name in active:
                    raise Conflict(
                        f"environment variable {item.name} already exists on this tool; "
                        "use an update to change its value"
                    )
                tomb = tombstones.get(item.name)
                if tomb and datetime.fromisoformat(tomb["deleted_at"]) + window > now:
                    free_at = datetime.fromisoformat(tomb["deleted_at"]) + window
                    raise Conflict(
                        f"environment variable {item.name} was deleted recently "
                        f"({tomb['deleted_at']}); its name is reserved until {free_at.isoformat()}"
                    )
            for item in (*req.updates, *req.deletes):
                if item.name not in active:
                    existing = ", ".join(sorted(active)) or "none"
                    raise BadRequest(
                        f"environment variable {item.name} does not exist on this tool "
                        f"(existing: {existing})"
                    )
            if req.deletes:
                in_use = self._required_by(db, tool["id"])
                blocked = {d.name: in_use[d.name] for d in req.deletes if in_use.get(d.name)}
                if blocked:
                    detail = "; ".join(
                        f"{name} is required by version(s) {', '.join(versions)}"
                        for name, versions in sorted(blocked.items())
                    )
                    raise BadRequest(
                        f"cannot delete variables in use: {detail}. "
                        "Deprecate those versions first."
                    )

            stamp = now.isoformat()
            for item in req.inserts:
                if item.name in tombstones:
                    table.remove(mine & (Query().name == item.name))
                record = {
                    "org_id": org_id,
                    "tool_id": tool["id"],
                    "name": item.name,
                    "is_secret": item.is_secret,
                    "created_at": stamp,
                    "updated_at": stamp,
                    "deleted_at": None,
                    "value": None,
                    "secret_ref": None,
                }
                self._assign(record, item.value, staged_secrets)
                table.insert(record)
            for item in req.updates:
                record = dict(active[item.name], updated_at=stamp)
                self._assign(record, item.value, staged_secrets)
                table.update(record, mine & (Query().name == item.name))
            for item in req.deletes:
                table.update(
                    {"deleted_at": stamp, "updated_at": stamp, "value": None, "secret_ref": None},
                    mine & (Query().name == item.name),
                )
            self.ctx.secrets.add(staged_secrets)  # before the metadata that refers to them
        self._prune_secrets()

    @staticmethod
    def _assign(record: dict[str, Any], value: str, staged_secrets: dict[str, str]) -> None:
        if record["is_secret"]:
            ref = SecretStore.new_ref()
            staged_secrets[ref] = value
            record["secret_ref"], record["value"] = ref, None
        else:
            record["value"], record["secret_ref"] = value, None

    def _prune_secrets(self) -> None:
        """Drop secret values no metadata refers to any more (replaced or deleted ones)."""
        with self.ctx.metadata.lock():
            with self.ctx.metadata.read() as db:
                live = [r["secret_ref"] for r in db.table(ENVVARS).all() if r.get("secret_ref")]
            self.ctx.secrets.retain(live)

    @staticmethod
    def _required_by(db: Any, tool_id: str) -> dict[str, list[str]]:
        """Variable name -> the non-deprecated versions of the tool that require it."""
        versions = db.table(VERSIONS).search(
            (Query().tool_id == tool_id) & (Query().deprecated == False)  # noqa: E712
        )
        required: dict[str, list[str]] = {}
        for version in versions:
            for name in (*version["required_envvars"], *version["required_secret_envvars"]):
                required.setdefault(name, []).append(_version_label(version))
        return required

    def list_envvars(self, org_id: str, tool_id: str) -> list[EnvVarInfo]:
        """The tool's variables by name, with the versions that require each; no values."""
        check_org(org_id)
        with self.ctx.metadata.read() as db:
            tool = self._tool_record(db, org_id, tool_id)
            required = self._required_by(db, tool["id"])
            records = db.table(ENVVARS).search(
                (Query().org_id == org_id) & (Query().tool_id == tool["id"])
            )
        return sorted(
            (
                EnvVarInfo(
                    name=r["name"],
                    is_secret=r["is_secret"],
                    updated_at=r["updated_at"],
                    required_by=tuple(required.get(r["name"], ())),
                )
                for r in records
                if r["deleted_at"] is None
            ),
            key=lambda info: info.name,
        )

    def envvar_values(self, org_id: str, tool_id: str) -> tuple[dict[str, str], dict[str, str]]:
        """(plain, secret) values for the tool's sandbox. Never for display."""
        check_org(org_id)
        with self.ctx.metadata.read() as db:
            tool = self._tool_record(db, org_id, tool_id)
            records = db.table(ENVVARS).search(
                (Query().org_id == org_id)
                & (Query().tool_id == tool["id"])
                & (Query().deleted_at == None)  # noqa: E711
            )
        plain = {r["name"]: r["value"] for r in records if not r["is_secret"]}
        refs = {r["name"]: r["secret_ref"] for r in records if r["is_secret"]}
        stored = self.ctx.secrets.get(refs.values())
        return plain, {name: stored[ref] for name, ref in refs.items() if ref in stored}
