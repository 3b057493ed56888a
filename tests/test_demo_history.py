"""The demo organization's history comes from running the sample scenarios: every record matches
a published demo tool (its version, its input schema, its mode and source agree)."""

from __future__ import annotations

import json
from collections import Counter

from jsonschema import Draft202012Validator

from workbench.core.service import ToolService


def test_the_demo_history_matches_the_demo_tools(run_cli, settings) -> None:
    code, _, err = run_cli("demo", "--history", "120")
    assert code == 0, err
    assert "ran scenario order_followup: passed" in err and "ran scenario large_reports: passed" in err
    service = ToolService(settings)
    org = "demo"
    tools = {t.id: t for t in service.list_all_tools(org)}
    versions = {tool_id: {str(v.version): v for v in service.list_versions(org, tool_id).tool_versions} for tool_id in tools}
    records, token = [], 0
    while token is not None:
        page = service.list_invocations(org, {"limit": 100, "continuation_token": token})
        records += page.tool_invocations
        token = page.continuation_token
    assert len(records) == 120
    for record in records:
        version = versions[record.tool_id].get(str(record.tool_version))
        assert version is not None, (tools[record.tool_id].name, record.tool_version)  # no version that does not exist
        assert not list(Draft202012Validator(version.input_schema).iter_errors(record.inputs["input_parameters"]))
        mode, source = record.inputs["invocation_mode"], record.invocation_source.type
        assert (mode, source) in {("conversation-simulation", "simulation-conversation"), ("regular", "regular-conversation")}
        if not record.invocation_status.succeeded:
            assert record.invocation_status.exception_type in {"UnparseableDate", "OutputTooLarge"}, record.invocation_status
    names = Counter(tools[r.tool_id].name for r in records)
    assert set(names) == {"crm_account", "order_status", "kb_search", "flaky_parser", "text_stats", "weather_lookup", "report_generator"}
    slow = [r for r in records if tools[r.tool_id].name == "kb_search"]
    assert all(r.duration_ms > 1000 for r in slow)  # copies keep the real run's time, within 20%
    conversations = Counter(r.invocation_source.conversation_id for r in records if r.invocation_source.type == "regular-conversation")
    assert conversations and all(count <= 2 for count in conversations.values())  # a copied run is its own conversation
    code, out, _ = run_cli("demo", "--history", "120", "--json")  # again: nothing more
    assert code == 0 and service.count_invocations(org) == 120 and json.loads(out)
