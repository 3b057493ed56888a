"""Conversation simulation through the service, on real published sample tools (real git
repository, real sandboxed runs): persistence at its exact boundaries, the interaction log turn by
turn, the recorded sources, and scenarios that cannot run."""

from __future__ import annotations

from pathlib import Path

import pytest
from amigo_sdk.generated.model import InvocationSource as OfficialInvocationSource

from simulation_org import ORG, published_samples, request_with_turns, sample_request
from workbench.core.persistence import PERSISTENCE_THRESHOLD, decide
from workbench.core.service import ToolService
from workbench.errors import BadRequest

SPECS_BY_MODE = {
    "ephemeral": {"state": "reflect_on_account", "tool": "report_generator"},
    "persisted-preferred": {"state": "build_report", "spec": "designated_tool"},
    "persisted": {"state": "export_summary", "tool": "report_generator"},
}
SIZES = (4_999, 5_000, 5_001, 20_000, 20_001)
EXPECTED = {  # mode -> size -> (the call succeeds as the agent sees it, persistence outcome, later turns see it)
    "ephemeral": {4_999: (True, "ephemeral", False), 5_000: (True, "ephemeral", False), 5_001: (True, "ephemeral", False), 20_000: (True, "ephemeral", False), 20_001: (False, "ephemeral", False)},
    "persisted-preferred": {
        4_999: (True, "persisted", True), 5_000: (True, "treated-as-ephemeral", False), 5_001: (True, "treated-as-ephemeral", False),
        20_000: (True, "treated-as-ephemeral", False), 20_001: (False, "persisted", True),
    },
    "persisted": {
        4_999: (True, "persisted", True), 5_000: (True, "persisted", True), 5_001: (False, "persistence-error", True),
        20_000: (False, "persistence-error", True), 20_001: (False, "persisted", True),
    },
}


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> ToolService:
    return published_samples(tmp_path_factory.mktemp("samples"))


def test_the_rule_at_the_threshold() -> None:
    assert [decide("persisted-preferred", n).kept for n in (4_999, 5_000, 5_001)] == [True, False, False]
    assert [decide("persisted", n).outcome for n in (4_999, 5_000, 5_001)] == ["persisted", "persisted", "persistence-error"]
    assert {decide("ephemeral", n).outcome for n in (0, 4_999, 5_001, 20_000)} == {"ephemeral"}
    assert PERSISTENCE_THRESHOLD == 5_000


def test_outputs_at_each_boundary_in_each_mode(samples: ToolService) -> None:
    turns = [
        {**where, "parameters": {"characters": size}}
        for mode, where in SPECS_BY_MODE.items()
        for size in SIZES
    ]
    report = samples.simulate(ORG, request_with_turns(samples, turns, name="boundaries"))
    played = report.runs[0].turns
    cases = [(mode, size) for mode in SPECS_BY_MODE for size in SIZES]
    assert len(played) == len(cases)
    for turn, (mode, size) in zip(played, cases):
        succeeded, outcome, kept = EXPECTED[mode][size]
        assert (turn.persistence.mode, turn.succeeded, turn.persistence.outcome, turn.persistence.kept) == (mode, succeeded, outcome, kept), (mode, size, turn.persistence)
        if size <= 20_000:
            assert turn.tool_succeeded and turn.output_characters == size and not turn.over_output_cap
        else:
            assert not turn.tool_succeeded and turn.over_output_cap and turn.error_type == "OutputTooLarge"
            assert "20,001 characters" in (turn.error_message or "")
        if outcome == "persistence-error":
            assert turn.error_type == "ToolResultTooLarge" and f"{size:,} characters" in (turn.error_message or "") and "at most 5,000" in (turn.error_message or "")
            assert turn.interaction_log[-1].kind == "tool-error"  # the agent saw a failed call, not the output
    # each turn's log holds exactly the earlier turns that were kept, then this turn
    for index, turn in enumerate(played):
        earlier_kept = [t.index for t in played[:index] if t.persistence.kept]
        assert sorted({e.turn for e in turn.interaction_log if not e.current}) == earlier_kept
        assert [o.turn for o in turn.omitted] == [t.index for t in played[:index] if not t.persistence.kept]
    treated = played[SIZES.index(5_000) + len(SIZES)]
    assert "5,000 characters is not under 5,000" in treated.persistence.explanation


def test_the_interaction_log_turn_by_turn(samples: ToolService) -> None:
    report = samples.simulate(ORG, sample_request(samples, "order_followup"))
    assert report.passed, report.failures()
    turns = report.runs[0].turns

    def shape(index: int) -> list[tuple[int, str, bool]]:
        return [(e.turn, e.kind, e.current) for e in turns[index].interaction_log]

    one = [(1, "user", False), (1, "tool-call", False), (1, "tool-result", False)]
    two = [(2, "tool-call", False), (2, "tool-result", False)]
    three = [(3, "user", False), (3, "tool-call", False), (3, "tool-result", False)]
    assert shape(0) == [(1, "user", True), (1, "tool-call", True), (1, "tool-result", True)]
    assert shape(1) == one + [(2, "tool-call", True), (2, "tool-result", True)]
    assert shape(2) == one + two + [(3, "user", True), (3, "tool-call", True), (3, "tool-result", True)]
    assert shape(3) == one + two + three + [(4, "tool-call", True), (4, "tool-error", True)]  # the parser fails on "yesterday"
    assert shape(4) == one + two + three + [(5, "user", True), (5, "tool-call", True), (5, "tool-result", True)]  # turn 4 was ephemeral
    assert shape(5) == one + two + three + [(5, "user", False), (6, "tool-call", True), (6, "tool-result", True)]  # turn 5's call was ephemeral, its user message stays
    assert [[o.turn for o in t.omitted] for t in turns] == [[], [], [], [], [4], [4, 5]]
    assert "visible during the current interaction only" in turns[5].omitted[1].reason
    assert '"tier": "gold"' in turns[1].interaction_log[2].text and "UnparseableDate" in turns[3].interaction_log[-1].text
    kb = turns[2]
    assert kb.filler.fired and kb.filler.spoken == "Let me search for that..." and kb.duration_ms > 1000
    assert "past 1 s" in kb.filler.note
    assert not turns[0].filler.fired and turns[0].filler.spoken is None


def test_sources_carry_the_run_and_the_place_in_the_graph(samples: ToolService) -> None:
    report = samples.simulate(ORG, sample_request(samples, "order_followup", runs=2))
    machine = (report.state_machine_id, 1)
    assert report.simulation_unit_test_set_run_id and report.unit_test_id and len(report.runs) == 2
    for run in report.runs:
        sources = [t.source for t in run.turns]
        assert {s.type for s in sources} == {"simulation-conversation"}
        assert {(s.simulation_unit_test_set_run_id, s.unit_test_id, s.run_index) for s in sources} == {(report.simulation_unit_test_set_run_id, report.unit_test_id, run.run_index)}
        metadata = [s.invocation_metadata.model_dump() for s in sources]
        assert metadata == [
            {"type": "engage-user", "current_state_machine_and_version": machine, "tool_call_round_index": 0},
            {"type": "engage-user", "current_state_machine_and_version": machine, "tool_call_round_index": 0},
            {"type": "engage-user", "current_state_machine_and_version": machine, "tool_call_round_index": 1},
            {"type": "state-transition", "current_state_machine_and_version": machine, "state_name": "check_order", "state_transition_index": 2, "tool_call_round_index": 2},
            {"type": "state-transition", "current_state_machine_and_version": machine, "state_name": "route_request", "state_transition_index": 3, "tool_call_round_index": 0},
            {"type": "tool-call-state", "current_state_machine_and_version": machine, "state_name": "check_weather"},
        ]
    recorded = samples.list_invocations(ORG, {"simulation_unit_test_set_run_id": [report.simulation_unit_test_set_run_id]}).tool_invocations
    assert sorted(i.id for i in recorded) == sorted(report.invocation_ids())
    assert {i.inputs["invocation_mode"] for i in recorded} == {"conversation-simulation"}
    for invocation in recorded:  # the official SDK's generated model of the API's InvocationSource
        official = OfficialInvocationSource.model_validate(invocation.invocation_source.model_dump(mode="json"))
        assert official.root.model_dump(mode="json") == invocation.invocation_source.model_dump(mode="json")
    weather = samples.get_invocation(ORG, report.runs[1].turns[5].invocation_id or "")
    assert weather.invocation_source == report.runs[1].turns[5].source and weather.invocation_status.succeeded


def test_a_regular_scenario_records_one_conversation(samples: ToolService) -> None:
    report = samples.simulate(ORG, sample_request(samples, "regular_lookup"))
    assert report.passed and report.simulation_unit_test_set_run_id is None
    [run] = report.runs
    sources = [t.source for t in run.turns]
    assert {(s.type, s.user_id, s.conversation_id) for s in sources} == {("regular-conversation", "customer_42", run.conversation_id)}
    assert len({s.interaction_id for s in sources}) == 2  # one interaction per turn
    recorded = samples.list_invocations(ORG, {"conversation_id": [run.conversation_id]}).tool_invocations
    assert sorted(i.id for i in recorded) == sorted(report.invocation_ids())
    assert {i.inputs["invocation_mode"] for i in recorded} == {"regular"}
    for invocation in recorded:
        official = OfficialInvocationSource.model_validate(invocation.invocation_source.model_dump(mode="json"))
        assert official.root.type == "regular-conversation" and official.root.conversation_id == run.conversation_id
    samples.catch_up_index()
    found = samples.search_invocations(ORG, {"query": "delivered", "conversation_id": [run.conversation_id]}).tool_invocations
    assert [i.id for i in found] == [run.turns[1].invocation_id]


def test_failed_expectations_are_in_the_report(samples: ToolService) -> None:
    turns = [
        {"state": "check_order", "tool": "order_status", "parameters": {"order_id": "A-1001"}, "expect": {"output_fields": {"status": "delivered", "eta.days": 1}, "max_duration_ms": 1, "persistence": "ephemeral"}},
        {"state": "check_order", "tool": "kb_search", "parameters": {"query": "how do refunds work"}, "expect": {"filler": False, "output_contains": ["Refunds", "nowhere to be found"]}},
    ]
    report = samples.simulate(ORG, request_with_turns(samples, turns, name="wrong"))
    assert not report.passed
    failures = report.failures()
    assert "run 0, turn 1 · check_order · order_status 1.0.0: expected output field status = 'delivered'; got 'shipped'" in failures
    assert any("expected output field eta.days = 1; it has no such field" in f for f in failures)
    assert any("expected at most 1 ms; it took" in f for f in failures)
    assert any("expected persistence ephemeral; it was persisted" in f for f in failures)
    assert any("expected no filler; a filler was spoken ('Let me search for that...')" in f for f in failures)
    assert any("expected the output to contain 'nowhere to be found'; it does not" in f for f in failures)
    assert not any("'Refunds'" in f for f in failures)


def test_a_scenario_that_cannot_run_says_why_for_each_turn(samples: ToolService) -> None:
    turns = [
        {"state": "nowhere", "tool": "order_status"},
        {"state": "check_order", "tool": "crm_account"},
        {"state": "check_order", "spec": "action_tool_call_specs[7]"},
        {"state": "check_order", "tool": "order_status", "parameters": {"order_id": "not-an-order"}},
        {"state": "check_weather", "spec": "designated tool"},
    ]
    with pytest.raises(BadRequest) as caught:
        samples.simulate(ORG, request_with_turns(samples, turns, name="broken"))
    message = caught.value.message
    assert "turn 1: the graph has no state 'nowhere'" in message
    assert "turn 2 (state 'check_order'): the state has no tool call spec with tool 'crm_account' (its specs: action_tool_call_specs[0] (order_status)" in message
    assert "turn 3 (state 'check_order'): the state has no tool call spec with spec action_tool_call_specs[7]" in message
    assert "turn 4 (order_status 1.0.0): parameters: order_id: 'not-an-order' does not match" in message
    assert "turn 5 (state 'check_weather'): spec 'designated tool' is not designated_tool or LIST[INDEX]" in message


def test_a_deprecated_version_in_a_used_spec_stops_the_scenario(tmp_path: Path) -> None:
    service = published_samples(tmp_path)
    tool = service.find_tool(ORG, "order_status")
    service.deprecate_versions(ORG, tool.id, "==1.0.0")
    before = service.count_invocations(ORG)
    with pytest.raises(BadRequest, match=r"turn 2: state 'check_order' \(action\), action_tool_call_specs\[0\] \(order_status\): tool order_status has no active version matching '>=1.0.0,<2'"):
        service.simulate(ORG, sample_request(service, "order_followup"))
    assert service.count_invocations(ORG) == before  # checked before anything ran
    report = service.simulate(ORG, sample_request(service, "large_reports"))  # does not use it: a warning
    assert report.passed and any("order_status" in w for w in report.warnings)
