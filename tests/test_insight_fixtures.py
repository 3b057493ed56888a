"""Fixtures: recorded invocations exported with secrets masked, checked against branches, run by
publish's checks stage, and as a pytest module run by pytest itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.core.service import ToolService
from workbench.errors import BadRequest, StageFailed, ValidationFailed
from test_insight_reruns import SCHEMA_V1, SCHEMA_V2, V1, V2, inputs, publish_numbers

ORG = "acme"
SECRET = "hunter22-secret"


@pytest.fixture
def recorded_tool(service: ToolService, tools_repo, make_tool) -> str:
    """1.0.0 (V1) with a history, one input carrying what later became a secret's value."""
    tool_id = publish_numbers(service, tools_repo, make_tool, second_on=None)
    service.invoke_version(ORG, tool_id, "1.0.0", inputs(1, 2))  # repeated inputs: one fixture each
    service.invoke_version(ORG, tool_id, "1.0.0", inputs(3, note=SECRET))
    service.modify_envvars(ORG, tool_id, {"inserts": [{"name": "API_KEY", "value": SECRET, "is_secret": True}]})
    return tool_id


def lines(content: str) -> list[dict]:
    return [json.loads(line) for line in content.splitlines()]


def test_export_writes_distinct_recorded_inputs_with_secrets_masked(service: ToolService, recorded_tool: str) -> None:
    exported = service.export_fixtures(ORG, recorded_tool, {"format": "jsonl"})
    header, *fixtures = lines(exported.content)
    assert header["workbench_fixtures"] == 1 and header["tool"] == "numbers" and exported.count == len(fixtures) == 6
    by_n = {f["input"]["input_parameters"]["n"]: f for f in fixtures}
    assert by_n[6]["expected"] == {"succeeded": True, "output_json": {"n": 6, "double": 12, "mode": "regular"}}
    assert by_n[13]["expected"] == {"succeeded": False, "exception_type": "ValueError"}
    assert by_n[3]["input"]["input_parameters"]["note"] == "********" and SECRET not in exported.content  # masked on export
    assert by_n[1]["recorded"]["version"] == "1.0.0" and by_n[1]["name"] == by_n[1]["recorded"]["invocation_id"]
    assert any("masked" in note for note in exported.notes)
    only_failed = service.export_fixtures(ORG, recorded_tool, {"format": "jsonl", "succeeded": False, "limit": 10})
    assert [f["input"]["input_parameters"]["n"] for f in lines(only_failed.content)[1:]] == [13]
    assert service.export_fixtures(ORG, recorded_tool, {"limit": 2}).count == 2
    with pytest.raises(BadRequest, match="no recorded invocations of versions >=2"):
        service.export_fixtures(ORG, recorded_tool, {"version": ">=2"})


def test_fixtures_pass_on_the_recorded_code_and_fail_with_a_diff_on_changed_code(service: ToolService, recorded_tool: str, tools_repo) -> None:
    fixtures = service.export_fixtures(ORG, recorded_tool, {"format": "jsonl"}).content
    same = service.check_fixtures(ORG, {"fixtures": fixtures, "commit_branch": "main", "project_path": "numbers", "tool_id": recorded_tool})
    assert (same.passed, same.failed) == (6, 0)
    tools_repo.project("numbers", branch="next", code=V2, schema=SCHEMA_V2)
    changed = service.check_fixtures(ORG, {"fixtures": fixtures, "commit_branch": "next", "project_path": "numbers", "required_secret_envvars": {"API_KEY": SECRET}})
    failed = {r.actual.output or r.actual.exception_type: r for r in changed.results if not r.passed}
    assert (changed.passed, changed.failed) == (3, 3)
    six = next(r for r in changed.results if r.expected.output_json == {"n": 6, "double": 12, "mode": "regular"})
    assert not six.passed and [(c.path, c.before, c.after) for c in six.changes] == [("$.double", 12, 13)] and "first at $.double" in (six.problem or "")
    assert "KeyError" in failed and "expected success, failed with KeyError" in (failed["KeyError"].problem or "")
    fixed = next(r for r in changed.results if r.expected.exception_type == "ValueError")
    assert not fixed.passed and fixed.problem == "expected ValueError, succeeded"  # a fixed failure is a change too
    ignoring = "\n".join(json.dumps({**f, "ignore": ["$.double"]}) if "input" in f else json.dumps(f) for f in lines(fixtures))
    relaxed = service.check_fixtures(ORG, {"fixtures": ignoring, "commit_branch": "next", "project_path": "numbers", "tool_id": recorded_tool})
    assert relaxed.failed == 2  # the doubled value may differ now; the KeyError and the fixed ValueError still fail
    with pytest.raises(BadRequest, match="line 2: not JSON"):
        service.check_fixtures(ORG, {"fixtures": fixtures.splitlines()[0] + "\n{oops\n", "commit_branch": "main", "project_path": "numbers", "tool_id": recorded_tool})
    bad_variable = json.dumps({"name": "odd", "input": {"input_parameters": {"n": 1}, "sensitive_user_variables": {"Not A Name": "x"}}, "expected": {"succeeded": True, "output": "x"}})
    with pytest.raises(ValidationFailed, match="invalid input of fixture odd: sensitive_user_variables"):
        service.check_fixtures(ORG, {"fixtures": bad_variable, "commit_branch": "main", "project_path": "numbers", "tool_id": recorded_tool})
    with pytest.raises(ValidationFailed, match="project_path"):
        service.check_fixtures(ORG, {"fixtures": fixtures, "commit_branch": "main", "project_path": "no such path!", "tool_id": recorded_tool})
    with pytest.raises(BadRequest, match="hold no fixtures"):
        service.check_fixtures(ORG, {"fixtures": "\n", "commit_branch": "main", "project_path": "numbers", "tool_id": recorded_tool})


def test_publish_runs_the_declared_fixtures_in_its_checks_stage(service: ToolService, recorded_tool: str, tools_repo) -> None:
    fixtures = service.export_fixtures(ORG, recorded_tool, {"format": "jsonl"}).content
    declared = 'fixtures = "fixtures.jsonl"\n'
    tools_repo.project("numbers", code=V1, schema=SCHEMA_V1, table_extra=declared)
    tools_repo.commit({"numbers/fixtures.jsonl": fixtures})
    stages: list = []
    assert service.publish_version(ORG, recorded_tool, {"repo": "main", "project_path": "numbers", "bump_type": "minor"}, on_stage=stages.append).new_version == "1.1.0"
    assert any(e.stage == "checks" and "6 of 6 fixture(s) passed" in e.detail for e in stages)
    tools_repo.project("numbers", code=V2, schema=SCHEMA_V1, table_extra=declared)
    with pytest.raises(StageFailed) as failed:
        service.publish_version(ORG, recorded_tool, {"repo": "main", "project_path": "numbers", "bump_type": "minor"})
    assert failed.value.stage == "checks" and "3 of 6 fixture(s) in fixtures.jsonl failed" in failed.value.message
    assert "~ $.double: 12 -> 13" in failed.value.output and "~ $.double: 12 -> 13" in failed.value.message
    assert [str(v.version) for v in service.list_versions(ORG, recorded_tool).tool_versions] == ["1.0.0", "1.1.0"]
    tools_repo.commit({"numbers/fixtures.jsonl": '{"input": {}}\n'})
    with pytest.raises(StageFailed, match="line 1: input.input_parameters: Field required") as bad:
        service.publish_version(ORG, recorded_tool, {"repo": "main", "project_path": "numbers", "bump_type": "minor"})
    assert bad.value.stage == "validate"
    tools_repo.project("numbers", code=V1, schema=SCHEMA_V1, table_extra='fixtures = "../elsewhere.jsonl"\n')
    with pytest.raises(StageFailed, match="must name a file inside the project"):
        service.publish_version(ORG, recorded_tool, {"repo": "main", "project_path": "numbers", "bump_type": "minor"})


def test_the_pytest_module_checks_the_entry_point_under_pytest(service: ToolService, recorded_tool: str, tmp_path: Path) -> None:
    module = service.export_fixtures(ORG, recorded_tool, {"format": "pytest"})
    assert module.count == 6 and SECRET not in module.content
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_recorded.py").write_text(module.content)

    def pytest_run(code: str) -> subprocess.CompletedProcess[str]:
        (project / "tool.py").write_text(code)
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_recorded.py"], cwd=project, capture_output=True, text=True, timeout=120)

    passing = pytest_run(V1)
    assert passing.returncode == 0 and "6 passed" in passing.stdout, passing.stdout + passing.stderr
    failing = pytest_run(V2)
    assert failing.returncode == 1 and "3 failed, 3 passed" in failing.stdout, failing.stdout
