"""Version insight through the real CLI: stats (table, plot, JSON), replay, compare, export,
test --fixtures, invocation show, and history's date and exception filters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.core.service import ToolService
from test_insight_reruns import inputs, publish_numbers

ORG = "acme"


@pytest.fixture
def published(service: ToolService, tools_repo, make_tool) -> dict[str, str]:
    """numbers 1.0.0 (with a history) and 2.0.0; ids of the recorded invocations by input."""
    tool_id = publish_numbers(service, tools_repo, make_tool, second_on="next")
    records = service.list_invocations(ORG, {"tool_id": [tool_id], "version": ["*"]}).tool_invocations
    return {"tool": tool_id, **{str(r.inputs["input_parameters"]["n"]): r.id for r in records}}


def test_stats_as_a_table_as_pictures_and_as_json(run_cli, published, service: ToolService) -> None:
    service.invoke_version(ORG, published["tool"], "2.0.0", inputs(3, 7))
    code, out, err = run_cli("stats", "numbers", "--org", ORG)
    assert code == 0, err
    assert "numbers: 7 invocations" in out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 10}
    assert set(rows) == {"2.0.0", "1.0.0"} and "VERSION" in out and "80.0%" in rows["1.0.0"] and "50.0%" in rows["2.0.0"]
    assert "1.0.0 exceptions: ValueError 1 (100.0%)" in out and "2.0.0 exceptions: KeyError 1 (100.0%)" in out
    code, out, err = run_cli("stats", "numbers", "--org", ORG, "--plot")
    assert code == 0, err
    assert "mean latency" in out and "failure rate" in out and "┆" in out and "5k" in out and "20k" in out and "KeyError" in out
    code, out, _ = run_cli("stats", "numbers", "--org", ORG, "--json", "--version", ">=2")
    body = json.loads(out)
    assert [v["version"] for v in body["versions"]] == ["2.0.0"] and body["versions"][0]["count"] == 2 and body["versions"][0]["series"]
    code, _, err = run_cli("stats", "numbers", "--org", ORG, "--since", "yesterday")
    assert code == 1 and "error: since 'yesterday' is not understood" in err and "Traceback" not in err
    code, _, err = run_cli("stats", "nothing", "--org", ORG)
    assert code == 1 and "no tool named" in err


def test_stats_html_writes_a_report_file(run_cli, published, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    code, out, err = run_cli("stats", "numbers", "--org", ORG, "--html", str(target))
    assert code == 0 and f"wrote {target}" in out, err
    page = target.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count('class="chart sizes"') == 1 and "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    code, _, err = run_cli("stats", "numbers", "--org", ORG, "--html", str(tmp_path / "missing" / "dir" / "r.html"))
    assert code == 1 and "cannot write the report" in err


def test_replay_and_compare_side_by_side(run_cli, published, tmp_path: Path) -> None:
    code, out, err = run_cli("replay", published["6"], "--org", ORG)
    assert code == 0 and "original" in out and "replay" in out and "verdict: same" in out, err
    code, out, err = run_cli("replay", published["6"], "--org", ORG, "--version", "2.0.0")
    assert code == 0 and "verdict: changed" in out and "~ $.double: 12 -> 13" in out, err
    code, out, _ = run_cli("replay", published["13"], "--org", ORG, "--version", "2.0.0", "--json")
    assert json.loads(out)["verdict"] == "newly fixed"
    code, _, err = run_cli("replay", "0" * 24, "--org", ORG)
    assert code == 1 and "does not exist" in err

    code, out, err = run_cli("compare", "numbers", "1.0.0", "2.0.0", "--org", ORG, "--from-history", "10")
    assert code == 0, err
    assert "2 same · 1 changed · 1 newly failing · 1 newly fixed" in out and "~ $.double: 12 -> 13" in out
    given = tmp_path / "inputs.json"
    given.write_text(json.dumps([{"n": 1}, {"n": 500}]))
    code, out, err = run_cli("compare", "numbers", "1.0.0", "2.0.0", "--org", ORG, "--inputs", str(given), "--json")
    assert code == 0, err
    assert [p["verdict"] for p in json.loads(out)["inputs"]] == ["same", "newly failing"]
    code, _, err = run_cli("compare", "numbers", "1.0.0", "2.0.0", "--org", ORG)
    assert code == 2 and "give --from-history N or --inputs FILE" in err
    given.write_text("not json at all")
    code, _, err = run_cli("compare", "numbers", "1.0.0", "2.0.0", "--org", ORG, "--inputs", str(given))
    assert code == 1 and "neither a JSON list nor one JSON object per line" in err


def test_export_then_test_a_branch_against_the_fixtures(run_cli, published, tmp_path: Path) -> None:
    target = tmp_path / "fixtures.jsonl"
    code, out, err = run_cli("export", "numbers", "--org", ORG, "--version", "1.0.0", "--format", "jsonl", "-o", str(target))
    assert code == 0 and "wrote 5 fixture(s)" in err
    assert len(target.read_text().splitlines()) == 6
    code, out, err = run_cli("test", "--branch", "main", "--path", "numbers", "--fixtures", str(target), "--tool", "numbers", "--org", ORG)
    assert code == 0 and "5 passed, 0 failed" in out, out + err
    code, out, err = run_cli("test", "--branch", "next", "--path", "numbers", "--fixtures", str(target), "--org", ORG)
    assert code == 1 and "2 passed, 3 failed" in out and "~ $.double: 12 -> 13" in out and "✗" in out
    code, _, err = run_cli("test", "--branch", "main", "--path", "numbers", "--org", ORG)
    assert code == 2 and "give --input (up to 10) or --fixtures FILE" in err
    code, out, _ = run_cli("export", "numbers", "--org", ORG, "--format", "pytest")
    assert "def test_recorded_invocation(case):" in out and "import tool as tool_module" in out


def test_invocation_show_and_history_filters(run_cli, published) -> None:
    code, out, err = run_cli("invocation", "show", published["6"], "--org", ORG)
    assert code == 0, err
    assert "numbers 1.0.0" in out and "succeeded" in out and '"double": 12' in out and "input" in out and "logs (0 lines)" in out
    code, out, _ = run_cli("invocation", "show", published["13"], "--org", ORG)
    assert "failed" in out and "ValueError" in out and "stack trace" in out and "unlucky thirteen" in out
    code, out, _ = run_cli("invocation", "show", published["13"], "--org", ORG, "--json")
    assert json.loads(out)["id"] == published["13"]
    code, out, err = run_cli("history", "--org", ORG, "--since", "2025-12-31", "--until", "2026-01-02", "--exception-type", "ValueError", "--json")
    assert code == 0, err
    assert [i["id"] for i in json.loads(out)["tool_invocations"]] == [published["13"]]
    code, out, _ = run_cli("history", "--org", ORG, "--since", "2026-01-02", "--json")
    assert json.loads(out)["tool_invocations"] == []
    code, _, err = run_cli("history", "--org", ORG, "--until", "soon")
    assert code == 1 and "created_before 'soon' is not understood" in err
