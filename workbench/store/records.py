"""The records the metadata store holds, typed: what was stored, as it was stored.

They are not the API's shapes (``core.models``): a version record keeps the build it runs on, an
environment variable keeps its value or a reference to its secret, an API key keeps a hash. The
core turns records into API models; nothing above the store handles raw dicts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workbench.names import version_label


class Record(BaseModel):
    """A stored record: validated on the way in and out; unknown keys from older or newer
    workbenches are kept, so a round trip never loses data."""

    model_config = ConfigDict(extra="allow", validate_assignment=False, defer_build=True)  # built on first use

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class UserRef(Record):
    """Who created or last changed a tool (the tool resource's ``org_id``/``user_id``)."""

    org_id: str
    user_id: str


class VersionUserRef(Record):
    """Who created or last changed a version (the version resource's ``user_id``/``user_org_id``)."""

    user_id: str
    user_org_id: str


class TagRecord(Record):
    key: str
    value: str | None


class ToolRecord(Record):
    id: str
    org_id: str
    created_at: datetime
    updated_at: datetime
    name: str
    description: str
    deprecated: bool = False
    tags: list[TagRecord] = Field(default_factory=list)
    creator: UserRef
    updated_by: UserRef


class VersionNumber(Record):
    major: int
    minor: int
    patch: int

    @property
    def label(self) -> str:
        return version_label(self.major, self.minor, self.patch)

    @property
    def key(self) -> tuple[int, int, int]:
        return self.major, self.minor, self.patch


class VersionRecord(Record):
    id: str
    org_id: str
    created_at: datetime
    updated_at: datetime
    tool_id: str
    version: VersionNumber
    required_envvars: list[str] = Field(default_factory=list)
    required_secret_envvars: list[str] = Field(default_factory=list)
    input_schema: dict[str, Any] = Field(default_factory=dict)
    tool_repo: Literal["team", "main"] = "main"
    tool_commit_hash: str
    amigo_scaffold_commit_hash: str
    project_directory: str
    lambda_version: int
    creator: VersionUserRef
    updated_by: VersionUserRef
    deprecated: bool = False

    @property
    def label(self) -> str:
        return self.version.label

    @property
    def required(self) -> list[str]:
        """Every variable this version needs, plain and secret."""
        return [*self.required_envvars, *self.required_secret_envvars]


class EnvVarRecord(Record):
    """A tool's variable. A secret's value lives in the secrets file under ``secret_ref``; a
    deleted variable stays as a tombstone (``deleted_at``) that reserves its name for a while."""

    org_id: str
    tool_id: str
    name: str
    is_secret: bool
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    value: str | None = None
    secret_ref: str | None = None

    @property
    def live(self) -> bool:
        return self.deleted_at is None


class BuildRecord(Record):
    """How a version (or a tested commit) was built, and so how to run it."""

    version_id: str | None = None
    branch: str | None = None
    runner: str
    directory: str
    project_dir: str
    dependencies: list[str] = Field(default_factory=list)
    entry_point: str
    input_model: str | None = None
    simulation_network: bool = False
    details: dict[str, Any] = Field(default_factory=dict)
    input_schema: dict[str, Any] = Field(default_factory=dict)
    required_envvars: list[str] = Field(default_factory=list)
    required_secret_envvars: list[str] = Field(default_factory=list)


class ApiKeyRecord(Record):
    """An API key: only a hash of its secret is stored. Its role names the permissions it grants
    (``core.permissions``); a key stored before keys had roles has none and reads as ``admin``."""

    id: str
    org_id: str
    user_id: str
    name: str = ""
    secret_sha256: str
    created_at: datetime
    revoked: bool = False
    role: str = "admin"
