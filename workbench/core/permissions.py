"""Who may do what: the Tools API's named permissions, the roles an API key is given, and the
permissions each operation needs.

The hosted API names a permission per endpoint (``Tool:CreateTool``, ``Tool:ModifyTool``, ...) and
answers 403 "Missing required permissions" without it. Locally an API key has a role, and the role
grants a set of permissions. Keys made before roles existed read as ``admin`` (they could do
everything then, and still can).
"""

from __future__ import annotations

from typing import Literal, cast

Permission = Literal[
    "Tool:GetTool",
    "Tool:CreateTool",
    "Tool:ModifyTool",
    "Tool:DeleteTool",
    "Tool:TestTool",
    "Tool:InvokeTool",
    "Tool:ManageSecrets",
    "Conversation:GetInteractionInsights",
    "Simulation:GetSimulationUnitTestSetRun",
    "ApiKey:ManageApiKeys",
]

Role = Literal["viewer", "developer", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "developer", "admin")
DEFAULT_ROLE: Role = "admin"
"""The role of a key made without one (``workbench apikey create`` without ``--role``): keys could
do everything before they had roles, and whoever makes a key owns the data directory anyway."""
LEGACY_ROLE: Role = "admin"
"""The role of a key stored before keys had roles."""

_READ: frozenset[Permission] = frozenset({"Tool:GetTool", "Conversation:GetInteractionInsights", "Simulation:GetSimulationUnitTestSetRun"})
_DEVELOP: frozenset[Permission] = _READ | {"Tool:CreateTool", "Tool:ModifyTool", "Tool:TestTool", "Tool:InvokeTool"}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    "viewer": _READ,
    "developer": _DEVELOP,
    "admin": _DEVELOP | {"Tool:DeleteTool", "Tool:ManageSecrets", "ApiKey:ManageApiKeys"},
}
ROLE_SUMMARIES: dict[Role, str] = {
    "viewer": "reads tools, versions, invocations and search",
    "developer": "a viewer who also creates and modifies tools and their plain variables, tests, publishes, deprecates versions and invokes",
    "admin": "a developer who also deprecates tools, manages secrets and manages API keys",
}

OPERATION_PERMISSIONS: dict[str, tuple[Permission, ...]] = {
    "get-tool-scaffold-release": ("Tool:GetTool",),
    "create-tool": ("Tool:CreateTool",),
    "get-tools": ("Tool:GetTool",),
    "modify-tool": ("Tool:ModifyTool",),
    "deprecate-tool": ("Tool:DeleteTool",),
    "modify-tool-envvars": ("Tool:ModifyTool",),
    "test-tool": ("Tool:TestTool",),
    "publish-tool-version": ("Tool:ModifyTool",),
    "get-tool-versions": ("Tool:GetTool",),
    "deprecate-tool-version": ("Tool:ModifyTool",),
    "invoke-tool-version": ("Tool:InvokeTool",),
    "get-tool-invocations": ("Conversation:GetInteractionInsights", "Simulation:GetSimulationUnitTestSetRun"),
    "search-tool-invocations": ("Conversation:GetInteractionInsights", "Simulation:GetSimulationUnitTestSetRun"),
    # the workbench's documented extras: checking a graph reads tools; a simulation invokes them
    "check-context-graph": ("Tool:GetTool",),
    "simulate-scenario": ("Tool:InvokeTool",),
    # version insight: statistics and fixtures read invocations; replay and compare read and invoke
    "get-tool-stats": ("Conversation:GetInteractionInsights", "Simulation:GetSimulationUnitTestSetRun"),
    "get-tool-stats-report": ("Conversation:GetInteractionInsights", "Simulation:GetSimulationUnitTestSetRun"),
    "get-tool-activity": ("Conversation:GetInteractionInsights", "Simulation:GetSimulationUnitTestSetRun"),
    "export-fixtures": ("Conversation:GetInteractionInsights", "Simulation:GetSimulationUnitTestSetRun"),
    "replay-invocation": ("Tool:InvokeTool", "Conversation:GetInteractionInsights", "Simulation:GetSimulationUnitTestSetRun"),
    "compare-tool-versions": ("Tool:InvokeTool", "Conversation:GetInteractionInsights", "Simulation:GetSimulationUnitTestSetRun"),
    "check-fixtures": ("Tool:TestTool",),
}
"""What each operation of the API needs (sign-in needs an API key, not a permission)."""
SECRET_PERMISSION: Permission = "Tool:ManageSecrets"
"""What a change of a secret variable needs besides ``Tool:ModifyTool``."""


def role_permissions(role: str) -> frozenset[Permission]:
    """The permissions a role grants (an unknown role grants none)."""
    return ROLE_PERMISSIONS.get(cast(Role, role), frozenset())


def envvar_change_permissions(inserted_secrets: bool, changed_names: set[str], secret_names: set[str]) -> tuple[Permission, ...]:
    """What a change of a tool's variables needs: ``Tool:ModifyTool``, and ``Tool:ManageSecrets``
    when it inserts a secret or updates or deletes one."""
    if inserted_secrets or changed_names & secret_names:
        return ("Tool:ModifyTool", SECRET_PERMISSION)
    return ("Tool:ModifyTool",)
