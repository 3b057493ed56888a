"""The stores of one data directory taken together, for the checks and repairs that span them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workbench.settings import DataPaths
from workbench.store.catalog import InvocationCatalog
from workbench.store.invocations import InvocationLog, RecordCheck, RecordShown
from workbench.store.metadata import MetadataStore
from workbench.store.quarantine import Quarantine
from workbench.store.secrets import SecretStore


@dataclass
class DataDirectory:
    """Every store of one data directory. Making one reads and creates nothing."""

    home: Path
    metadata: MetadataStore
    secrets: SecretStore
    log: InvocationLog
    catalog_path: Path

    @classmethod
    def at(cls, paths: DataPaths, record_check: RecordCheck | None = None, record_shown: RecordShown | None = None) -> DataDirectory:
        """The stores under ``paths``; ``record_check`` and ``record_shown`` as for
        :class:`InvocationLog` (give the ones the service's log has, so the check and the catalog
        agree on what a record is, and a rebuilt catalog still marks the lines sent as stored)."""
        return cls(
            home=paths.home,
            metadata=MetadataStore(paths.metadata, paths.metadata_lock),
            secrets=SecretStore(paths.secrets),
            log=InvocationLog(paths.invocations, Quarantine(paths.quarantine), record_check, record_shown),
            catalog_path=paths.catalog,
        )

    @property
    def quarantine(self) -> Quarantine:
        return self.log.quarantine

    def catalog(self) -> InvocationCatalog:
        """A catalog over the log (opening it builds or repairs it: for repair, not for checks)."""
        return InvocationCatalog(self.catalog_path, self.log)

    def relative(self, path: Path) -> str:
        """``path`` as the user knows it: relative to the data directory."""
        try:
            return str(path.relative_to(self.home))
        except ValueError:
            return str(path)
