"""Replay and compare with a real tool published twice from a real git repository and run in
the sandbox: each run recorded, judged against the original or the other version."""

from __future__ import annotations

import pytest

from workbench.core.models import RegularConversationInvocationSource, SimulationConversationInvocationSource
from workbench.core.service import ToolService
from workbench.errors import BadRequest, NotFound, ValidationFailed

ORG = "acme"
SCHEMA_V1 = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
SCHEMA_V2 = {"type": "object", "properties": {"n": {"type": "integer", "maximum": 100}}, "required": ["n"]}
V1 = """
def run(params, ctx):
    n = params["n"]
    if n == 13:
        raise ValueError("unlucky thirteen")
    out = {"n": n, "double": n * 2, "mode": ctx.invocation_mode}
    if params.get("show_token"):
        out["token_length"] = len(ctx.sensitive_user_variables.get("token", ""))
    return out
"""
V2 = """
def run(params, ctx):
    n = params["n"]
    if n == 7:
        raise KeyError("seven")
    out = {"n": n, "double": n * 2 if n < 5 else n * 2 + 1, "mode": ctx.invocation_mode}
    if params.get("show_token"):
        out["token_length"] = len(ctx.sensitive_user_variables.get("token", ""))
    return out
"""
TOKEN = "tok-1234567890"


def inputs(*numbers: int, **extra: object) -> dict:
    return {"inputs": [{"input_parameters": {"n": n, **extra}, "invocation_mode": "regular"} for n in numbers]}


def publish_numbers(service: ToolService, tools_repo, make_tool, history: tuple[int, ...] = (1, 2, 6, 7, 13), second_on: str | None = "main") -> str:
    """The ``numbers`` tool: 1.0.0 (V1) with a history of ``history`` on it, then 2.0.0 (V2)
    from ``second_on`` (None: no second version). The repository's main branch keeps V1 when
    the second version comes from another branch."""
    tool_id = make_tool("numbers")
    tools_repo.project("numbers", code=V1, schema=SCHEMA_V1)
    service.publish_version(ORG, tool_id, {"repo": "main", "project_path": "numbers", "bump_type": "major"})
    if history:
        service.invoke_version(ORG, tool_id, "1.0.0", inputs(*history))
    if second_on is not None:
        tools_repo.project("numbers", branch=second_on, code=V2, schema=SCHEMA_V2)
        service.publish_version(ORG, tool_id, {"repo": "main", "project_path": "numbers", "bump_type": "major"}, branch=None if second_on == "main" else second_on)
    return tool_id


@pytest.fixture
def two_versions(service: ToolService, tools_repo, make_tool) -> str:
    """A tool with 1.0.0 (V1) and 2.0.0 (V2), and a history on 1.0.0."""
    return publish_numbers(service, tools_repo, make_tool)


def recorded(service: ToolService, tool_id: str) -> list:
    return service.list_invocations(ORG, {"tool_id": [tool_id], "version": ["*"]}).tool_invocations


def test_replay_runs_the_recorded_input_again_beside_the_original_and_records_it(service: ToolService, two_versions: str) -> None:
    tool_id = two_versions
    service.invoke_version(ORG, tool_id, "1.0.0", {"inputs": [{"input_parameters": {"n": 3, "show_token": True}, "invocation_mode": "regular", "sensitive_user_variables": {"token": TOKEN}}]})
    with_token = recorded(service, tool_id)[0]
    assert with_token.inputs["sensitive_user_variables"] == {"token": "********"}
    before = len(recorded(service, tool_id))

    masked = service.replay_invocation(ORG, with_token.id)
    # the recorded value was masked: the replay ran with the mask, and says so instead of pretending
    assert masked.verdict == "changed" and [(c.path, c.before, c.after) for c in masked.changes] == [("$.token_length", len(TOKEN), 8)]
    assert any("token were masked when recorded" in note for note in masked.notes)
    given = service.replay_invocation(ORG, with_token.id, {"sensitive_user_variables": {"token": TOKEN}})
    assert given.verdict == "same" and given.changes == [] and any("values you gave for token" in note for note in given.notes)
    assert TOKEN not in given.model_dump_json()

    after = recorded(service, tool_id)
    assert len(after) == before + 2
    replayed = next(i for i in after if i.id == given.replay.invocation_id)
    source = replayed.invocation_source
    assert isinstance(source, RegularConversationInvocationSource) and source.invocation_metadata.state_name == "workbench:replay"
    assert source.interaction_id == with_token.id and source.conversation_id
    assert replayed.inputs["sensitive_user_variables"] == {"token": "********"}
    assert given.original.invocation_id == with_token.id and given.replay.version == "1.0.0" and given.duration_ratio is not None


def test_replay_on_another_version_shows_what_changed(service: ToolService, two_versions: str) -> None:
    by_n = {i.inputs["input_parameters"]["n"]: i for i in recorded(service, two_versions)}
    changed = service.replay_invocation(ORG, by_n[6].id, {"version": "2.0.0"})
    assert changed.verdict == "changed" and [(c.path, c.kind, c.before, c.after) for c in changed.changes] == [("$.double", "changed", 12, 13)]
    assert (changed.original.version, changed.replay.version) == ("1.0.0", "2.0.0")
    fixed = service.replay_invocation(ORG, by_n[13].id, {"version": ">=2"})
    assert fixed.verdict == "newly fixed" and fixed.original.exception_type == "ValueError" and fixed.replay.succeeded
    broken = service.replay_invocation(ORG, by_n[7].id, {"version": "2.0.0"})
    assert broken.verdict == "newly failing" and broken.replay.exception_type == "KeyError" and broken.replay.exception_stack_trace
    simulated = service.invoke_version(ORG, two_versions, "1.0.0", {"inputs": [{"input_parameters": {"n": 4}, "invocation_mode": "conversation-simulation"}]})
    assert simulated.invocation_results[0].succeeded
    original = next(i for i in recorded(service, two_versions) if i.inputs["invocation_mode"] == "conversation-simulation")
    again = service.replay_invocation(ORG, original.id)
    assert again.verdict == "same" and '"mode": "conversation-simulation"' in (again.replay.output or "")
    rerun = next(i for i in recorded(service, two_versions) if i.id == again.replay.invocation_id)
    assert isinstance(rerun.invocation_source, SimulationConversationInvocationSource) and rerun.invocation_source.unit_test_id == original.id


def test_replay_refuses_what_it_cannot_do(service: ToolService, two_versions: str) -> None:
    first = recorded(service, two_versions)[0]
    with pytest.raises(NotFound, match="does not exist"):
        service.replay_invocation(ORG, "0" * 24)
    with pytest.raises(BadRequest, match="password was not a sensitive user variable"):
        service.replay_invocation(ORG, first.id, {"sensitive_user_variables": {"password": "x"}})
    odd = first.model_copy(update={"id": "e" * 24, "inputs": {"input_parameters": {"n": 1}, "invocation_mode": "telepathy"}})
    service.import_invocations([odd])  # recorded elsewhere, with a mode the API does not have
    with pytest.raises(ValidationFailed, match=f"invalid recorded input of invocation {'e' * 24}: invocation_mode"):
        service.replay_invocation(ORG, odd.id)
    service.deprecate_versions(ORG, two_versions, "==1.0.0")
    with pytest.raises(NotFound, match="deprecated"):
        service.replay_invocation(ORG, first.id)
    assert service.replay_invocation(ORG, first.id, {"version": "2.0.0"}).replay.version == "2.0.0"


def test_compare_runs_both_versions_on_recent_inputs_and_judges_each(service: ToolService, two_versions: str) -> None:
    result = service.compare_versions(ORG, two_versions, {"version_a": "1.0.0", "version_b": "2.0.0", "from_history": 10})
    verdicts = {pair.input["input_parameters"]["n"]: pair.verdict for pair in result.inputs}
    assert verdicts == {1: "same", 2: "same", 6: "changed", 7: "newly failing", 13: "newly fixed"}
    summary = result.summary
    assert (summary.same, summary.changed, summary.newly_failing, summary.newly_fixed, summary.failed_a, summary.failed_b) == (2, 1, 1, 1, 1, 1)
    assert summary.p50_a_ms is not None and summary.p50_ratio is not None
    six = next(p for p in result.inputs if p.input["input_parameters"]["n"] == 6)
    assert [(c.path, c.before, c.after) for c in six.changes] == [("$.double", 12, 13)] and six.duration_ratio is not None
    # every run is recorded under the comparison's run ids, and each pair names its records
    for run_id, side in zip(result.run_ids, ("a", "b")):
        runs = service.list_invocations(ORG, {"conversation_id": [run_id]}).tool_invocations
        assert len(runs) == 5 and {r.invocation_source.invocation_metadata.state_name for r in runs} == {"workbench:compare"}
        assert sorted(r.id for r in runs) == sorted(getattr(p, side).invocation_id for p in result.inputs)


def test_compare_given_inputs_reports_what_a_version_refuses(service: ToolService, two_versions: str) -> None:
    given = {"version_a": "1.0.0", "version_b": "2.0.0", "inputs": inputs(1, 500)["inputs"]}
    result = service.compare_versions(ORG, two_versions, given)
    [same, refused] = result.inputs
    assert same.verdict == "same"
    assert refused.verdict == "newly failing" and refused.b.exception_type == "InputRejected" and "500 is greater than the maximum of 100" in (refused.b.exception_message or "")
    assert refused.b.invocation_id is None and refused.a.invocation_id  # refused: not run, so not recorded
    with pytest.raises(BadRequest, match="not both"):
        service.compare_versions(ORG, two_versions, {**given, "from_history": 3})
    with pytest.raises(BadRequest, match="give the inputs"):
        service.compare_versions(ORG, two_versions, {"version_a": "1.0.0", "version_b": "2.0.0"})
    with pytest.raises(NotFound, match="no active version matching '3.0.0'"):
        service.compare_versions(ORG, two_versions, {**given, "version_b": "3.0.0"})
