"""Finding a tool in a metadata view, and turning stored records into the API's shapes.

Every area (tools, variables, versions, publishing, invoking) looks tools up the same way and
says the same 404; this is that one place.
"""

from __future__ import annotations

from workbench.core.models import ToolInstance, ToolVersionInstance
from workbench.core.validation import check_object_id
from workbench.errors import NotFound
from workbench.store.records import EnvVarRecord, ToolRecord, UserRef, VersionRecord, VersionUserRef
from workbench.store.tables import MetadataView

TOOL_FIELDS = set(ToolInstance.model_fields) - {"envvars", "secret_envvars"}
VERSION_FIELDS = set(ToolVersionInstance.model_fields)


def require_tool(view: MetadataView, org_id: str, tool_id: str) -> ToolRecord:
    """The org's tool with this id, or a 404 that says so."""
    check_object_id(tool_id, "tool id")
    record = view.tools.get(org_id, tool_id)
    if record is None:
        raise NotFound(f"tool {tool_id} does not exist in organization {org_id}")
    return record


def tool_instance(record: ToolRecord, variables: list[EnvVarRecord]) -> ToolInstance:
    """The API's tool: the record and the names (never values) of its live variables."""
    live = [v for v in variables if v.live]
    return ToolInstance.model_validate(
        {
            **record.model_dump(mode="json", include=TOOL_FIELDS),
            "envvars": sorted(v.name for v in live if not v.is_secret),
            "secret_envvars": sorted(v.name for v in live if v.is_secret),
        }
    )


def version_instance(record: VersionRecord) -> ToolVersionInstance:
    return ToolVersionInstance.model_validate(record.model_dump(mode="json", include=VERSION_FIELDS))


def tool_user(org_id: str, user_id: str) -> UserRef:
    return UserRef(org_id=org_id, user_id=user_id)


def version_user(org_id: str, user_id: str) -> VersionUserRef:
    return VersionUserRef(user_id=user_id, user_org_id=org_id)
