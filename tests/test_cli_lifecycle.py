"""The lifecycle from the command line: new, test, publish, versions, invoke, deprecate."""

from __future__ import annotations

import json
from pathlib import Path

from workbench.repo.scaffold import scaffold_hash


def test_scaffold_to_published_version(run_cli, tools_repo, tmp_path: Path) -> None:
    code, out, err = run_cli("new", "greeter", "--path", str(tools_repo.path / "greeter"))
    assert code == 0, err
    files = {str(p.relative_to(tools_repo.path)): p.read_text() for p in (tools_repo.path / "greeter").rglob("*") if p.is_file()}
    assert "greeter/tests/test_tool.py" in files and f'scaffold = "{scaffold_hash()}"' in files["greeter/pyproject.toml"]
    tools_repo.commit(files, message="add greeter")

    code, out, err = run_cli("test", "--branch", "main", "--path", "greeter", "--input", '{"name": "Ada"}', "--json")
    assert code == 0, err
    assert json.loads(json.loads(out)["invocation_results"][0]["output"]) == {"greeting": "Hello, Ada!"}
    assert "» checks" in err  # the stages are shown as they run

    run_cli("tool", "create", "greeter", "--description", "Greets")
    code, out, err = run_cli("publish", "greeter", "--path", "greeter", "--bump", "major", "--json")
    assert code == 0, err
    assert json.loads(out) == {"new_version": "1.0.0"}
    code, out, _ = run_cli("versions", "greeter", "--json")
    [version] = json.loads(out)["tool_versions"]
    assert version["amigo_scaffold_commit_hash"] == scaffold_hash() and len(scaffold_hash()) == 40

    inputs = tmp_path / "input.json"
    inputs.write_text('{"name": "Grace"}')
    code, out, _ = run_cli("invoke", "greeter", "1.0.0", "--input", f"@{inputs}", "--input", '{"name": "Linus"}', "--mode", "conversation-simulation", "--json")
    results = json.loads(out)["invocation_results"]
    assert [json.loads(r["output"])["greeting"] for r in results] == ["Hello, Grace! (simulated)", "Hello, Linus! (simulated)"]

    code, out, _ = run_cli("invoke", "greeter", "1", "--input", '{"nom": "x"}')
    assert code == 1
    code, out, _ = run_cli("invoke", "greeter", "1", "--input", '{"name": "x"}')
    assert code == 0 and out.startswith("#0 succeeded in")

    code, out, _ = run_cli("deprecate", "greeter", "--versions", ">=1,<2")
    assert code == 0 and "deprecated 1.0.0" in out
    code, _, err = run_cli("invoke", "greeter", "1.0.0", "--input", '{"name": "x"}')
    assert code == 1 and "deprecated" in err


def test_new_refuses_a_bad_name_or_a_non_empty_directory(run_cli, tmp_path: Path) -> None:
    code, _, err = run_cli("new", "Bad-Name", "--path", str(tmp_path / "x"))
    assert code == 1 and "^[a-z0-9_]+$" in err
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    code, _, err = run_cli("new", "ok_name", "--path", str(tmp_path / "taken"))
    assert code == 1 and "not empty" in err


def test_the_scaffold_passes_its_own_checks_when_published(run_cli, tools_repo) -> None:
    run_cli("new", "fresh", "--path", str(tools_repo.path / "fresh"))
    tools_repo.commit({str(p.relative_to(tools_repo.path)): p.read_text() for p in (tools_repo.path / "fresh").rglob("*") if p.is_file()})
    run_cli("tool", "create", "fresh", "--description", "d")
    code, out, err = run_cli("publish", "fresh", "--path", "fresh", "--bump", "major")
    assert code == 0, err
    assert "Ran 2 tests" in err and "published fresh 1.0.0" in out


def test_bad_inputs_on_the_command_line(run_cli, tools_repo) -> None:
    tools_repo.project("proj")
    run_cli("tool", "create", "p", "--description", "d")
    run_cli("publish", "p", "--path", "proj", "--bump", "major")
    code, _, err = run_cli("invoke", "p", "1.0.0", "--input", "{not json")
    assert code == 1 and "--input is not valid JSON" in err
    code, _, err = run_cli("invoke", "p", "1.0.0", "--input", "@/nonexistent/file.json")
    assert code == 1 and "cannot read input file" in err
    code, _, err = run_cli("invoke", "p", "1.0.0", "--input", '{"name": "x"}', "--mode", "batch")
    assert code == 2 and "batch" in err
    code, _, err = run_cli("test", "--branch", "main", "--path", "proj", "--input", '{"name": "x"}', "--env", "NOEQUALS")
    assert code == 1 and "--env takes NAME=VALUE" in err


def test_demo_publishes_every_sample_and_each_one_invokes(run_cli) -> None:
    code, out, err = run_cli("demo", "--json")
    assert code == 0, err
    samples = {
        "order_status": ('{"order_id": "A-1001"}', "regular", True),
        "crm_account": ('{"account_id": "c-17"}', "regular", True),
        "weather_lookup": ('{"city": "Oslo"}', "conversation-simulation", True),
        "flaky_parser": ('{"text": "someday"}', "regular", False),
        "report_generator": ('{"characters": 6000}', "regular", True),
        "text_stats": ('{"text": "One two. Three!"}', "regular", True),
        "kb_search": ('{"query": "late delivery"}', "conversation-simulation", True),
    }
    for name, (params, mode, succeeds) in samples.items():
        code, out, err = run_cli("invoke", name, "1.0.0", "--input", params, "--mode", mode, "--org", "demo", "--json")
        assert code == 0, err
        [result] = json.loads(out)["invocation_results"]
        assert result["succeeded"] is succeeds, (name, result)
    code, out, _ = run_cli("invoke", "report_generator", "1.0.0", "--input", '{"characters": 25000}', "--org", "demo", "--json")
    assert json.loads(out)["invocation_results"][0]["exception_type"] == "OutputTooLarge"
    code, out, _ = run_cli("versions", "weather_lookup", "--org", "demo", "--json")
    assert [v["version"]["major"] for v in json.loads(out)["tool_versions"]] == [1]
    code, out, err = run_cli("publish", "weather_lookup", "--path", "weather_lookup", "--repo", "team", "--bump", "minor", "--org", "demo")
    assert code == 0 and "1.1.0" in out, err
    code, out, _ = run_cli("demo")  # again: safe, nothing new
    assert "up to date" in out
