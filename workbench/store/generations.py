"""The last few committed states of a file, kept as separate copies so a damaged file can be restored.

After each commit of ``metadata.json`` (or ``secrets.json``) the same bytes are written again,
atomically, to ``generations/metadata.json.00000042``; the oldest beyond ``keep`` are removed.
Each copy is its own file, so damage done to the live file in place (emptied, cut short,
overwritten) cannot reach them.

The live file stays the only "latest" state: a copy is written only after the live file's rename
has committed, so a crash between the two leaves the newest copy one commit behind, never ahead
of, or diverging from, what the workbench serves. Callers hold the lock that serializes writers
of the live file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.errors import DataDamaged
from workbench.store import documents
from workbench.store.atomic import atomic_write_bytes, remove_stale_temps

GENERATIONS_KEPT = 10
DIRECTORY = "generations"


@dataclass(frozen=True)
class Generation:
    """One kept copy: its file, its number (higher is newer) and when it was written."""

    path: Path
    number: int
    saved_at: datetime


class Generations:
    """The kept copies of one live file, newest first."""

    def __init__(self, live: Path, keep: int = GENERATIONS_KEPT) -> None:
        self.live = live
        self.keep = keep
        self.directory = live.parent / DIRECTORY

    def all(self) -> list[Generation]:
        """Every kept copy of the live file, newest first."""
        found = []
        prefix = self.live.name + "."
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        for name in names:
            number = name[len(prefix):]
            if name.startswith(prefix) and number.isascii() and number.isdigit():
                path = self.directory / name
                try:
                    mtime = path.stat().st_mtime
                except FileNotFoundError:
                    continue  # pruned meanwhile
                found.append(Generation(path, int(number), datetime.fromtimestamp(mtime, UTC)))
        return sorted(found, key=lambda g: g.number, reverse=True)

    def load_live(self, check: documents.Check) -> Any | None:
        """The live file's document; None only for a file that never existed. A live file gone
        while kept copies exist was deleted or moved: that is damage, not a new start, or the
        next commit would quietly begin again from nothing."""
        value = documents.load(self.live, check)
        if value is None and self.all():
            raise DataDamaged(self.live, f"it is missing, yet copies of it are kept in {self.directory} (was it deleted or moved?)")
        return value

    def newest_good(self, check: documents.Check) -> tuple[Generation, Any] | None:
        """The newest kept copy that loads, with its document."""
        for generation in self.all():
            try:
                value = documents.load(generation.path, check)
            except DataDamaged:
                continue
            if value is not None:  # None: pruned meanwhile
                return generation, value
        return None

    def record(self, data: bytes) -> None:
        """Keep ``data`` (just committed to the live file) as the newest copy; drop the oldest."""
        self.directory.mkdir(mode=0o700, exist_ok=True)
        kept = self.all()
        number = kept[0].number + 1 if kept else 1
        target = self.directory / f"{self.live.name}.{number:08d}"
        remove_stale_temps(self.directory / self.live.name)  # matches every copy's leftover temp
        atomic_write_bytes(target, data, mode=0o600)
        for old in kept[self.keep - 1:]:
            old.path.unlink(missing_ok=True)
