"""Version insight over real HTTP: the /insight router mounted on the API application, called
directly and through the remote service (the CLI in remote mode)."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest
import uvicorn

from workbench.core.service import ToolService
from workbench.server.app import create_app
from workbench.server.insight import insight_router
from test_insight_reruns import publish_numbers

ORG = "acme"


class Served:
    """The API application with the insight router, on a free port."""

    def __init__(self, service: ToolService) -> None:
        app = create_app(service, background_indexing=False)
        app.include_router(insight_router(service))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def served(service: ToolService, tools_repo, make_tool):
    tool_id = publish_numbers(service, tools_repo, make_tool, history=(1, 6, 13), second_on="next")
    running = Served(service)
    yield running, tool_id
    running.stop()


def signed_in(url: str, service: ToolService, org: str = ORG) -> httpx.Client:
    key = service.create_api_key(org, "ada")
    token = httpx.post(f"{url}/v1/{org}/user/signin_with_api_key", headers={"x-api-key": key.secret, "x-api-key-id": key.id, "x-user-id": "ada"}).json()["id_token"]
    return httpx.Client(base_url=f"{url}/v1/{org}/insight", headers={"Authorization": f"Bearer {token}"}, timeout=120)


def test_every_insight_path_over_http(served, service: ToolService) -> None:
    running, tool_id = served
    with signed_in(running.url, service) as client:
        stats = client.get(f"/tool/{tool_id}/stats", params=[("version", "1.0.0"), ("bucket", "hour"), ("invocation_source_type", "workbench")])
        assert stats.status_code == 200 and stats.json() == service.tool_stats(ORG, tool_id, {"version": "1.0.0", "bucket": "hour", "invocation_source_type": ["workbench"]}).model_dump(mode="json")
        page = client.get(f"/tool/{tool_id}/stats.html")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html") and page.text.count('class="chart sizes"') == 1
        activity = client.get("/activity", params={"days": 3}).json()
        assert [(a["tool_name"], a["total"]) for a in activity] == [("numbers", 3)]
        first = service.list_invocations(ORG).tool_invocations[-1]
        replayed = client.post(f"/invocation/{first.id}/replay", json={"version": "2.0.0"})
        assert replayed.status_code == 200 and replayed.json()["replay"]["version"] == "2.0.0"
        compared = client.post(f"/tool/{tool_id}/compare", json={"version_a": "1.0.0", "version_b": "2.0.0", "from_history": 3})
        assert compared.status_code == 200 and compared.json()["summary"]["newly_fixed"] == 1
        exported = client.get(f"/tool/{tool_id}/fixtures", params={"version": "1.0.0", "format": "jsonl"})
        assert exported.status_code == 200 and exported.json()["count"] == 3
        checked = client.post("/fixtures/check", json={"fixtures": exported.json()["content"], "commit_branch": "next", "project_path": "numbers", "tool_id": tool_id})
        assert checked.status_code == 200 and (checked.json()["passed"], checked.json()["failed"]) == (1, 2)
        # errors are the API's error bodies with their status codes
        bad = client.get(f"/tool/{tool_id}/stats", params={"since": "yesterday"})
        assert bad.status_code == 400 and "not understood" in bad.json()["detail"]
        missing = client.post(f"/invocation/{'0' * 24}/replay", json={})
        assert missing.status_code == 404
        invalid = client.post(f"/tool/{tool_id}/compare", json={"version_a": "1.0.0"})
        assert invalid.status_code == 422
    assert httpx.get(f"{running.url}/v1/{ORG}/insight/activity").status_code == 401
    with signed_in(running.url, service, org="other") as elsewhere:
        assert httpx.get(f"{running.url}/v1/{ORG}/insight/activity", headers=elsewhere.headers).status_code == 403


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
