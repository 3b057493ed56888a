"""`workbench graph check` and `workbench simulate` as a tool author runs them (in CI too): the
demo organization's sample tools, real runs, exit codes, the readable report, JUnit XML."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

FAILING = """
name: wrong_status
graph: {graph}
turns:
  - state: check_order
    tool: order_status
    user: Where is A-1001?
    parameters: {{order_id: A-1001}}
    expect: {{succeeded: true, output_fields: {{status: delivered}}}}
"""


@pytest.fixture
def demo(run_cli, repo_path: Path) -> Path:
    """The demo org set up; returns the tools repository's simulations directory."""
    code, _, err = run_cli("demo")
    assert code == 0, err
    return repo_path / "simulations"


def test_graph_check_passes_the_sample_graph(run_cli, demo: Path) -> None:
    code, out, err = run_cli("graph", "check", str(demo / "support_agent.graph.yaml"), "--org", "demo")
    assert code == 0, err
    assert "context graph support_agent v1" in out and "7 states, 9 tool call specs" in out
    assert "✓ check_order · action_tool_call_specs[1]: kb_search (by name) >=1.0.0 → 1.0.0 · persisted-preferred" in out
    assert out.rstrip().endswith("no problems")
    code, out, _ = run_cli("graph", "check", str(demo / "support_agent.graph.yaml"), "--org", "demo", "--resolved")
    resolved = json.loads(out)
    tool_ids = {s["designated_tool"]["tool_id"] for s in resolved["states"] if s["type"] == "tool-call"}
    assert code == 0 and all(len(t) == 24 for t in tool_ids)


def test_graph_check_names_each_problem_and_fails(run_cli, demo: Path, tmp_path: Path) -> None:
    graph = yaml.safe_load((demo / "support_agent.graph.yaml").read_text())
    graph["states"][1]["action_tool_call_specs"][1]["version_constraint"] = "==9.9.9"
    graph["states"][1]["action_tool_call_specs"][1]["audio_filler_triggered_after"] = 12
    graph["states"][0]["action_tool_call_specs"][0]["tool_id"] = "crm"
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(graph))
    code, out, _ = run_cli("graph", "check", str(path), "--org", "demo")
    assert code == 1
    assert "✗ identify_customer · action_tool_call_specs[0]: crm" in out
    assert "✗ no tool named or with id 'crm' in organization demo" in out
    assert "✗ audio_filler_triggered_after: Input should be less than or equal to 10" in out
    assert out.rstrip().endswith("2 problem(s)")
    path.write_text("{not json")
    code, _, err = run_cli("graph", "check", str(path), "--org", "demo")
    assert code == 1 and f"error: context graph file {path} is not valid JSON: line 1, column 2" in err


def test_simulate_a_sample_scenario(run_cli, demo: Path, tmp_path: Path) -> None:
    junit = tmp_path / "report.xml"
    code, out, err = run_cli("simulate", str(demo / "large_reports.scenario.yaml"), "--org", "demo", "--junit", str(junit), "--log")
    assert code == 0, err
    assert "scenario large_reports (conversation-simulation) over support_agent v1" in out
    assert "✓ turn 3 build_report · report_generator 1.0.0" in out and "persisted-preferred → treated-as-ephemeral" in out
    assert "not here: turn 1 report_generator: visible during the current interaction only" in out
    assert "ToolResultTooLarge: the tool's result is 6,000 characters" in out
    assert "passed: 6 of 6 turns met their expectations" in out
    assert "» run 1/1 turn 6/6: turn 6 · export_summary · report_generator 1.0.0" in err
    run_id = out.split("workbench history --run-id ")[1].split()[0]
    code, out, _ = run_cli("history", "--run-id", run_id, "--org", "demo", "--json")
    assert code == 0 and len(json.loads(out)["tool_invocations"]) == 6
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None and (suite.get("name"), suite.get("tests"), suite.get("failures")) == ("large_reports", "6", "0")


def test_a_failed_expectation_exits_non_zero_with_a_readable_report(run_cli, demo: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "wrong.scenario.yaml"
    scenario.write_text(FAILING.format(graph=demo / "support_agent.graph.yaml"))
    junit = tmp_path / "report.xml"
    code, out, _ = run_cli("simulate", str(scenario), "--org", "demo", "--junit", str(junit))
    assert code == 1
    assert "  ✗ turn 1 check_order · order_status 1.0.0" in out
    assert "      ✗ expected output field status = 'delivered'; got 'shipped'" in out
    assert "FAILED: 0 of 1 turns met their expectations" in out
    failure = ElementTree.parse(junit).getroot().find("testsuite/testcase/failure")
    assert failure is not None and failure.get("message") == "expected output field status = 'delivered'; got 'shipped'"
    code, out, _ = run_cli("simulate", str(scenario), "--org", "demo", "--json", "--runs", "2")
    body = json.loads(out)
    assert code == 1 and [r["run_index"] for r in body["reports"][0]["runs"]] == [0, 1]


def test_scenarios_that_cannot_run(run_cli, demo: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.scenario.yaml"
    broken.write_text(FAILING.format(graph=demo / "support_agent.graph.yaml").replace("order_status", "weather_lookup"))
    code, _, err = run_cli("simulate", str(broken), str(demo / "regular_lookup.scenario.yaml"), "--org", "demo")
    assert code == 1
    assert "scenario wrong_status cannot run:" in err and "turn 1 (state 'check_order'): the state has no tool call spec with tool 'weather_lookup'" in err
    bad_yaml = tmp_path / "bad.scenario.yaml"
    bad_yaml.write_text("name: x\nturns: [\n")
    code, _, err = run_cli("simulate", str(bad_yaml), "--org", "demo")
    assert code == 1 and "is not valid YAML: line 3, column 1" in err
    no_graph = tmp_path / "nograph.scenario.yaml"
    no_graph.write_text("name: x\nturns: [{state: a, tool: b}]\n")
    code, _, err = run_cli("simulate", str(no_graph), "--org", "demo")
    assert code == 1 and "names no graph: add 'graph: FILE'" in err
    code, _, err = run_cli("simulate", str(tmp_path / "missing.scenario.yaml"), "--org", "demo")
    assert code == 1 and "scenario file not found" in err
    bad_field = tmp_path / "field.scenario.yaml"
    bad_field.write_text("name: x\ngraph: g.yaml\nmode: batch\nturns: [{state: a}]\n")
    code, _, err = run_cli("simulate", str(bad_field), "--org", "demo")
    assert code == 1 and "mode: Input should be 'regular' or 'conversation-simulation'" in err and "name the tool call spec that fires" in err
