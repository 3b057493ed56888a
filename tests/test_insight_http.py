"""Version insight over real HTTP: the insight router mounted on the API application behind the
application's own guard, called directly and through the remote service (the CLI in remote
mode)."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import Depends

from workbench.core.service import ToolService
from workbench.server.app import create_app
from workbench.server.auth import Guard
from workbench.server.insight import insight_router
from served import Running, error, sign_in
from test_insight_reruns import publish_numbers

ORG = "acme"


@pytest.fixture
def served(service: ToolService, tools_repo, make_tool):
    tool_id = publish_numbers(service, tools_repo, make_tool, history=(1, 6, 13), second_on="next")
    app = create_app(service, background_indexing=False)
    guard = Guard(service, strict_limits=False)
    app.include_router(insight_router(service, lambda operation: Depends(guard(operation))))  # as the lead includes it
    running = Running(service, app=app)
    yield running, tool_id
    running.stop()


def test_every_insight_path_over_http(served, service: ToolService) -> None:
    running, tool_id = served
    base = f"/v1/{ORG}/workbench"
    with sign_in(running.url, service) as client:
        stats = client.get(f"{base}/tool/{tool_id}/stats", params=[("version", "1.0.0"), ("bucket", "hour"), ("invocation_source_type", "regular-conversation")])
        assert stats.status_code == 200 and stats.json() == service.tool_stats(ORG, tool_id, {"version": "1.0.0", "bucket": "hour", "invocation_source_type": ["regular-conversation"]}).model_dump(mode="json")
        page = client.get(f"{base}/tool/{tool_id}/stats.html")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html") and page.text.count('class="chart sizes"') == 1
        activity = client.get(f"{base}/activity", params={"days": 3}).json()
        assert [(a["tool_name"], a["total"]) for a in activity] == [("numbers", 3)]
        first = service.list_invocations(ORG).tool_invocations[-1]
        replayed = client.post(f"{base}/invocation/{first.id}/replay", json={"version": "2.0.0"})
        assert replayed.status_code == 200 and replayed.json()["replay"]["version"] == "2.0.0"
        compared = client.post(f"{base}/tool/{tool_id}/compare", json={"version_a": "1.0.0", "version_b": "2.0.0", "from_history": 3})
        assert compared.status_code == 200 and compared.json()["summary"]["newly_fixed"] == 1
        exported = client.get(f"{base}/tool/{tool_id}/fixtures", params={"version": "1.0.0", "format": "jsonl"})
        assert exported.status_code == 200 and exported.json()["count"] == 3
        checked = client.post(f"{base}/fixtures/check", json={"fixtures": exported.json()["content"], "commit_branch": "next", "project_path": "numbers", "tool_id": tool_id})
        assert checked.status_code == 200 and (checked.json()["passed"], checked.json()["failed"]) == (1, 2)
        # errors are the API's one error body with their status codes
        error(client.get(f"{base}/tool/{tool_id}/stats", params={"since": "yesterday"}), 400, "not understood")
        error(client.post(f"{base}/invocation/{'0' * 24}/replay", json={}), 404, "does not exist")
        error(client.post(f"{base}/tool/{tool_id}/compare", json={"version_a": "1.0.0"}), 422, "version_b")
    error(httpx.get(f"{running.url}{base}/activity"), 401, "")
    with sign_in(running.url, service, org="other") as elsewhere:
        error(elsewhere.get(f"{base}/activity"), 403, "may not act on organization")
    with sign_in(running.url, service, role="viewer") as viewer:  # reads statistics, may not run anything
        assert viewer.get(f"{base}/tool/{tool_id}/stats").status_code == 200
        error(viewer.post(f"{base}/invocation/{first.id}/replay", json={}), 403, "Missing required permissions: Tool:InvokeTool")
        error(viewer.post(f"{base}/fixtures/check", json={"fixtures": "{}", "commit_branch": "main", "project_path": "numbers"}), 403, "Tool:TestTool")


def test_the_cli_in_remote_mode_asks_the_server(served, service: ToolService, run_cli, monkeypatch, tmp_path) -> None:
    running, tool_id = served
    key = service.create_api_key(ORG, "grace")
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "elsewhere"))  # nothing local: all goes over HTTP
    monkeypatch.setenv("WORKBENCH_REMOTE", running.url)
    monkeypatch.setenv("WORKBENCH_API_KEY_ID", key.id)
    monkeypatch.setenv("WORKBENCH_API_KEY", key.secret)
    monkeypatch.setenv("WORKBENCH_USER", "grace")
    monkeypatch.setenv("WORKBENCH_ORG", ORG)
    code, out, err = run_cli("stats", "numbers", "--json")
    assert code == 0, err
    assert json.loads(out)["versions"][0]["count"] == 3
    code, out, err = run_cli("compare", "numbers", "1.0.0", "2.0.0", "--from-history", "3")
    assert code == 0 and "1 newly fixed" in out, err
    code, out, err = run_cli("export", "numbers", "--format", "jsonl")
    assert code == 0 and out.count("\n") == 4, err
    assert not (tmp_path / "elsewhere" / "metadata.json").exists()
