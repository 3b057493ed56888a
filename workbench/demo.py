"""The demo organization: the sample tools, their variables, a published version of each, and
a history made by running the sample scenarios.

Running it again is safe: what exists is left as it is, what is missing is added.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from workbench.core.api import ToolsApi
from workbench.core.models import ToolInvocationInstance
from workbench.errors import NotFound
from workbench.names import new_id
from workbench.repo.samples import SIMULATIONS, build_sample_repository

DEMO_ORG = "demo"
DEMO_SECRET_PLACEHOLDER = "demo-secret-value"  # noqa: S105 (a placeholder, not a credential)
TIMESTAMP_KEYS = ("created_at", "updated_at")


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


def record_history(service: ToolsApi, org_id: str, count: int, say: Callable[[str], None] = lambda _: None, seed: int = 7) -> int:
    """The demo's invocation history, made by running the sample scenarios for real (the tools
    repository's ``simulations/``; every invocation recorded with its conversation's source), then,
    up to ``count``, copies of those runs at earlier times over the last 30 days. Every record is
    a real run's or a copy of one, so the history matches the demo tools. Returns how many were
    recorded."""
    directory = service.settings.tools_repo_path() / SIMULATIONS
    paths = service.find_scenario_files(directory)
    if not paths:
        raise NotFound(f"no scenario files in {directory}: the demo's history comes from running them")
    set_run_id = new_id()
    runs: list[list[ToolInvocationInstance]] = []
    for path in paths:
        request = service.read_scenario_file(path).model_copy(update={"simulation_unit_test_set_run_id": set_run_id})
        report = service.simulate(org_id, request)
        say(f"ran scenario {report.scenario}: {'passed' if report.passed else 'FAILED'} ({len(report.invocation_ids())} invocations)")
        for run in report.runs:
            runs.append([service.get_invocation(org_id, turn.invocation_id) for turn in run.turns if turn.invocation_id])
    recorded = sum(len(run) for run in runs)
    if count > recorded:
        recorded += replay_conversations(service, runs, count - recorded, seed=seed)
    return recorded


def _copied_source(rng: random.Random, source: dict[str, Any], set_run_id: str, conversation_id: str) -> dict[str, Any]:
    if source.get("type") == "regular-conversation":
        return {**source, "conversation_id": conversation_id, "interaction_id": f"{rng.getrandbits(96):024x}"}
    if source.get("type") == "simulation-conversation":
        return {**source, "simulation_unit_test_set_run_id": set_run_id}
    return source


def replay_conversations(
    service: ToolsApi, runs: list[list[ToolInvocationInstance]], count: int, seed: int = 7, days: int = 30, end: datetime | None = None
) -> int:
    """Record ``count`` copies of invocations from recorded conversation ``runs`` (each a run's
    invocations in order), whole runs at a time, at random moments of the last ``days``. A copy
    keeps each invocation's tool, version, inputs, result, logs and metadata; it gets new ids, a
    new conversation (regular) or set run (simulation) id per copied run, durations within 20% of
    the original, and times in the run's order. Returns how many were recorded."""
    runs = [run for run in runs if run]
    if not runs or count <= 0:
        return 0
    rng = random.Random(seed)
    end = end or min(inv.created_at for run in runs for inv in run)  # copies go before the real runs
    span = timedelta(days=days).total_seconds()
    batch: list[ToolInvocationInstance] = []
    made = 0
    while made < count:
        run = rng.choice(runs)
        at = end - timedelta(seconds=rng.uniform(60, span))
        set_run_id, conversation_id = f"{rng.getrandbits(96):024x}", f"{rng.getrandbits(96):024x}"
        for original in run[: count - made]:
            record = original.model_dump(mode="json")
            duration = max(1, int(original.duration_ms * rng.uniform(0.8, 1.2)))
            record |= {"id": f"{rng.getrandbits(96):024x}", "duration_ms": duration, "invocation_source": _copied_source(rng, record["invocation_source"], set_run_id, conversation_id)}
            record |= {key: at.isoformat() for key in TIMESTAMP_KEYS}
            batch.append(ToolInvocationInstance.model_validate(record))
            at += timedelta(milliseconds=duration + rng.randint(1500, 9000))  # the agent and the user take turns
            made += 1
        if len(batch) >= 5000:
            service.import_invocations(batch)
            batch = []
    if batch:
        service.import_invocations(batch)
    return made
