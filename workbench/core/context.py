"""The parts of one data directory, made once and handed explicitly to the areas that use them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from workbench.core.events import DataWatcher, EventBus, IndexProgress
from workbench.core.locks import OperationLocks
from workbench.core.models import utcnow
from workbench.core.runtimes import Runtimes
from workbench.names import IdFactory, new_id
from workbench.search.index import SearchIndex
from workbench.search.indexer import Indexer
from workbench.settings import DataPaths, Settings
from workbench.store import InvocationLog, MetadataStore, SecretStore
from workbench.store.catalog import InvocationCatalog
from workbench.store.invocation_queries import InvocationQueries
from workbench.store.tables import Metadata


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
        self.invocations = InvocationLog(self.paths.invocations)
        self.catalog = InvocationCatalog(self.paths.catalog, self.invocations)
        self.queries = InvocationQueries(self.catalog)
        self.search_index = SearchIndex(self.paths.search_index, self.catalog)
        self.events = EventBus()
        self.indexer = Indexer(
            self.paths.search_index, self.paths.catalog, self.paths.invocations, on_progress=lambda done, total: self.events.emit(IndexProgress(done, total))
        )
        self.runtimes = Runtimes(self.settings, self.paths)
        self.locks = OperationLocks(self.paths.operation_locks)
        self.watcher = DataWatcher(self.paths.invocations, self.paths.metadata, self.events)
        self.recovery_window = timedelta(seconds=self.settings.envvar_recovery_window_seconds)
