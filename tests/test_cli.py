"""The CLI: the command names scripts rely on, --json bodies, errors, and no secret ever printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SECRET = "Pa55-word-NEVER-shown"


def test_create_list_show_update_deprecate(run_cli) -> None:
    code, out, err = run_cli("tool", "create", "weather", "--description", "Weather by city", "--tag", "team=core", "--tag", "beta", "--json")
    assert code == 0, err
    tool_id = json.loads(out)["id"]
    assert list(json.loads(out)) == ["id"]

    code, out, _ = run_cli("tool", "list", "--json")
    body = json.loads(out)
    assert set(body) == {"tools", "has_more", "continuation_token", "filter_values"}
    assert body["tools"][0]["id"] == tool_id
    assert body["tools"][0]["tags"] == [{"key": "team", "value": "core"}, {"key": "beta", "value": None}]

    code, out, _ = run_cli("tool", "update", "weather", "--description", "Weather, better", "--json")
    assert code == 0 and out == ""  # 204: no body
    code, out, _ = run_cli("tool", "show", tool_id, "--json")
    assert json.loads(out)["description"] == "Weather, better"
    code, out, _ = run_cli("tool", "show", "weather")
    assert "Weather, better" in out and tool_id in out

    code, out, _ = run_cli("tool", "deprecate", "weather")
    assert code == 0 and "deprecated" in out
    code, out, _ = run_cli("tool", "list", "--deprecated", "true", "--json")
    assert [t["name"] for t in json.loads(out)["tools"]] == ["weather"]


def test_list_options_map_to_the_api_query(run_cli) -> None:
    for name, team in (("a_tool", "x"), ("b_tool", "y"), ("c_tool", "x")):
        assert run_cli("tool", "create", name, "--description", "d", "--tag", f"team={team}")[0] == 0
    code, out, _ = run_cli("tool", "list", "--tag", "team:x", "--sort-by", "-name", "--json")
    assert [t["name"] for t in json.loads(out)["tools"]] == ["c_tool", "a_tool"]
    code, out, _ = run_cli("tool", "list", "--limit", "2", "--json")
    body = json.loads(out)
    assert body["has_more"] and body["continuation_token"] == 2
    code, out, _ = run_cli("tool", "list", "--limit", "2", "--continuation-token", "2", "--json")
    assert [t["name"] for t in json.loads(out)["tools"]] == ["c_tool"]
    code, out, _ = run_cli("tool", "list", "--limit", "2")
    assert "more: --continuation-token 2" in out and "a_tool" in out


def test_org_option_and_environment_variable(run_cli, monkeypatch) -> None:
    run_cli("tool", "create", "shared_name", "--description", "d", "--org", "one")
    code, out, _ = run_cli("tool", "list", "--org", "two", "--json")
    assert json.loads(out)["tools"] == []
    monkeypatch.setenv("WORKBENCH_ORG", "one")
    code, out, _ = run_cli("tool", "list", "--json")
    assert [t["name"] for t in json.loads(out)["tools"]] == ["shared_name"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tool", "create", "Bad Name", "--description", "d"), "name: String should match pattern"),
        (("tool", "show", "nothing"), "no tool named or with id 'nothing'"),
        (("tool", "list", "--limit", "30"), "limit: Input should be less than or equal to 20"),
        (("tool", "list", "--sort-by", "+size"), "cannot sort by '+size'"),
        (("env", "unset", "missing_tool", "A"), "no tool named"),
        (("tool", "frobnicate"), "No such command"),
    ],
)
def test_errors_print_one_line_on_stderr_and_exit_non_zero(run_cli, args, message) -> None:
    code, out, err = run_cli(*args)
    assert code != 0 and out == ""
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err


def test_duplicate_name_is_an_error(run_cli) -> None:
    run_cli("tool", "create", "twice", "--description", "d")
    code, _, err = run_cli("tool", "create", "twice", "--description", "d")
    assert code == 1 and "already exists" in err


def test_env_set_unset_list(run_cli) -> None:
    run_cli("tool", "create", "crm", "--description", "d")
    assert run_cli("env", "set", "crm", "BASE_URL=http://x", "REGION=eu")[0] == 0
    assert run_cli("env", "set", "crm", f"TOKEN={SECRET}", "--secret")[0] == 0
    assert run_cli("env", "set", "crm", "REGION=us")[0] == 0  # an existing name is updated
    code, _, err = run_cli("env", "set", "crm", "TOKEN=plain")
    assert code == 1 and "exists as a secret" in err
    code, out, _ = run_cli("env", "list", "crm", "--json")
    assert [(v["name"], v["is_secret"]) for v in json.loads(out)] == [("BASE_URL", False), ("REGION", False), ("TOKEN", True)]
    assert run_cli("env", "unset", "crm", "REGION")[0] == 0
    code, out, _ = run_cli("tool", "show", "crm", "--json")
    assert json.loads(out)["envvars"] == ["BASE_URL"] and json.loads(out)["secret_envvars"] == ["TOKEN"]
    code, _, err = run_cli("env", "set", "crm", "REGION=again")
    assert code == 1 and "deleted recently" in err


def test_a_secret_never_appears_in_output_or_any_file_but_the_secrets_file(run_cli, home: Path) -> None:
    run_cli("tool", "create", "vault", "--description", "d", "--tag", "team=sec")
    outputs = [run_cli("env", "set", "vault", f"API_TOKEN={SECRET}", "--secret")]
    for fmt in ((), ("--json",)):
        outputs += [
            run_cli("tool", "list", *fmt),
            run_cli("tool", "show", "vault", *fmt),
            run_cli("env", "list", "vault", *fmt),
            run_cli("env", "set", "vault", f"API_TOKEN={SECRET}-2", "--secret", *fmt),
            run_cli("env", "set", "vault", f"api_token={SECRET}", "--secret", *fmt),  # rejected name
            run_cli("paths", *fmt),
        ]
    for code, out, err in outputs:
        assert SECRET not in out and SECRET not in err
    files = [p for p in home.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    kept_copies = [p for p in files if p.parent.name == "generations" and p.name.startswith("secrets.json.")]  # for `workbench repair`
    assert sorted(p.name for p in files if p not in kept_copies) == ["secrets.json"]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in files)


def test_a_secret_can_be_read_from_stdin_instead_of_the_command_line(run_cli, monkeypatch, home: Path) -> None:
    import io

    run_cli("tool", "create", "piped", "--description", "d")
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    code, out, err = run_cli("env", "set", "piped", "TOKEN", "--secret")
    assert code == 0 and SECRET not in out + err
    assert SECRET in (home / "secrets.json").read_text()


def test_demo_sets_up_an_org_and_is_safe_to_run_again(run_cli) -> None:
    code, out, err = run_cli("demo")
    assert code == 0, err
    assert "created" in out and "crm_account" in out
    code, out, _ = run_cli("demo", "--json")
    body = json.loads(out)
    assert len(body["tools"]) == 7  # the six samples and kb_search
    code, out, _ = run_cli("tool", "show", "crm_account", "--org", "demo", "--json")
    assert json.loads(out)["secret_envvars"] == ["CRM_API_TOKEN"]


def test_python_dash_m_and_the_console_script(tmp_path: Path) -> None:
    env = {**os.environ, "WORKBENCH_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "workbench", "tool", "list", "--json"], capture_output=True, text=True, env=env)
    assert result.returncode == 0 and json.loads(result.stdout)["tools"] == []
    script = Path(sys.executable).with_name("workbench")
    result = subprocess.run([str(script), "tool", "create", "x", "--description", "d", "--home", str(tmp_path / "h")], capture_output=True, text=True, env=env)
    assert result.returncode == 0 and (tmp_path / "h" / "metadata.json").exists()
    result = subprocess.run([str(script), "tool", "show", "zzz"], capture_output=True, text=True, env=env)
    assert result.returncode == 1 and result.stderr.startswith("error: ")


def test_paths_prints_the_data_directory(run_cli, home: Path) -> None:
    code, out, _ = run_cli("paths", "--json")
    assert json.loads(out)["home"] == str(home.resolve())
    code, out, _ = run_cli("paths", "--home", "/tmp/elsewhere-wb", "--json")
    assert json.loads(out)["home"] == "/tmp/elsewhere-wb"


def test_doctor_explains_the_fallback_when_no_daemon_answers(run_cli, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_RUNTIME", "auto")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    code, out, _ = run_cli("doctor")
    assert code == 0 and "runtime           process (no Docker daemon answers)" in out
    assert "fix: start a Docker daemon" in out
    code, out, _ = run_cli("doctor", "--json")
    assert json.loads(out)["active"] == "process" and json.loads(out)["daemon"] is None
