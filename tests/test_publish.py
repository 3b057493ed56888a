"""Publishing versions from a real git repository: bumps, pinning, and every refusal."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from workbench.core.results import StageEvent
from workbench.core.service import ToolService
from workbench.errors import BadRequest, Conflict, NotFound, StageFailed


def publish(service: ToolService, tool_id: str, bump: str = "major", path: str = "proj", **kw):
    return service.publish_version("acme", tool_id, {"repo": "main", "project_path": path, "bump_type": bump}, **kw).new_version


def versions(service: ToolService, tool_id: str, **query) -> list[str]:
    return [str(v.version) for v in service.list_versions("acme", tool_id, query).tool_versions]


def test_first_version_is_1_0_0_with_every_field(service: ToolService, tools_repo, make_tool) -> None:
    commit = tools_repo.project("proj", requires=("URL",), secret_requires=("TOKEN",), checks=("python -c 'import tool'",))
    tool_id = make_tool("pub")
    service.modify_envvars("acme", tool_id, {"inserts": [{"name": "URL", "value": "u", "is_secret": False}, {"name": "TOKEN", "value": "t0ken", "is_secret": True}]})
    events: list[StageEvent] = []
    assert publish(service, tool_id, "minor", user_id="ada", on_stage=events.append) == "1.0.0"
    [version] = service.list_versions("acme", tool_id).tool_versions
    assert version.tool_commit_hash == commit and version.project_directory == "proj" and version.tool_repo == "main"
    assert version.required_envvars == ["URL"] and version.required_secret_envvars == ["TOKEN"]
    assert version.input_schema["required"] == ["name"]
    assert version.creator.user_id == "ada" and version.creator.user_org_id == "acme"
    assert version.lambda_version == 1 and version.deprecated is False and version.amigo_scaffold_commit_hash == "none"
    passed = [e.stage for e in events if e.state == "passed"]
    assert passed == ["resolve", "export", "validate", "build", "checks", "record"]


def test_bumps_follow_semver_and_earlier_versions_stay_as_they_were(service: ToolService, tools_repo, make_tool) -> None:
    tools_repo.project("proj")
    tool_id = make_tool("pub")
    assert publish(service, tool_id) == "1.0.0"
    before = service.list_versions("acme", tool_id).tool_versions[0]
    tools_repo.project("proj", code="def run(p, c):\n    return 'v2'\n")
    assert publish(service, tool_id, "patch") == "1.0.1"
    assert publish(service, tool_id, "minor") == "1.1.0"
    service.deprecate_versions("acme", tool_id, "<1.1")
    assert publish(service, tool_id, "major") == "2.0.0"
    assert service.list_versions("acme", tool_id, {"versions": "==1.0.0"}).tool_versions[0].model_dump(exclude={"deprecated", "updated_at", "updated_by"}) == before.model_dump(exclude={"deprecated", "updated_at", "updated_by"})
    # the old version still runs its own pinned code
    out = service.invoke_version("acme", tool_id, "1.1.0", {"inputs": [{"input_parameters": {"name": "x"}, "invocation_mode": "regular"}]})
    assert out.invocation_results[0].output == "v2"


def test_repo_team_publishes_from_the_team_branch(service: ToolService, tools_repo, make_tool) -> None:
    tools_repo.project("proj")
    team_commit = tools_repo.project("proj", branch="team", code="def run(p, c):\n    return 'team'\n")
    tool_id = make_tool("pub")
    service.publish_version("acme", tool_id, {"repo": "team", "project_path": "proj", "bump_type": "major"})
    [version] = service.list_versions("acme", tool_id).tool_versions
    assert version.tool_commit_hash == team_commit and version.tool_repo == "team"


def test_a_commit_older_than_the_last_valid_one_is_refused(service: ToolService, tools_repo, make_tool) -> None:
    tools_repo.project("proj")
    tools_repo.project("proj", branch="feature", code="def run(p, c):\n    return 'new'\n")
    tool_id = make_tool("pub")
    service.publish_version("acme", tool_id, {"repo": "main", "project_path": "proj", "bump_type": "major"}, branch="feature")
    with pytest.raises(BadRequest, match="older than the last valid commit") as error:
        publish(service, tool_id, "patch")  # main does not contain feature's commit
    assert error.value.status == 400


def test_at_most_three_active_versions(service: ToolService, tools_repo, make_tool) -> None:
    tools_repo.project("proj")
    tool_id = make_tool("pub")
    for bump in ("major", "patch", "patch"):
        publish(service, tool_id, bump)
    with pytest.raises(BadRequest, match="3 active versions.*deprecate one first"):
        publish(service, tool_id, "patch")
    service.deprecate_versions("acme", tool_id, "==1.0.0")
    assert publish(service, tool_id, "patch") == "1.0.3"


def test_required_variables_must_exist_on_the_tool(service: ToolService, tools_repo, make_tool) -> None:
    tools_repo.project("proj", requires=("URL",), secret_requires=("TOKEN",))
    tool_id = make_tool("pub")
    service.modify_envvars("acme", tool_id, {"inserts": [{"name": "TOKEN", "value": "plain-not-secret", "is_secret": False}]})
    with pytest.raises(StageFailed, match=r"validate failed: .*URL, TOKEN \(secret\)"):
        publish(service, tool_id)
    assert versions(service, tool_id) == []


def test_failed_checks_are_400_with_the_checks_output(service: ToolService, tools_repo, make_tool, home) -> None:
    tools_repo.project("proj", checks=("python -c 'import sys; print(\"assertion: 2 != 3\"); sys.exit(1)'",))
    tool_id = make_tool("pub")
    with pytest.raises(StageFailed, match="checks failed") as error:
        publish(service, tool_id)
    assert "assertion: 2 != 3" in error.value.message and error.value.stage == "checks"
    assert versions(service, tool_id) == []
    assert not any((home / "builds").iterdir())  # a failed publish leaves no build behind


def test_an_entry_point_that_cannot_load_fails_the_build(service: ToolService, tools_repo, make_tool) -> None:
    tools_repo.project("proj", code="import not_a_module_anywhere\n")
    tool_id = make_tool("pub")
    with pytest.raises(StageFailed, match="build failed: the entry point tool:run could not be loaded: ModuleNotFoundError"):
        publish(service, tool_id)


def test_a_dependency_that_cannot_install_fails_the_build(service: ToolService, tools_repo, make_tool) -> None:
    tools_repo.project("proj", dependencies=("this-package-does-not-exist-wb==0.0.1",))
    tool_id = make_tool("pub")
    with pytest.raises(StageFailed, match="build failed: could not fetch dependencies"):
        publish(service, tool_id)


def test_invalid_project_is_400_from_validate(service: ToolService, tools_repo, make_tool) -> None:
    tools_repo.commit({"proj/pyproject.toml": "[project]\nname='x'\n"})
    tool_id = make_tool("pub")
    with pytest.raises(StageFailed, match=r"validate failed: pyproject.toml has no \[tool.workbench\] table"):
        publish(service, tool_id)


def test_unknowns_are_404_and_a_bad_body_is_422(service: ToolService, tools_repo, make_tool) -> None:
    tools_repo.project("proj")
    tool_id = make_tool("pub")
    with pytest.raises(NotFound, match="tool"):
        publish(service, "e" * 24)
    with pytest.raises(NotFound, match="project directory 'nowhere'"):
        publish(service, tool_id, path="nowhere")
    with pytest.raises(NotFound, match="branch 'ghost'"):
        publish(service, tool_id, branch="ghost")
    with pytest.raises(Exception, match="bump_type") as error:
        publish(service, tool_id, "huge")
    assert error.value.status == 422
    with pytest.raises(Exception, match="project_path") as error:
        publish(service, tool_id, path="bad path!")
    assert error.value.status == 422


def test_a_deprecated_tool_cannot_publish(service: ToolService, tools_repo, make_tool) -> None:
    tools_repo.project("proj")
    tool_id = make_tool("pub")
    service.deprecate_tool("acme", tool_id)
    with pytest.raises(BadRequest, match="deprecated"):
        publish(service, tool_id)


SLOW_CHECK = ("python -c 'import time; time.sleep(2)'",)


def test_a_second_publish_or_deprecate_while_one_runs_is_409_threads(service: ToolService, tools_repo, make_tool) -> None:
    tools_repo.project("proj", checks=SLOW_CHECK)
    tool_id = make_tool("pub")
    started = threading.Event()
    results: list[str] = []
    worker = threading.Thread(target=lambda: results.append(publish(service, tool_id, on_stage=lambda e: e.stage == "checks" and started.set())))
    worker.start()
    assert started.wait(30)
    with pytest.raises(Conflict, match="in progress") as error:
        publish(service, tool_id, "patch")
    assert error.value.status == 409
    with pytest.raises(Conflict):
        service.deprecate_versions("acme", tool_id, ">=0")
    with pytest.raises(Conflict):
        service.deprecate_tool("acme", tool_id)
    worker.join(60)
    assert results == ["1.0.0"]


def test_a_second_publish_while_one_runs_is_409_processes(service: ToolService, tools_repo, make_tool, home, repo_path) -> None:
    tools_repo.project("proj", checks=SLOW_CHECK)
    tool_id = make_tool("pub")
    code = textwrap.dedent(
        f"""
        from workbench.core.service import ToolService
        ToolService().publish_version("acme", "{tool_id}", {{"repo": "main", "project_path": "proj", "bump_type": "major"}})
        """
    )
    env = {**os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_TOOLS_REPO": str(repo_path), "WORKBENCH_RUNTIME": "process"}
    other = subprocess.Popen([sys.executable, "-c", code], env=env)
    lock = home / "locks" / f"{tool_id}.lock"
    deadline = time.time() + 30
    while time.time() < deadline:  # wait until the other process is inside its publish
        time.sleep(0.1)
        if list((home / "builds").glob("*/venv")) and lock.exists():
            break
    with pytest.raises(Conflict, match="in progress"):
        publish(service, tool_id, "patch")
    assert other.wait(60) == 0
    assert versions(service, tool_id) == ["1.0.0"]


def test_a_secret_printed_by_a_check_is_masked_in_the_error_and_the_stages(service: ToolService, tools_repo, make_tool) -> None:
    tools_repo.project("proj", secret_requires=("TOKEN",), checks=("python -c 'import os; print(\"token=\" + os.environ[\"TOKEN\"]); raise SystemExit(1)'",))
    tool_id = make_tool("pub")
    service.modify_envvars("acme", tool_id, {"inserts": [{"name": "TOKEN", "value": "very-secret-token", "is_secret": True}]})
    events: list[StageEvent] = []
    with pytest.raises(StageFailed, match="checks failed") as error:
        publish(service, tool_id, on_stage=events.append)
    assert "token=********" in error.value.message and "very-secret-token" not in error.value.message
    assert not any("very-secret-token" in e.detail for e in events)
