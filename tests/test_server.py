"""The HTTP API with real requests to a running server: every endpoint's success shape and
status, its documented errors, authentication, rate limits, and long operations."""

from __future__ import annotations

import threading

import httpx
import pytest
from served import SECRET, Running, error, sign_in, spec_input

from workbench.core.events import IndexProgress, PublishProgress
from workbench.core.service import ToolService
from workbench.synthetic import generate_invocations

@pytest.fixture
def api(served):
    return served


def caught_up(service: ToolService) -> threading.Event:
    """Set when the background indexer reports having indexed everything recorded."""
    done = threading.Event()
    service.subscribe(lambda event: isinstance(event, IndexProgress) and event.done >= event.total > 0 and done.set())
    return done


@pytest.fixture
def client(api, service: ToolService) -> httpx.Client:
    with sign_in(api.url, service) as c:
        yield c


def test_the_whole_life_of_a_tool_over_http(client: httpx.Client, service: ToolService) -> None:
    created = client.post("/v1/acme/tool/", json={"name": "crm_account", "description": "Accounts", "tags": {"team": "sales", "pii": None}})
    assert created.status_code == 201 and list(created.json()) == ["id"]
    tool_id = created.json()["id"]
    listed = client.get("/v1/acme/tool/", params=[("tag", "team:sales"), ("tag", "pii:"), ("sort_by", "+name"), ("limit", 5)])
    assert listed.status_code == 200 and set(listed.json()) == {"tools", "has_more", "continuation_token", "filter_values"}
    assert [t["id"] for t in listed.json()["tools"]] == [tool_id]
    modified = client.post(f"/v1/acme/tool/{tool_id}", json={"description": "Account summaries", "tags": None})
    assert modified.status_code == 204 and modified.content == b""
    envvars = client.post(f"/v1/acme/tool/{tool_id}/envvar", json={"inserts": [{"name": "CRM_BASE_URL", "value": "u", "is_secret": False}, {"name": "CRM_API_TOKEN", "value": SECRET, "is_secret": True}]})
    assert envvars.status_code == 204
    tested = client.post("/v1/acme/tool/test", json={"inputs": [spec_input({"account_id": "c-17"})], "commit_branch": "main", "project_path": "crm_account", "required_envvars": {"CRM_BASE_URL": "u"}, "required_secret_envvars": {"CRM_API_TOKEN": SECRET}})
    assert tested.status_code == 200 and tested.json()["invocation_results"][0]["succeeded"] is True
    published = client.post(f"/v1/acme/tool/{tool_id}/version", json={"repo": "main", "project_path": "crm_account", "bump_type": "major"})
    assert published.status_code == 201 and published.json() == {"new_version": "1.0.0"}
    versions = client.get(f"/v1/acme/tool/{tool_id}/version", params={"versions": ">=1", "limit": 10})
    assert versions.status_code == 200 and versions.json()["tool_versions"][0]["creator"] == {"user_id": "ada", "user_org_id": "acme"}
    indexed = caught_up(service)
    invoked = client.post(f"/v1/acme/tool/{tool_id}/version/1.0.0/invoke", json={"inputs": [spec_input({"account_id": "c-17"}), spec_input({"account_id": "c-2"}, "conversation-simulation")]})
    assert invoked.status_code == 200 and [r["succeeded"] for r in invoked.json()["invocation_results"]] == [True, True]
    history = client.get("/v1/acme/tool/invocation", params=[("tool_id", tool_id), ("version", ">=1"), ("limit", 10)])
    assert history.status_code == 200 and set(history.json()) == {"tool_invocations", "has_more", "continuation_token"}
    assert len(history.json()["tool_invocations"]) == 2
    assert SECRET not in history.text and "Bearer ********" in history.text
    assert indexed.wait(60), "the server's background indexer never caught up"  # indexed in the background
    found = client.get("/v1/acme/tool/invocation/search", params=[("query", "gold"), ("query_against", "invocation_status.output")])
    assert found.status_code == 200 and list(found.json()) == ["tool_invocations", "has_more"] and len(found.json()["tool_invocations"]) == 1
    assert client.delete(f"/v1/acme/tool/{tool_id}/version/%3E%3D1,%3C2").status_code == 204
    error(client.post(f"/v1/acme/tool/{tool_id}/version/1.0.0/invoke", json={"inputs": [spec_input({})]}), 404, "deprecated")
    assert client.delete(f"/v1/acme/tool/{tool_id}").status_code == 204
    scaffold = client.get("/v1/acme/tool/amigo_tool_scaffold.tar.gz")
    assert scaffold.status_code == 200 and scaffold.content[:2] == b"\x1f\x8b"


def test_documented_errors(client: httpx.Client, service: ToolService, tools_repo) -> None:
    tool_id = client.post("/v1/acme/tool/", json={"name": "dup", "description": "d", "tags": {}}).json()["id"]
    error(client.post("/v1/acme/tool/", json={"name": "dup", "description": "d", "tags": {}}), 409, "already exists")
    error(client.post("/v1/acme/tool/", json={"name": "Bad Name", "description": "d", "tags": {}}), 422, "name")
    error(client.post("/v1/acme/tool/", json={"name": "x", "tags": {}}), 422, "description")
    error(client.post("/v1/acme/tool/", content=b"{not json", headers={"content-type": "application/json"}), 422, "request")
    error(client.get("/v1/acme/tool/", params={"limit": 0}), 422, "limit")
    error(client.post(f"/v1/acme/tool/{'f' * 24}", json={"description": "x"}), 404, "does not exist")
    error(client.post("/v1/acme/tool/not-an-id", json={"description": "x"}), 422, "tool_id")
    client.post(f"/v1/acme/tool/{tool_id}/envvar", json={"inserts": [{"name": "A", "value": "1", "is_secret": False}]})
    error(client.post(f"/v1/acme/tool/{tool_id}/envvar", json={"inserts": [{"name": "A", "value": "1", "is_secret": False}]}), 409, "already exists")
    error(client.post(f"/v1/acme/tool/{tool_id}/envvar", json={"deletes": [{"name": "MISSING"}]}), 400, "does not exist")
    error(client.post(f"/v1/acme/tool/{tool_id}/envvar", json={"inserts": [{"name": "lower", "value": SECRET, "is_secret": True}]}), 422, "name")
    assert SECRET not in client.post(f"/v1/acme/tool/{tool_id}/envvar", json={"inserts": [{"name": "lower", "value": SECRET, "is_secret": True}]}).text
    error(client.post(f"/v1/acme/tool/{tool_id}/version", json={"project_path": "nowhere", "bump_type": "major"}), 404, "project directory")
    error(client.post(f"/v1/acme/tool/{tool_id}/version", json={"project_path": "x", "bump_type": "huge"}), 422, "bump_type")
    error(client.post("/v1/acme/tool/test", json={"inputs": [spec_input({})], "commit_branch": "main", "project_path": "crm_account", "required_envvars": {"A": "1"}, "required_secret_envvars": {"A": "2"}}), 400, "both a secret and a non-secret")
    error(client.post("/v1/acme/tool/test", json={"inputs": [spec_input({})], "commit_branch": "nope", "project_path": "crm_account", "required_envvars": {}, "required_secret_envvars": {}}), 404, "branch 'nope'")
    error(client.post(f"/v1/acme/tool/{tool_id}/version/1.0.0/invoke", json={"inputs": []}), 422, "inputs")
    error(client.post(f"/v1/acme/tool/{tool_id}/version/1.0.0/invoke", json={"inputs": [spec_input({})]}), 404, "no active version")
    error(client.get("/v1/acme/tool/invocation", params=[("tool_id", tool_id), ("tool_id", "a" * 24), ("version", ">=1")]), 400, "same number of times")
    assert client.get("/v1/acme/tool/invocation/search", params={"query": '"unclosed', "query_against": "logs"}).status_code == 200  # plain text always searches
    error(client.get("/v1/acme/tool/invocation/search", params={"query_against": "logs"}), 422, "query")
    error(client.delete(f"/v1/acme/tool/{tool_id}/version/not-a-constraint"), 422, "PEP 440")
    error(client.get(f"/v1/acme/tool/{tool_id}/version", params={"limit": 51}), 422, "limit")


def test_authentication(api, service: ToolService) -> None:
    created = service.create_api_key("acme", "ada")
    key_id, secret = created.id, created.secret
    bad = httpx.post(f"{api.url}/v1/acme/user/signin_with_api_key", headers={"x-api-key": "wrong", "x-api-key-id": key_id, "x-user-id": "ada"})
    error(bad, 401, "invalid API key")
    service.create_api_key("other", "olga")
    error(httpx.post(f"{api.url}/v1/other/user/signin_with_api_key", headers={"x-api-key": secret, "x-api-key-id": key_id, "x-user-id": "ada"}), 401, "invalid API key")
    error(httpx.get(f"{api.url}/v1/acme/tool/"), 401, "missing credentials")
    error(httpx.get(f"{api.url}/v1/acme/tool/", headers={"Authorization": "Bearer forged.token"}), 401, "invalid token")
    with sign_in(api.url, service) as client:
        assert client.get("/v1/acme/tool/").status_code == 200
        assert client.get("/v1/acme/tool/", headers={"X-ORG-ID": "acme"}).status_code == 200
        error(client.get("/v1/acme/tool/", headers={"X-ORG-ID": "rival"}), 401, "X-ORG-ID")
        error(client.get("/v1/rival/tool/"), 403, "may not act on organization 'rival'")
        key = client.headers["Authorization"]
    for k in service.list_api_keys("acme"):
        service.revoke_api_key("acme", k.id)
    error(httpx.get(f"{api.url}/v1/acme/tool/", headers={"Authorization": key}), 401, "revoked")


def test_strict_rate_limits(service: ToolService, repo_path) -> None:
    running = Running(service, strict=True)
    try:
        with sign_in(running.url, service) as client:
            first = client.get("/v1/acme/tool/")
            assert first.headers["X-RateLimit-Limit"] == "50" and first.headers["X-RateLimit-Remaining"] == "49"
            statuses = [client.post("/v1/acme/tool/", json={"name": f"t{i}", "description": "d", "tags": {}}).status_code for i in range(21)]
            assert statuses == [201] * 20 + [429]
            limited = client.post("/v1/acme/tool/", json={"name": "one_more", "description": "d", "tags": {}})
            assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
            assert limited.headers["X-RateLimit-Remaining"] == "0" and "20 requests per minute" in limited.json()["detail"]
            assert client.get("/v1/acme/tool/").status_code == 200  # other endpoints keep their own budget
    finally:
        running.stop()
    unlimited = Running(service)
    try:
        with sign_in(unlimited.url, service) as client:
            assert all(client.get("/v1/acme/tool/").status_code == 200 for _ in range(60))  # off by default
    finally:
        unlimited.stop()


def test_a_slow_publish_does_not_block_other_requests_and_a_second_is_409(client: httpx.Client, service: ToolService, tools_repo) -> None:
    tools_repo.project("slow", checks=("python -c 'import time; time.sleep(8)'",))
    tool_id = client.post("/v1/acme/tool/", json={"name": "slow", "description": "d", "tags": {}}).json()["id"]
    checking = threading.Event()
    service.subscribe(lambda e: isinstance(e, PublishProgress) and e.tool_id == tool_id and e.stage == "checks" and e.state == "running" and checking.set())
    results = {}
    worker = threading.Thread(target=lambda: results.update(first=client.post(f"/v1/acme/tool/{tool_id}/version", json={"project_path": "slow", "bump_type": "major"})))
    worker.start()
    assert checking.wait(120), "the publish never reached its checks"
    assert client.get("/v1/acme/tool/").status_code == 200
    assert worker.is_alive()  # answered while the publish was still running its slow check
    error(client.post(f"/v1/acme/tool/{tool_id}/version", json={"project_path": "slow", "bump_type": "patch"}), 409, "in progress")
    error(client.delete(f"/v1/acme/tool/{tool_id}"), 409, "in progress")
    worker.join(60)
    assert results["first"].status_code == 201


def test_openapi_document_lists_every_endpoint(api) -> None:
    document = httpx.get(f"{api.url}/openapi.json").json()
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert operations == {
        "sign-in-with-api-key", "get-tool-scaffold-release", "create-tool", "get-tools", "test-tool", "get-tool-invocations",
        "search-tool-invocations", "modify-tool", "deprecate-tool", "modify-tool-envvars", "publish-tool-version",
        "get-tool-versions", "deprecate-tool-version", "invoke-tool-version",
        "check-context-graph", "simulate-scenario",  # the workbench's documented extras
        "get-tool-stats", "get-tool-stats-report", "get-tool-activity", "replay-invocation", "compare-tool-versions", "export-fixtures", "check-fixtures",
    }
    assert "/v1/{organization}/tool/{tool_id}/version/{version}/invoke" in document["paths"]


def test_history_pages_over_http(client: httpx.Client, service: ToolService) -> None:
    generate_invocations(service, "acme", 150, seed=4)
    first = client.get("/v1/acme/tool/invocation").json()
    assert len(first["tool_invocations"]) == 100 and first["has_more"] and first["continuation_token"] == 100
    second = client.get("/v1/acme/tool/invocation", params={"continuation_token": 100}).json()
    assert len(second["tool_invocations"]) == 50 and not second["has_more"] and second["continuation_token"] is None


def test_the_cli_main_flow_in_remote_mode(api, service: ToolService, run_cli, monkeypatch, tmp_path) -> None:
    import json as _json

    created = service.create_api_key("acme", "grace")
    key_id, secret = created.id, created.secret
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "elsewhere"))  # nothing local: all goes over HTTP
    monkeypatch.setenv("WORKBENCH_REMOTE", api.url)
    monkeypatch.setenv("WORKBENCH_API_KEY_ID", key_id)
    monkeypatch.setenv("WORKBENCH_API_KEY", secret)
    monkeypatch.setenv("WORKBENCH_USER", "grace")
    monkeypatch.setenv("WORKBENCH_ORG", "acme")
    code, out, err = run_cli("tool", "create", "crm_account", "--description", "Accounts", "--json")
    assert code == 0, err
    tool_id = _json.loads(out)["id"]
    assert run_cli("env", "set", "crm_account", "CRM_BASE_URL=https://crm")[0] == 0
    assert run_cli("env", "set", "crm_account", f"CRM_API_TOKEN={SECRET}", "--secret")[0] == 0
    code, out, err = run_cli("publish", "crm_account", "--path", "crm_account", "--bump", "major", "--json")
    assert code == 0 and _json.loads(out) == {"new_version": "1.0.0"}, err
    code, out, _ = run_cli("env", "list", "crm_account", "--json")
    assert [(v["name"], v["required_by"]) for v in _json.loads(out)] == [("CRM_API_TOKEN", ["1.0.0"]), ("CRM_BASE_URL", ["1.0.0"])]
    code, out, _ = run_cli("invoke", "crm_account", "1.0.0", "--input", '{"account_id": "c-17"}', "--mode", "conversation-simulation", "--json")
    assert _json.loads(out)["invocation_results"][0]["succeeded"] is True
    code, out, _ = run_cli("history", "--json", "--limit", "5")
    assert len(_json.loads(out)["tool_invocations"]) == 1 and SECRET not in out
    code, out, _ = run_cli("tool", "list")
    assert "crm_account" in out
    code, out, err = run_cli("publish", "crm_account", "--path", "crm_account", "--bump", "patch", "--branch", "team")
    assert code == 1 and "not available in remote mode" in err
    code, out, err = run_cli("deprecate", "crm_account", "--versions", ">=1")
    assert code == 0 and "deprecated 1.0.0" in out
    code, _, err = run_cli("tool", "create", "crm_account", "--description", "again")
    assert code == 1 and "HTTP 409 from the server" in err
    assert service.get_tool("acme", tool_id).secret_envvars == ["CRM_API_TOKEN"]  # it happened on the server
    assert not (tmp_path / "elsewhere" / "metadata.json").exists()
    monkeypatch.setenv("WORKBENCH_API_KEY", "wrong")
    code, _, err = run_cli("tool", "list")
    assert code == 1 and "invalid API key" in err


async def test_the_app_in_remote_mode_lists_the_servers_tools(api, service: ToolService, tmp_path) -> None:
    from textual.widgets import DataTable

    from workbench.remote.client import ToolsClient
    from workbench.remote.service import RemoteService
    from workbench.tui.app import WorkbenchApp
    from workbench.tui.themes import builtin_theme_dir

    service.create_tool("acme", {"name": "served", "description": "from the server", "tags": {}})
    created = service.create_api_key("acme", "ada")
    key_id, secret = created.id, created.secret
    remote = RemoteService(service.settings, ToolsClient(api.url, "acme", key_id, secret, "ada"))
    app = WorkbenchApp(remote, "acme", theme_dirs=[builtin_theme_dir()], config=tmp_path / "config", background_work=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == ["served"]


def test_server_and_cli_processes_write_one_data_directory_at_once(client: httpx.Client, service: ToolService, home) -> None:
    import json as _json
    import os
    import subprocess
    import sys

    env = {**os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_ORG": "acme", "WORKBENCH_RUNTIME": "process"}
    script = "import subprocess, sys\nfor i in range(15):\n    subprocess.run([sys.executable, '-m', 'workbench', 'tool', 'create', f'cli_{i}', '--description', 'd'], check=True)\n"
    cli = subprocess.Popen([sys.executable, "-c", script], env=env)
    over_http = [client.post("/v1/acme/tool/", json={"name": f"api_{i}", "description": "d", "tags": {}}).status_code for i in range(30)]
    assert cli.wait(180) == 0 and over_http == [201] * 30
    names, token = set(), 0
    while token is not None:
        page = client.get("/v1/acme/tool/", params={"limit": 20, "continuation_token": token}).json()
        names |= {t["name"] for t in page["tools"]}
        token = page["continuation_token"]
    assert names == {f"cli_{i}" for i in range(15)} | {f"api_{i}" for i in range(30)}
    _json.loads(service.workspace.paths.metadata.read_text())  # one valid document
