"""The demo organization: a handful of tools with tags and environment variables.

Running it again is safe: what exists is left as it is, what is missing is added.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.core.errors import NotFound
from workbench.core.service import ToolService

DEMO_ORG = "demo"
DEMO_SECRET_PLACEHOLDER = "demo-secret-value"  # noqa: S105 (a placeholder, not a credential)


@dataclass(frozen=True)
class DemoTool:
    name: str
    description: str
    tags: dict[str, str | None]
    envvars: dict[str, str] = field(default_factory=dict)
    secret_envvars: tuple[str, ...] = ()


DEMO_TOOLS = (
    DemoTool(
        "order_status",
        "Look up the status of an order by its order number.",
        {"team": "support", "tier": "gold"},
        {"ORDER_REGION": "eu-west"},
    ),
    DemoTool(
        "crm_account",
        "Fetch a customer's account summary from the CRM.",
        {"team": "sales", "pii": None},
        {"CRM_BASE_URL": "https://crm.example.invalid"},
        ("CRM_API_TOKEN",),
    ),
    DemoTool(
        "weather_lookup",
        "Current weather for a city; returns canned data in simulations.",
        {"team": "platform"},
    ),
    DemoTool(
        "flaky_parser",
        "Parses free text into a date; fails loudly on input it does not understand.",
        {"team": "platform", "status": "experimental"},
    ),
    DemoTool(
        "report_generator",
        "Builds a text report whose size is set by its input.",
        {"team": "analytics"},
    ),
    DemoTool(
        "text_stats",
        "Counts words and readability of a text (uses a third-party library).",
        {"team": "analytics"},
    ),
)


def seed_demo(service: ToolService, org_id: str = DEMO_ORG) -> list[str]:
    """Create the demo tools and their variables where missing; returns what was created."""
    created = []
    for demo in DEMO_TOOLS:
        try:
            tool = service.find_tool(org_id, demo.name)
            tool_id = tool.id if not tool.deprecated else None
        except NotFound:
            tool_id = None
        if tool_id is None:
            tool_id = service.create_tool(
                org_id, {"name": demo.name, "description": demo.description, "tags": demo.tags}
            ).id
            created.append(demo.name)
        existing = {info.name for info in service.list_envvars(org_id, tool_id)}
        inserts = [
            {"name": name, "value": value, "is_secret": False}
            for name, value in demo.envvars.items()
            if name not in existing
        ] + [
            {"name": name, "value": DEMO_SECRET_PLACEHOLDER, "is_secret": True}
            for name in demo.secret_envvars
            if name not in existing
        ]
        if inserts:
            service.modify_envvars(org_id, tool_id, {"inserts": inserts})
    return created
