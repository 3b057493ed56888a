"""The demo organization: the sample tools, their variables, and a published version of each.

Running it again is safe: what exists is left as it is, what is missing is added.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from workbench.core.api import ToolsApi
from workbench.errors import NotFound
from workbench.repo.samples import build_sample_repository

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
    DemoTool("order_status", "Look up the status of an order by its order number.", {"team": "support", "tier": "gold"}, {"ORDER_REGION": "eu-west"}),
    DemoTool("crm_account", "Fetch a customer's account summary from the CRM.", {"team": "sales", "pii": None}, {"CRM_BASE_URL": "https://crm.example.invalid"}, ("CRM_API_TOKEN",)),
    DemoTool("weather_lookup", "Current weather for a city; returns canned data in simulations.", {"team": "platform"}),
    DemoTool("flaky_parser", "Parses free text into a date; fails loudly on input it does not understand.", {"team": "platform", "status": "experimental"}),
    DemoTool("report_generator", "Builds a text report whose size is set by its input.", {"team": "analytics"}),
    DemoTool("text_stats", "Counts words and sentences of a text (uses third-party libraries).", {"team": "analytics"}),
    DemoTool("kb_search", "Searches the help-center knowledge base; slow on purpose, so voice agents play an audio filler.", {"team": "support"}),
)


def seed_demo(service: ToolsApi, org_id: str = DEMO_ORG, say: Callable[[str], None] = lambda _: None) -> list[str]:
    """Create the tools repository, the demo tools, their variables and a first version of each
    where missing; returns the names of the tools created."""
    settings = service.settings
    if build_sample_repository(settings.tools_repo_path(), settings.main_branch, settings.team_branch):
        say(f"created the tools repository at {settings.tools_repo_path()}")
    created = []
    for demo in DEMO_TOOLS:
        try:
            tool = service.find_tool(org_id, demo.name)
            tool_id = None if tool.deprecated else tool.id
        except NotFound:
            tool_id = None
        if tool_id is None:
            tool_id = service.create_tool(org_id, {"name": demo.name, "description": demo.description, "tags": demo.tags}).id
            created.append(demo.name)
        existing = {info.name for info in service.list_envvars(org_id, tool_id)}
        inserts = [{"name": n, "value": v, "is_secret": False} for n, v in demo.envvars.items() if n not in existing]
        inserts += [{"name": n, "value": DEMO_SECRET_PLACEHOLDER, "is_secret": True} for n in demo.secret_envvars if n not in existing]
        if inserts:
            service.modify_envvars(org_id, tool_id, {"inserts": inserts})
        if not service.list_versions(org_id, tool_id, {"deprecated": False}).tool_versions:
            say(f"publishing {demo.name} ...")
            published = service.publish_version(org_id, tool_id, {"repo": "main", "project_path": demo.name, "bump_type": "major"})
            say(f"published {demo.name} {published.new_version}")
    return created
