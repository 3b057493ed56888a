"""Settings and paths: the one place that knows where the workbench keeps its files.

Precedence for every setting: an explicit argument (a CLI option such as ``--home``), then the
``WORKBENCH_*`` environment variable, then the default.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

APP_NAME = "workbench"
ENV_PREFIX = "WORKBENCH_"
DEFAULT_ORG = "default"
DEFAULT_BASE_IMAGE = "workbench-base:bookworm"  # made from Debian packages where no registry is reachable


def _default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "local"


class Settings(BaseModel):
    """Everything a user can configure, read from ``WORKBENCH_*`` environment variables (in any
    case: ``WORKBENCH_HOME`` or ``workbench_home``); a value given to the constructor wins. A
    setting given either way counts as set (``model_fields_set``), a default does not.

    A plain pydantic model that reads the environment itself, the way pydantic-settings'
    ``BaseSettings`` did: importing that package costs more than the whole of `workbench --help`
    (it loads asyncio and every cloud secret store it supports)."""

    model_config = ConfigDict(extra="ignore", validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _environment_below_arguments(cls, given: Any) -> Any:
        if not isinstance(given, dict):
            return given
        wanted = {f"{ENV_PREFIX}{name}".lower(): name for name in cls.model_fields}
        from_env = {wanted[key.lower()]: value for key, value in os.environ.items() if key.lower() in wanted}
        return {**from_env, **given}

    home: Path | None = Field(
        default=None, description="The data directory; defaults to the platform's user data dir."
    )
    org: str = Field(default=DEFAULT_ORG, description="The organization commands act on.")
    user: str = Field(default_factory=_default_user, description="Recorded as creator/updater.")
    envvar_recovery_window_seconds: int = Field(
        default=7 * 24 * 3600,
        ge=0,
        description=(
            "How long a deleted environment variable's name stays reserved. The hosted API refuses "
            "to re-insert a recently deleted name (409); this is how recent."
        ),
    )

    tools_repo: Path | None = Field(
        default=None,
        description="The git repository of tool projects; defaults to tools-repo/ in the data dir.",
    )
    team_branch: str = Field(
        default="team", description="The branch that publishing with repo=team uses."
    )
    main_branch: str = Field(
        default="main", description="The branch that publishing with repo=main uses."
    )
    invocation_timeout_seconds: float = Field(
        default=30.0, gt=0, description="An invocation running longer is stopped and fails."
    )
    check_timeout_seconds: float = Field(
        default=300.0, gt=0, description="A project's check running longer fails the publish."
    )

    runtime: Literal["auto", "docker", "process"] = Field(
        default="auto",
        description="auto: Docker where a daemon answers and the base image is present, else sandboxed processes.",
    )
    base_image: str = Field(
        default=DEFAULT_BASE_IMAGE,
        description=(
            "The image tool images are built on (it needs python3). The default is made from Debian "
            "packages by `workbench runtime prepare`; with a registry, any Python image works."
        ),
    )
    unsandboxed: bool = Field(
        default=False,
        description=(
            "Run tools without the sandbox: plain local processes (no bubblewrap) and unsealed runs. "
            "Only where no sandbox is available, and only for tools you trust."
        ),
    )
    worker_pool_size: int = Field(default=2, ge=1, le=10, description="Warm workers per version and network mode.")
    worker_idle_seconds: int = Field(default=300, ge=1, description="A warm worker unused this long stops.")
    container_memory: str = Field(
        default="512m",
        pattern=r"^\s*\d+\s*[kKmMgG]?[bB]?\s*$",
        description="Memory limit of each run (address space of each of its processes), and of each tool container.",
    )
    container_cpus: float = Field(default=1.0, gt=0, description="CPU limit of each tool container.")
    container_pids: int = Field(
        default=128, ge=8, description="Process-count limit of each run; a tool container allows four times as many."
    )

    config_home: Path | None = Field(
        default=None, description="Where the app keeps its own settings (theme) and user themes; defaults to the platform's user config dir."
    )
    search_engine: Literal["tantivy", "whoosh"] = Field(
        default="tantivy",
        description="The full-text engine of the search index: tantivy (fast), or Whoosh (pure Python). Switching rebuilds the index.",
    )

    remote: str | None = Field(default=None, description="Work against this Tools API server instead of the local data directory.")
    api_key_id: str | None = Field(default=None, description="Remote mode: the API key id (x-api-key-id).")
    api_key: str | None = Field(default=None, repr=False, description="Remote mode: the API key secret (x-api-key). Never printed.")

    def paths(self) -> DataPaths:
        import platformdirs

        home = self.home or Path(platformdirs.user_data_dir(APP_NAME))
        return DataPaths(Path(home).expanduser().resolve())

    def config_dir(self) -> Path:
        """The app's settings directory (tui.json, user themes)."""
        import platformdirs

        return Path(self.config_home or platformdirs.user_config_dir(APP_NAME)).expanduser()

    def tools_repo_path(self) -> Path:
        return Path(self.tools_repo).expanduser().resolve() if self.tools_repo else self.paths().home / "tools-repo"


@dataclass(frozen=True)
class DataPaths:
    """The layout of one data directory."""

    home: Path

    @property
    def metadata(self) -> Path:
        """TinyDB file with tools, versions and environment variable metadata."""
        return self.home / "metadata.json"

    @property
    def metadata_lock(self) -> Path:
        return self.home / "metadata.lock"

    @property
    def secrets(self) -> Path:
        """Secret values, apart from the metadata, readable by the owner only."""
        return self.home / "secrets.json"

    @property
    def invocations(self) -> Path:
        """Append-only JSON Lines segments of invocation records, one per day."""
        return self.home / "invocations"

    @property
    def quarantine(self) -> Path:
        """Damaged log lines and damaged files that repair replaced, kept aside, never deleted."""
        return self.home / "quarantine"

    @property
    def generations(self) -> Path:
        """The last good copies of metadata.json and secrets.json (0600), for `workbench repair`."""
        return self.home / "generations"

    @property
    def catalog(self) -> Path:
        """The derived SQLite catalog of the log's filter and sort fields (rebuilt when lost)."""
        return self.home / "index" / "catalog.sqlite"

    @property
    def search_index(self) -> Path:
        """The derived full-text index of invocations (rebuilt when lost)."""
        return self.home / "index" / "search"

    @property
    def signing_key(self) -> Path:
        """The secret that signs API tokens (0600)."""
        return self.home / "server.key"

    @property
    def operation_locks(self) -> Path:
        """Per-tool locks that serialize publish and deprecate."""
        return self.home / "locks"

    @property
    def builds(self) -> Path:
        """One directory per published version: the exported project and its environment."""
        return self.home / "builds"

    @property
    def test_builds(self) -> Path:
        """Builds made for testing a branch, reused while the commit stays the same."""
        return self.home / "test-builds"

    @property
    def wheelhouse(self) -> Path:
        """Downloaded dependency wheels, so a rebuild with unchanged dependencies is offline."""
        return self.home / "wheelhouse"

    def ensure(self) -> DataPaths:
        for directory in (self.home, self.invocations, self.operation_locks):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self

    def describe(self) -> dict[str, str]:
        return {
            "home": str(self.home),
            "metadata": str(self.metadata),
            "secrets": str(self.secrets),
            "invocations": str(self.invocations),
            "catalog": str(self.catalog),
            "search index": str(self.search_index),
            "kept copies": str(self.generations),
            "quarantine": str(self.quarantine),
        }
