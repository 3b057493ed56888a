"""Tools, versions and environment variable metadata in one TinyDB file.

TinyDB's own JSONStorage rewrites the file in place on every change and has no locking, so a crash
or a second process can lose or corrupt data. Here each operation opens the database fresh:

* ``read()`` loads a snapshot without a lock (writers replace the file atomically, so a reader
  always sees one whole state);
* ``write()`` takes the cross-process lock, loads the current state, lets the caller change it in
  memory, and on success replaces the file atomically. An exception inside the block leaves the
  file untouched, which makes a multi-step change all or nothing.

A file that exists but cannot be read (empty, cut short, garbage, the wrong shape) is never taken
for an empty store: both raise :class:`DataDamaged`, so no write can replace the data it held.
Every commit is also kept as a generation (see :mod:`workbench.store.generations`) for
``workbench repair`` to restore.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage

from workbench.store import documents
from workbench.store.atomic import atomic_write_bytes, remove_stale_temps
from workbench.store.generations import GENERATIONS_KEPT, Generations
from workbench.store.locks import FileLock


class SnapshotStorage(Storage):
    """A TinyDB storage that holds one in-memory state, loaded once from a JSON file."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state
        self.dirty = False

    def read(self) -> dict[str, Any] | None:
        return self.state

    def write(self, data: dict[str, Any]) -> None:
        self.state = data
        self.dirty = True

    def close(self) -> None:
        pass


class MetadataStore:
    """The metadata database of one data directory."""

    def __init__(self, path: Path, lock_path: Path, keep_generations: int = GENERATIONS_KEPT) -> None:
        self.path = path
        self.lock_path = lock_path
        self.generations = Generations(path, keep_generations)

    def load(self) -> dict[str, Any]:
        """The stored tables; ``{}`` for a new data directory. Raises ``DataDamaged``."""
        return self.generations.load_live(documents.check_tables) or {}

    def stamp(self) -> tuple[int, int, int] | None:
        """(inode, mtime in ns, size) of the live file, None if there is none yet. Every commit
        replaces the file, so the stamp changes with each one: what a reader derived from a
        snapshot holds while the stamp is the same (taken before the snapshot is read)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    @contextmanager
    def read(self) -> Iterator[TinyDB]:
        """A consistent snapshot to query; changes made to it are discarded."""
        yield TinyDB(storage=SnapshotStorage, state=self.load())

    @contextmanager
    def write(self) -> Iterator[TinyDB]:
        """A locked read-modify-write; committed atomically only if the block succeeds."""
        with FileLock(self.lock_path):
            remove_stale_temps(self.path)
            db = TinyDB(storage=SnapshotStorage, state=self.load())
            yield db
            storage: SnapshotStorage = db.storage  # type: ignore[assignment]
            if storage.dirty:
                self.commit(storage.state)

    def commit(self, state: dict[str, Any]) -> None:
        """Replace the stored tables with ``state`` atomically and keep it as a generation.
        Only for callers holding :meth:`lock` (``write()`` and repair)."""
        data = json.dumps(state, sort_keys=True, separators=(",", ":")).encode()
        atomic_write_bytes(self.path, data)
        self.generations.record(data)  # after the rename: a copy is never ahead of the live file

    def lock(self) -> FileLock:
        """The lock that serializes every writer of this store (and of the secrets beside it)."""
        return FileLock(self.lock_path)
