"""Secret values, kept apart from the metadata in a file only its owner can read (0600).

Metadata never holds a secret value; it holds a *reference* (a random id) to one here. A change
first adds new values under new references, then commits the metadata that points at them, then
drops values nothing points at. A crash at any step leaves every reference valid; at worst an
unreferenced value lingers until the next change prunes it.

Callers hold the metadata store's lock while they change this file. A damaged file raises
:class:`DataDamaged` before anything is changed (``add`` reads it even with nothing to add, so a
change of plain variables is refused too rather than half done). Every commit is kept as a
generation, mode 0600 like the file.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

from workbench.errors import DataDamaged
from workbench.store import documents
from workbench.store.atomic import atomic_write_bytes, remove_stale_temps
from workbench.store.generations import GENERATIONS_KEPT, Generations


class SecretStore:
    """Reference -> value, persisted with mode 0600."""

    def __init__(self, path: Path, keep_generations: int = GENERATIONS_KEPT) -> None:
        self.path = path
        self.generations = Generations(path, keep_generations)

    @staticmethod
    def new_ref() -> str:
        return "sec_" + secrets.token_hex(12)

    def load(self) -> dict[str, str]:
        """Every stored value by reference; ``{}`` if there is no file yet. Raises ``DataDamaged``."""
        return self.generations.load_live(documents.check_string_map) or {}

    def commit(self, values: Mapping[str, str]) -> None:
        """Replace the stored values atomically (mode 0600) and keep them as a generation.
        Only for callers holding the metadata store's lock."""
        remove_stale_temps(self.path)  # a killed writer's leftover may hold secret values
        data = json.dumps(values, sort_keys=True).encode()
        atomic_write_bytes(self.path, data, mode=0o600)
        self.generations.record(data)

    def add(self, values: Mapping[str, str]) -> None:
        """Store new values under their (fresh) references. Reads the file even when ``values``
        is empty: a caller about to commit other changes learns first that this part would fail."""
        current = self.load()
        if values:
            current.update(values)
            self.commit(current)

    def retain(self, live_refs: Iterable[str]) -> None:
        """Drop every value whose reference is not in ``live_refs``."""
        current = self.load()
        live = set(live_refs)
        kept = {ref: value for ref, value in current.items() if ref in live}
        if len(kept) != len(current):
            self.commit(kept)
            self._forget_in_generations(live)

    def kept_values(self, refs: Iterable[str]) -> dict[str, str]:
        """The values of ``refs`` found in the kept copies (the newest copy holding one wins),
        for a repair after the file was restored from an older state."""
        wanted, found = set(refs), {}
        for generation in self.generations.all():
            try:
                values = documents.load(generation.path, documents.check_string_map) or {}
            except DataDamaged:
                continue
            found.update({ref: values[ref] for ref in wanted - set(found) if ref in values})
        return found

    def _forget_in_generations(self, live: set[str]) -> None:
        """A deleted or replaced value must not linger in the kept copies either: each keeps only
        live references (the newest is the file just committed, so restoring loses nothing)."""
        for generation in self.generations.all()[1:]:
            try:
                values = documents.parse(generation.path.read_bytes())
            except (ValueError, FileNotFoundError):
                values = None
            if not isinstance(values, dict) or documents.check_string_map(values):
                generation.path.unlink(missing_ok=True)  # unreadable: it cannot be cleaned, so it goes
                continue
            if set(values) - live:
                kept = {ref: value for ref, value in values.items() if ref in live}
                atomic_write_bytes(generation.path, json.dumps(kept, sort_keys=True).encode(), mode=0o600)

    def get(self, refs: Iterable[str]) -> dict[str, str]:
        """The values of ``refs`` (only for code that hands them to a sandbox). Without refs the
        file is not read, so a tool without secrets still runs while the file awaits repair."""
        wanted = list(refs)
        if not wanted:
            return {}
        current = self.load()
        return {ref: current[ref] for ref in wanted if ref in current}
