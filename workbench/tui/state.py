"""What the app remembers between runs, in ``tui.json`` under the config directory: the theme, and
the organization last used with each data directory."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

STATE_FILE = "tui.json"


class RememberedState:
    """The app's small remembered settings. A missing or damaged file reads as empty; a write
    replaces the file whole, so it is never half-written."""

    def __init__(self, config: Path) -> None:
        self.config = config

    @property
    def path(self) -> Path:
        return self.config / STATE_FILE

    def read(self) -> dict[str, Any]:
        try:
            state = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def write(self, **changes: Any) -> None:
        state = self.read() | changes
        self.config.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".tui.json.", dir=self.config)
        with os.fdopen(fd, "w") as handle:
            json.dump(state, handle, indent=2)
        os.replace(temp, self.path)

    # -- the theme ----------------------------------------------------------------------------

    def theme(self) -> str | None:
        theme = self.read().get("theme")
        return theme if isinstance(theme, str) else None

    def remember_theme(self, name: str) -> None:
        self.write(theme=name)

    # -- the organization, per data directory -------------------------------------------------

    def organization(self, place: str) -> str | None:
        """The organization last used with ``place`` (a data directory), if any."""
        organizations = self.read().get("organizations")
        org = organizations.get(place) if isinstance(organizations, dict) else None
        return org if isinstance(org, str) else None

    def remember_organization(self, place: str, org: str) -> None:
        organizations = self.read().get("organizations")
        known = organizations if isinstance(organizations, dict) else {}
        self.write(organizations={**known, place: org})


def starting_organization(remembered: str | None, configured: str, with_tools: list[str]) -> str:
    """The organization to open when none was asked for: the one used last time if it still has
    tools, else the only one that has tools, else the configured default if it has tools, else
    the one used last time (or the default)."""
    if remembered and remembered in with_tools:
        return remembered
    if len(with_tools) == 1:
        return with_tools[0]
    if configured in with_tools:
        return configured
    return remembered or configured
