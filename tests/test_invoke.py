"""Invoking versions and testing from a branch through the process runner: real subprocesses."""

from __future__ import annotations

import json

import pytest

from workbench.core.models import ToolInvocationInstance, invocation_origin
from workbench.core.service import ToolService
from workbench.errors import BadRequest, StageFailed, ValidationFailed
from workbench.settings import Settings

SECRET = "sk-live-TOTALLY-secret-42"

TOOL = """
import json, os, sys, time

class Boom(RuntimeError):
    pass

def explode(depth):
    if depth == 0:
        raise Boom("it went wrong with " + os.environ.get("TOKEN", "no token"))
    explode(depth - 1)

def run(params, ctx):
    action = params.get("action", "echo")
    ctx.logger.info("action %s mode %s", action, ctx.invocation_mode)
    if action == "echo":
        print("printed line")
        return {"mode": ctx.invocation_mode, "params": params, "user": ctx.nonsensitive_user_variables, "sensitive": sorted(ctx.sensitive_user_variables)}
    if action == "leak":
        ctx.logger.warning("token is %s and user secret is %s", ctx.env["TOKEN"], ctx.sensitive_user_variables.get("pin"))
        return "output mentions " + ctx.env["TOKEN"]
    if action == "fail":
        explode(3)
    if action == "sleep":
        start = time.time()
        time.sleep(params["seconds"])
        return {"start": start, "end": time.time()}
    if action == "size":
        return "x" * params["size"]
    if action == "state":
        import tool
        tool.COUNTER = getattr(tool, "COUNTER", 0) + 1
        return str(tool.COUNTER)
"""
SCHEMA = {
    "type": "object",
    "properties": {"action": {"enum": ["echo", "leak", "fail", "sleep", "size", "state"]}, "seconds": {"type": "number"}, "size": {"type": "integer"}},
    "additionalProperties": True,
}


def one(params: dict, mode: str = "regular", **extra) -> dict:
    return {"input_parameters": params, "invocation_mode": mode, **extra}


@pytest.fixture
def tool_id(service: ToolService, tools_repo, make_tool) -> str:
    tools_repo.project("proj", code=TOOL, schema=SCHEMA, secret_requires=("TOKEN",))
    tool_id = make_tool("runner")
    service.modify_envvars("acme", tool_id, {"inserts": [{"name": "TOKEN", "value": SECRET, "is_secret": True}]})
    service.publish_version("acme", tool_id, {"project_path": "proj", "bump_type": "major"})
    return tool_id


def invoke(service: ToolService, tool_id: str, *inputs: dict):
    return service.invoke_version("acme", tool_id, "1.0.0", {"inputs": list(inputs)}).invocation_results


def records(service: ToolService) -> list[dict]:
    return list(service.workspace.invocations)


def test_success_gets_the_params_mode_user_variables_and_logs(service: ToolService, tool_id: str) -> None:
    [result] = invoke(service, tool_id, one({"action": "echo", "n": 1}, "conversation-simulation", nonsensitive_user_variables={"plan": "gold"}, sensitive_user_variables={"pin": "98765"}))
    assert result.succeeded and result.duration_ms >= 0
    assert json.loads(result.output) == {"mode": "conversation-simulation", "params": {"action": "echo", "n": 1}, "user": {"plan": "gold"}, "sensitive": ["pin"]}
    [record] = records(service)
    assert record["logs"] == ["INFO action echo mode conversation-simulation", "printed line"]
    assert record["tool_version"] == {"major": 1, "minor": 0, "patch": 0}
    source = ToolInvocationInstance.model_validate(record).invocation_source  # a simulation run, from the CLI
    assert source.type == "simulation-conversation" and invocation_origin(source) == "cli"
    assert record["inputs"]["sensitive_user_variables"] == {"pin": "********"}
    assert record["inputs"]["nonsensitive_user_variables"] == {"plan": "gold"}
    assert "98765" not in json.dumps(record)


def test_a_failure_is_a_result_with_type_message_and_stack_trace(service: ToolService, tool_id: str) -> None:
    [result] = invoke(service, tool_id, one({"action": "fail"}))
    assert not result.succeeded and result.exception_type == "Boom"
    trace = "\n".join(result.exception_stack_trace)
    assert trace.count("in explode") == 4 and "_workbench_shim" not in trace
    assert records(service)[0]["invocation_status"]["succeeded"] is False


def test_secrets_are_masked_in_output_logs_exceptions_and_records(service: ToolService, tool_id: str, home) -> None:
    results = invoke(service, tool_id, one({"action": "leak"}, sensitive_user_variables={"pin": "pin-4321"}), one({"action": "fail"}))
    shown = json.dumps([r.model_dump() for r in results])
    assert SECRET not in shown and "********" in results[0].output and "********" in results[1].exception_message
    stored = "".join(p.read_text() for p in (home / "invocations").glob("*.jsonl"))
    assert SECRET not in stored and "pin-4321" not in stored
    assert "token is ******** and user secret is ********" in stored


def test_ten_inputs_run_in_parallel(service: ToolService, tool_id: str) -> None:
    results = invoke(service, tool_id, *[one({"action": "sleep", "seconds": 1.5}) for _ in range(10)])
    spans = [json.loads(r.output) for r in results]
    assert max(s["start"] for s in spans) < min(s["end"] for s in spans)  # all were running at once
    assert len(records(service)) == 10


@pytest.mark.parametrize("count", [0, 11])
def test_one_to_ten_inputs(service: ToolService, tool_id: str, count: int) -> None:
    with pytest.raises(ValidationFailed, match="inputs"):
        invoke(service, tool_id, *[one({"action": "echo"}) for _ in range(count)])


def test_inputs_that_do_not_match_the_schema_are_400_and_nothing_runs(service: ToolService, tool_id: str) -> None:
    with pytest.raises(BadRequest, match=r"input 1: action: 'dance' is not one of") as error:
        invoke(service, tool_id, one({"action": "echo"}), one({"action": "dance"}))
    assert error.value.status == 400 and records(service) == []


def test_output_over_20000_characters_fails_that_invocation(service: ToolService, tool_id: str) -> None:
    ok, too_big = invoke(service, tool_id, one({"action": "size", "size": 20_000}), one({"action": "size", "size": 20_001}))
    assert ok.succeeded and len(ok.output) == 20_000
    assert not too_big.succeeded and too_big.exception_type == "OutputTooLarge" and "20,001" in too_big.exception_message


def test_a_timeout_stops_the_invocation_and_records_a_failure(settings: Settings, clock, tool_id: str) -> None:
    service = ToolService(settings.model_copy(update={"invocation_timeout_seconds": 1}), clock=clock)
    [result] = invoke(service, tool_id, one({"action": "sleep", "seconds": 30}))
    assert not result.succeeded and result.exception_type == "TimeoutError" and "1 s timeout" in result.exception_message
    assert result.duration_ms < 10_000
    assert records(service)[0]["invocation_status"]["exception_type"] == "TimeoutError"


def test_no_state_survives_between_invocations(service: ToolService, tool_id: str) -> None:
    outputs = [r.output for r in invoke(service, tool_id, one({"action": "state"}), one({"action": "state"}))]
    outputs += [invoke(service, tool_id, one({"action": "state"}))[0].output]
    assert outputs == ["1", "1", "1"]


# -- testing from a branch --------------------------------------------------------------------


def branch_test(branch: str = "main", inputs=None, env=None, secrets=None) -> dict:
    return {
        "inputs": inputs or [one({"action": "echo"})],
        "commit_branch": branch,
        "project_path": "proj",
        "required_envvars": env or {},
        "required_secret_envvars": secrets if secrets is not None else {"TOKEN": SECRET},
    }


def test_a_branch_is_tested_without_publishing_or_recording(service: ToolService, tools_repo) -> None:
    tools_repo.project("proj", code=TOOL, schema=SCHEMA, secret_requires=("TOKEN",))
    response = service.test_tool("acme", branch_test(inputs=[one({"action": "leak"}), one({"action": "echo"}, "conversation-simulation")]))
    leak, echo = response.invocation_results
    assert leak.succeeded and SECRET not in leak.output and json.loads(echo.output)["mode"] == "conversation-simulation"
    assert records(service) == []
    again = service.test_tool("acme", branch_test())  # same tip: the build is reused
    assert again.invocation_results[0].succeeded
    assert len(list(service.workspace.paths.test_builds.glob("*/venv"))) == 1


def test_test_refusals(service: ToolService, tools_repo) -> None:
    tools_repo.project("proj", code=TOOL, schema=SCHEMA, secret_requires=("TOKEN",), checks=("python -c 'import tool'",))
    with pytest.raises(BadRequest, match="TOKEN given as both a secret and a non-secret"):
        service.test_tool("acme", branch_test(env={"TOKEN": "a"}))
    with pytest.raises(StageFailed, match="requires TOKEN, which the request does not declare"):
        service.test_tool("acme", branch_test(secrets={}))
    with pytest.raises(BadRequest, match="do not conform"):
        service.test_tool("acme", branch_test(inputs=[one({"action": 5})]))
    with pytest.raises(Exception, match="branch 'nope'") as error:
        service.test_tool("acme", branch_test(branch="nope"))
    assert error.value.status == 404


def test_failing_checks_fail_the_test(service: ToolService, tools_repo) -> None:
    tools_repo.project("proj", code=TOOL, schema=SCHEMA, checks=("python -c 'raise SystemExit(\"tests are red\")'",))
    with pytest.raises(StageFailed, match="checks failed.*tests are red") as error:
        service.test_tool("acme", branch_test(secrets={}))
    assert error.value.status == 400
