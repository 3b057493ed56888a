"""The parts of one data directory, made once and handed explicitly to the areas that use them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from workbench.core.events import DataWatcher, EventBus, IndexProgress
from workbench.core.models import utcnow
from workbench.names import IdFactory, new_id
from workbench.settings import DataPaths, Settings

if TYPE_CHECKING:  # each part is imported where it is made, on first use
    from workbench.core.locks import OperationLocks
    from workbench.core.runtimes import Runtimes
    from workbench.search.index import SearchIndex
    from workbench.search.indexer import Indexer
    from workbench.store import InvocationLog, SecretStore
    from workbench.store.catalog import InvocationCatalog
    from workbench.store.directory import DataDirectory
    from workbench.store.invocation_queries import InvocationQueries
    from workbench.store.tables import Metadata


T = TypeVar("T")


class made_on_first_use(Generic[T]):  # noqa: N801 - used as a decorator, like functools.cached_property
    """A part made when first asked for, then kept; made once even when threads ask at the same
    time (the app's workers and its UI thread do), which ``functools.cached_property`` no longer
    promises. The owner provides ``_making``, a re-entrant lock (parts are made of parts)."""

    def __init__(self, make: Callable[[Any], T]) -> None:
        self.make = make
        self.name = make.__name__
        self.__doc__ = make.__doc__

    @overload
    def __get__(self, owner: None, kind: type[Any]) -> made_on_first_use[T]: ...

    @overload
    def __get__(self, owner: object, kind: type[Any]) -> T: ...

    def __get__(self, owner: object | None, kind: type[Any]) -> made_on_first_use[T] | T:
        if owner is None:
            return self
        made = owner.__dict__
        if self.name not in made:
            with owner._making:  # type: ignore[attr-defined]
                if self.name not in made:
                    made[self.name] = self.make(owner)
        value: T = made[self.name]
        return value


def invocation_problem(record: dict[str, Any]) -> str | None:
    """Why a stored line is not an invocation this workbench can show, or None. Given to the log,
    so its readers, the catalog and the health check agree on what a record is."""
    from pydantic import ValidationError

    from workbench.core.models import ToolInvocationInstance

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
    from pydantic import ValidationError

    from workbench.core.models import ToolInvocationInstance

    try:
        return bool(ToolInvocationInstance.model_validate(record).model_dump(mode="json") == record)
    except ValidationError:
        return False


@dataclass
class Workspace:
    """Settings, clock, id factory and the stores of one data directory. The service builds one
    and passes each area only the parts it uses; nothing outside the core sees it.

    Each part is made (and its module imported) when first used: a command that lists tools
    opens no invocation catalog, and one that invokes loads no search engine."""

    settings: Settings
    clock: Callable[[], datetime] = field(default=utcnow)
    ids: IdFactory = field(default=new_id)

    def __post_init__(self) -> None:
        self._making = threading.RLock()
        self.paths: DataPaths = self.settings.paths().ensure()
        self.events = EventBus()
        self.recovery_window = timedelta(seconds=self.settings.envvar_recovery_window_seconds)

    @made_on_first_use
    def metadata(self) -> Metadata:
        from workbench.store import MetadataStore
        from workbench.store.tables import Metadata

        return Metadata(MetadataStore(self.paths.metadata, self.paths.metadata_lock))

    @made_on_first_use
    def secrets(self) -> SecretStore:
        from workbench.store import SecretStore

        return SecretStore(self.paths.secrets)

    @made_on_first_use
    def invocations(self) -> InvocationLog:
        from workbench.store import InvocationLog
        from workbench.store.quarantine import Quarantine

        return InvocationLog(self.paths.invocations, Quarantine(self.paths.quarantine), invocation_problem, invocation_shown_as_stored)

    @made_on_first_use
    def catalog(self) -> InvocationCatalog:
        from workbench.store.catalog import InvocationCatalog

        return InvocationCatalog(self.paths.catalog, self.invocations)

    @made_on_first_use
    def queries(self) -> InvocationQueries:
        from workbench.store.invocation_queries import InvocationQueries

        return InvocationQueries(self.catalog)

    @made_on_first_use
    def search_index(self) -> SearchIndex:
        from workbench.search.index import SearchIndex

        return SearchIndex(self.paths.search_index, self.catalog, self.settings.search_engine)

    @made_on_first_use
    def indexer(self) -> Indexer:
        from workbench.search.indexer import Indexer

        return Indexer(
            self.paths.search_index,
            self.paths.catalog,
            self.invocations,
            self.settings.search_engine,
            on_progress=lambda done, total: self.events.emit(IndexProgress(done, total)),
        )

    @made_on_first_use
    def runtimes(self) -> Runtimes:
        from workbench.core.runtimes import Runtimes

        return Runtimes(self.settings, self.paths)

    @made_on_first_use
    def locks(self) -> OperationLocks:
        from workbench.core.locks import OperationLocks

        return OperationLocks(self.paths.operation_locks)

    @made_on_first_use
    def watcher(self) -> DataWatcher:
        return DataWatcher(self.paths.invocations, self.paths.metadata, self.events)

    def data_directory(self) -> DataDirectory:
        """The stores taken together, for the health check and repair."""
        from workbench.store.directory import DataDirectory

        return DataDirectory.at(self.paths, invocation_problem, invocation_shown_as_stored)
