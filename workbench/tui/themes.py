"""Themes are data: TOML files checked by a model, turned into Textual themes.

Built-in themes are package data (``workbench/tui/themes/``, also reachable as the repository's
top-level ``themes/``), so an installed wheel has them; a user's own go in ``themes/`` under the
config directory. A file that does not validate is reported once and skipped.
"""

from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError
from textual.theme import Theme

DEFAULT_THEME = "workbench-dark"


class ThemeFile(BaseModel):
    """What a theme file may say; anything else is refused, so a typo is reported."""

    model_config = ConfigDict(extra="forbid")

    name: str
    dark: bool = True
    primary: str
    secondary: str | None = None
    accent: str | None = None
    warning: str | None = None
    error: str | None = None
    success: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    variables: dict[str, str] = {}

    def to_theme(self) -> Theme:
        return Theme(**self.model_dump())


def builtin_theme_dir() -> Path:
    """The themes shipped with the package (read through importlib.resources)."""
    return Path(str(files("workbench.tui") / "themes"))


def load_themes(directories: list[Path]) -> tuple[list[Theme], list[str]]:
    """Themes from every ``*.toml`` in the directories, and a problem line per bad file."""
    themes, problems = [], []
    for directory in directories:
        for path in sorted(directory.glob("*.toml")) if directory.is_dir() else []:
            try:
                theme = ThemeFile.model_validate(tomllib.loads(path.read_text())).to_theme()
                themes.append(theme)
            except (tomllib.TOMLDecodeError, ValidationError, ValueError, UnicodeDecodeError) as error:
                first = str(error).splitlines()
                problems.append(f"theme file {path.name} skipped: {' '.join(first[:3])}")
    return themes, problems
