"""What every service operation shares: the data directory's stores, the settings and a clock."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from workbench.errors import (
    BadRequest,
    Conflict,
    NotFound,
    ValidationFailed,
    validation_error_from_pydantic,
)
from workbench.core.models import utcnow
from workbench.runtime.base import Runner
from workbench.runtime.process import ProcessRunner
from workbench.runtime.selection import RuntimeReport, choose_runner
from workbench.search.index import SearchIndex
from workbench.search.indexer import Indexer
from workbench.settings import DataPaths, Settings
from workbench.store.catalog import InvocationCatalog
from workbench.store import FileLock, InvocationLog, LockBusy, MetadataStore, SecretStore

M = TypeVar("M", bound=BaseModel)

ORG_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
OBJECT_ID = re.compile(r"^[a-f0-9]{24}$")


@dataclass
class ServiceContext:
    """The stores of one data directory, opened lazily by each operation."""

    settings: Settings
    clock: Callable[[], datetime] = field(default=utcnow)

    def __post_init__(self) -> None:
        self.paths: DataPaths = self.settings.paths().ensure()
        self.metadata = MetadataStore(self.paths.metadata, self.paths.metadata_lock)
        self.secrets = SecretStore(self.paths.secrets)
        self.invocations = InvocationLog(self.paths.invocations)
        index_dir = self.paths.home / "index"
        self.catalog = InvocationCatalog(index_dir / "catalog.sqlite", self.invocations)
        self.search_index = SearchIndex(index_dir / "search", self.catalog)
        self.indexer = Indexer(index_dir / "search", index_dir / "catalog.sqlite", self.paths.invocations)
        self._runner: Runner | None = None
        self.runtime_report: RuntimeReport | None = None

    @property
    def runner(self) -> Runner:
        """The runtime that builds new tools: Docker where it can, processes elsewhere."""
        if self._runner is None:
            self._runner, self.runtime_report = choose_runner(self.settings, self.paths)
        return self._runner

    def runner_for(self, name: str) -> Runner:
        """The runtime a build was made with; a build always runs where it was built."""
        if name == self.runner.name:
            return self.runner
        if name == "process":
            return ProcessRunner(self.settings, self.paths)
        from workbench.runtime.docker_runner import DockerRunner

        try:
            return DockerRunner(self.settings, self.paths)
        except Exception as error:
            raise BadRequest(
                f"this version was built for Docker, and no Docker daemon answers ({str(error).splitlines()[0][:160]}); "
                "start one (see `workbench doctor`)"
            ) from None

    def operation_lock(self, tool_id: str) -> _OperationLock:
        """Serializes publish and deprecate of one tool; a second one gets 409 at once."""
        return _OperationLock(FileLock(self.paths.operation_locks / f"{tool_id}.lock", blocking=False))


class _OperationLock:
    def __init__(self, lock: FileLock) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        try:
            self._lock.acquire()
        except LockBusy:
            tool_id = self._lock.path.stem
            raise Conflict(
                f"a related operation (publish or deprecate) on tool {tool_id} is in progress; "
                "retry when it has finished"
            ) from None

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def parse(model: type[M], data: M | dict[str, Any] | None, what: str) -> M:
    """Validate a request body or query; a bad one is a 422 that names each bad field."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data or {})
    except ValidationError as error:
        raise validation_error_from_pydantic(error, what) from None


def check_org(org_id: str) -> str:
    if not ORG_PATTERN.match(org_id or ""):
        raise ValidationFailed(
            f"invalid organization {org_id!r}: use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return org_id


def check_object_id(value: str, what: str) -> str:
    if not OBJECT_ID.match(value or ""):
        raise ValidationFailed(f"invalid {what} {value!r}: it must be 24 lowercase hex characters")
    return value


def require(record: dict[str, Any] | None, message: str) -> dict[str, Any]:
    if record is None:
        raise NotFound(message)
    return record
