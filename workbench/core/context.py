"""The parts of one data directory, made once and handed explicitly to the areas that use them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from workbench.core.events import DataWatcher, EventBus, IndexProgress
from workbench.core.locks import OperationLocks
from workbench.core.models import ToolInvocationInstance, utcnow
from workbench.core.runtimes import Runtimes
from workbench.names import IdFactory, new_id
from workbench.search.index import SearchIndex
from workbench.search.indexer import Indexer
from workbench.settings import DataPaths, Settings
from workbench.store import InvocationLog, MetadataStore, SecretStore
from workbench.store.catalog import InvocationCatalog
from workbench.store.directory import DataDirectory
from workbench.store.quarantine import Quarantine
from workbench.store.invocation_queries import InvocationQueries
from workbench.store.tables import Metadata


def invocation_problem(record: dict[str, Any]) -> str | None:
    """Why a stored line is not an invocation this workbench can show, or None. Given to the log,
    so its readers, the catalog and the health check agree on what a record is."""
    try:
        ToolInvocationInstance.model_validate(record)
    except ValidationError as error:
        first = error.errors()[0]
        return f"it is not a valid invocation ({'.'.join(map(str, first['loc']))}: {first['msg']})"
    return None


def invocation_shown_as_stored(record: dict[str, Any]) -> bool:
    """Whether a valid stored invocation is exactly its model's JSON, so the API can send its
    line as it is: not a record of an older workbench (its ``workbench`` source is converted on
    read, a field it lacks gets its default). Asked once per record, when it is cataloged."""
    try:
        return bool(ToolInvocationInstance.model_validate(record).model_dump(mode="json") == record)
    except ValidationError:
        return False


@dataclass
class Workspace:
    """Settings, clock, id factory and the stores of one data directory. The service builds one
    and passes each area only the parts it uses; nothing outside the core sees it."""

    settings: Settings
    clock: Callable[[], datetime] = field(default=utcnow)
    ids: IdFactory = field(default=new_id)

    def __post_init__(self) -> None:
        self.paths: DataPaths = self.settings.paths().ensure()
        self.metadata = Metadata(MetadataStore(self.paths.metadata, self.paths.metadata_lock))
        self.secrets = SecretStore(self.paths.secrets)
        self.invocations = InvocationLog(self.paths.invocations, Quarantine(self.paths.quarantine), invocation_problem, invocation_shown_as_stored)
        self.catalog = InvocationCatalog(self.paths.catalog, self.invocations)
        self.queries = InvocationQueries(self.catalog)
        engine = self.settings.search_engine
        self.search_index = SearchIndex(self.paths.search_index, self.catalog, engine)
        self.events = EventBus()
        self.indexer = Indexer(
            self.paths.search_index, self.paths.catalog, self.invocations, engine, on_progress=lambda done, total: self.events.emit(IndexProgress(done, total))
        )
        self.runtimes = Runtimes(self.settings, self.paths)
        self.locks = OperationLocks(self.paths.operation_locks)
        self.watcher = DataWatcher(self.paths.invocations, self.paths.metadata, self.events)
        self.recovery_window = timedelta(seconds=self.settings.envvar_recovery_window_seconds)

    def data_directory(self) -> DataDirectory:
        """The stores taken together, for the health check and repair."""
        return DataDirectory.at(self.paths, invocation_problem, invocation_shown_as_stored)
