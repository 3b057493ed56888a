"""Realistic invocation history, generated: for benchmarks, tests and demos of search.

Records go straight into the log (as recorded invocations do), spread over time in order, across
several tools and versions, both conversation sources with their metadata variants, mostly
successes with outputs of varied size, and failures with exception types, messages and stack
traces. The vocabulary has a few very common words ("order", "status") and rare ones, so search
benchmarks can measure both.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from workbench.core.api import ToolsApi
from workbench.core.models import ToolInvocationInstance

TOOLS = ["order_status", "crm_account", "weather_lookup", "flaky_parser", "report_generator", "text_stats"]
VERSIONS = [(1, 0, 0), (1, 0, 1), (1, 1, 0), (2, 0, 0)]
COMMON = ["order", "status", "customer", "account", "shipped", "request"]
WORDS = (
    "delivery invoice refund warehouse carrier parcel region tracking balance premium weather forecast "
    "humidity sentence paragraph summary report figures quarter revenue forecast latency retry cache "
    "session token gateway payload schema lookup parser date weekday"
).split()
RARE = ["zanzibar", "quokka", "obsidian", "marzipan", "fjord"]
FAILURES = [
    ("ValueError", "invalid literal for int() with base 10: '{word}'"),
    ("KeyError", "'{word}'"),
    ("TimeoutError", "the invocation ran longer than its 30 s timeout and was stopped"),
    ("ConnectionError", "connection refused while calling the {word} service"),
    ("UnparseableDate", "expected YYYY-MM-DD, got '{word} {word2}'"),
]


def _text(rng: random.Random, words: int) -> str:
    picked = []
    for _ in range(words):
        roll = rng.random()
        if roll < 0.25:
            picked.append(rng.choice(COMMON))
        elif roll < 0.2505:
            picked.append(rng.choice(RARE))
        else:
            picked.append(rng.choice(WORDS))
    return " ".join(picked)


def _source(rng: random.Random) -> dict[str, Any]:
    machine = ["sm_" + rng.choice(["support", "sales", "triage"]), rng.randint(1, 9)]
    metadata = rng.choice(
        [
            {"type": "state-transition", "current_state_machine_and_version": machine, "state_name": rng.choice(["greet", "lookup", "resolve"]), "state_transition_index": rng.randint(1, 9), "tool_call_round_index": rng.randint(0, 3)},
            {"type": "engage-user", "current_state_machine_and_version": machine, "tool_call_round_index": rng.randint(0, 3)},
            {"type": "tool-call-state", "current_state_machine_and_version": machine, "state_name": rng.choice(["lookup", "verify"])},
        ]
    )
    if rng.random() < 0.7:
        return {"type": "regular-conversation", "user_id": f"user_{rng.randint(1, 500)}", "conversation_id": f"{rng.getrandbits(96):024x}", "interaction_id": f"{rng.getrandbits(96):024x}", "invocation_metadata": metadata}
    return {"type": "simulation-conversation", "simulation_unit_test_set_run_id": f"{rng.randint(1, 40):024x}", "unit_test_id": f"ut_{rng.randint(1, 200)}", "run_index": rng.randint(0, 4), "invocation_metadata": metadata}


def _status(rng: random.Random, tool: str) -> dict[str, Any]:
    if rng.random() < 0.85:
        size = rng.choice([8, 20, 40, 120, 400])
        output = {"tool": tool, "summary": _text(rng, size), "items": rng.randint(0, 50)}
        return {"succeeded": True, "output": json.dumps(output)}
    kind, template = rng.choice(FAILURES)
    message = template.format(word=rng.choice(WORDS + RARE[:1]), word2=rng.choice(WORDS))
    frames = rng.randint(2, 6)
    trace = ["Traceback (most recent call last):"]
    for depth in range(frames):
        function = rng.choice(["run", "_parse", "_split", "fetch", "lookup", "handle"])
        trace += [f'  File "/opt/tool/project/tool.py", line {rng.randint(5, 200)}, in {function}', f"    {function}({rng.choice(WORDS)}, depth={depth})"]
    trace.append(f"{kind}: {message}")
    return {"succeeded": False, "exception_message": message, "exception_type": kind, "exception_stack_trace": trace}


def generate_invocations(
    service: ToolsApi,
    org_id: str,
    count: int,
    seed: int = 7,
    days: int = 30,
    end: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    tools: Sequence[str] = TOOLS,
) -> dict[str, str]:
    """Record ``count`` invocations for the org's sample tools (created if missing), or for the
    ``tools`` named; returns tool name -> id."""
    rng = random.Random(seed)
    tool_ids = {}
    for name in tools:
        existing = [t for t in service.list_tools(org_id, {"limit": 20}).tools if t.name == name and not t.deprecated]
        tool_ids[name] = existing[0].id if existing else service.create_tool(org_id, {"name": name, "description": f"The {name} tool.", "tags": {}}).id
    end = end or datetime.now(UTC)
    start = end - timedelta(days=days)
    step = (end - start) / max(count, 1)
    batch: list[ToolInvocationInstance] = []
    for index in range(count):
        created = start + step * index
        tool = rng.choice(tools)
        major, minor, patch = rng.choice(VERSIONS)
        record = {
            "id": f"{rng.getrandbits(96):024x}",  # from the seed: the same history every time
            "org_id": org_id,
            "created_at": created.isoformat().replace("+00:00", "Z"),
            "updated_at": created.isoformat().replace("+00:00", "Z"),
            "invocation_status": _status(rng, tool),
            "invocation_source": _source(rng),
            "logs": [f"INFO {_text(rng, 6)}" for _ in range(rng.randint(0, 4))],
            "duration_ms": int(rng.lognormvariate(3, 1)),
            "tool_id": tool_ids[tool],
            "tool_version": {"major": major, "minor": minor, "patch": patch},
            "inputs": {"input_parameters": {"query": _text(rng, 3)}, "invocation_mode": rng.choice(["regular", "conversation-simulation"]), "nonsensitive_user_variables": {}, "sensitive_user_variables": {}},
        }
        batch.append(ToolInvocationInstance.model_validate(record))
        if len(batch) >= 5000:
            service.import_invocations(batch)
            batch = []
            if progress:
                progress(index + 1, count)
    if batch:
        service.import_invocations(batch)
    if progress:
        progress(count, count)
    return tool_ids
