"""Secret values, kept apart from the metadata in a file only its owner can read (0600).

Metadata never holds a secret value; it holds a *reference* (a random id) to one here. A change
first adds new values under new references, then commits the metadata that points at them, then
drops values nothing points at. A crash at any step leaves every reference valid; at worst an
unreferenced value lingers until the next change prunes it.

Callers hold the metadata store's lock while they change this file.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

from workbench.store.atomic import atomic_write_bytes, remove_stale_temps


class SecretStore:
    """Reference -> value, persisted with mode 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @staticmethod
    def new_ref() -> str:
        return "sec_" + secrets.token_hex(12)

    def _load(self) -> dict[str, str]:
        try:
            return json.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}

    def _save(self, values: Mapping[str, str]) -> None:
        remove_stale_temps(self.path)  # a killed writer's leftover may hold secret values
        atomic_write_bytes(self.path, json.dumps(values, sort_keys=True).encode(), mode=0o600)

    def add(self, values: Mapping[str, str]) -> None:
        """Store new values under their (fresh) references."""
        if values:
            current = self._load()
            current.update(values)
            self._save(current)

    def retain(self, live_refs: Iterable[str]) -> None:
        """Drop every value whose reference is not in ``live_refs``."""
        current = self._load()
        live = set(live_refs)
        kept = {ref: value for ref, value in current.items() if ref in live}
        if len(kept) != len(current):
            self._save(kept)

    def get(self, refs: Iterable[str]) -> dict[str, str]:
        """The values of ``refs`` (only for code that hands them to a sandbox)."""
        current = self._load()
        return {ref: current[ref] for ref in refs if ref in current}
