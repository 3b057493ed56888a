"""A command starts at once: `workbench --help` loads click and the standard library, nothing
of the service; a warm `workbench invoke` loads what an invocation needs and no Docker SDK,
GitPython, search engine or rich, and leaves the index to the next search.

Each command runs in a fresh interpreter (as a user runs it), which writes the modules it
loaded to a file as it exits. Timings are in bench/cli_startup.py, not here."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from launching import launch

from workbench.core.service import ToolService

FRAMEWORKS = ("textual", "fastapi", "uvicorn", "httpx", "starlette")
ENGINES_AND_SDKS = ("docker", "git", "tantivy", "whoosh", "rich", "yaml", *FRAMEWORKS)
BEYOND_CLICK = (
    *ENGINES_AND_SDKS,
    "pydantic",
    "jsonschema",
    "tinydb",
    "sqlite3",
    "packaging",
    "workbench.settings",
    "workbench.core.models",
    "workbench.core.service",
    "workbench.store",
    "workbench.search",
    "workbench.runtime",
)


@pytest.fixture
def cli_env(home: Path, repo_path: Path) -> dict[str, str]:
    """The environment of a user working on the test's data directory, without a command server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    return {**env, "WORKBENCH_HOME": str(home), "WORKBENCH_TOOLS_REPO": str(repo_path), "WORKBENCH_RUNTIME": "process", "WORKBENCH_ORG": "acme", "WORKBENCH_COMMAND_SERVER": "0"}


@pytest.mark.parametrize("args", [["--help"], ["tool", "--help"], ["invoke", "--help"], ["search", "--help"], ["history", "--help"]], ids=" ".join)
def test_help_loads_click_and_nothing_of_the_service(args: list[str], cli_env: dict[str, str], tmp_path: Path) -> None:
    run = launch(args, cli_env, tmp_path)
    assert run.code == 0, run.err
    assert "Usage: workbench" in run.out and "--help" in run.out
    assert run.loaded(BEYOND_CLICK) == []
    assert "click" in run.modules  # the check did run the command line


def test_the_help_still_lists_every_command_and_its_choices(cli_env: dict[str, str], tmp_path: Path) -> None:
    listed = launch(["--help"], cli_env, tmp_path).out
    for command in ("apikey", "demo", "deprecate", "doctor", "env", "graph", "history", "index", "invoke", "new", "paths", "publish", "repair", "runtime", "search", "serve", "simulate", "test", "tool", "versions"):
        assert f"\n  {command} " in listed, command
    search = launch(["search", "--help"], cli_env, tmp_path).out
    assert "invocation_status.exception_type" in search and "simulation-conversation" in search


def test_a_warm_invocation_loads_no_sdk_engine_or_rich_and_leaves_the_index_to_the_next_search(
    service: ToolService, tools_repo, make_tool, cli_env: dict[str, str], tmp_path: Path
) -> None:
    tools_repo.project("proj", code="def run(p, c):\n    return 'capybara ' + p['name']\n")
    tool_id = make_tool("warm")
    service.publish_version("acme", tool_id, {"project_path": "proj", "bump_type": "major"})
    service.invoke_version("acme", tool_id, "1.0.0", {"inputs": [{"input_parameters": {"name": "first"}, "invocation_mode": "regular"}]})  # the worker is warm
    service.catch_up_index()
    indexed = service.index_status().indexed

    run = launch(["invoke", "warm", "1.0.0", "--input", '{"name": "x"}'], cli_env, tmp_path)
    assert run.code == 0, run.err
    assert "#0 succeeded" in run.out and "capybara x" in run.out
    assert run.loaded(ENGINES_AND_SDKS) == []
    assert service.index_status().indexed == indexed  # recorded, not indexed: the command did not wait for it

    found = launch(["search", "capybara", "--json"], cli_env, tmp_path)
    assert found.code == 0, found.err
    assert sorted(i["inputs"]["input_parameters"]["name"] for i in json.loads(found.out)["tool_invocations"]) == ["first", "x"]


def test_a_bad_setting_is_an_error_that_names_it_not_a_traceback(cli_env: dict[str, str], tmp_path: Path) -> None:
    run = launch(["tool", "list"], {**cli_env, "WORKBENCH_RUNTIME": "kubernetes"}, tmp_path)
    assert run.code == 1
    assert run.err.startswith("error: invalid settings") and "runtime" in run.err and "kubernetes" in run.err
    assert "Traceback" not in run.err
