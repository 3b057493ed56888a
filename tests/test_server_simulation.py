"""The simulation endpoints over real HTTP, on a test app that mounts the router behind a guard
doing what the server's does (bearer token of the path's organization), and the remote service
that speaks to them."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import Depends, Header
from xml.etree import ElementTree

from simulation_org import ORG, published_samples, sample_request
from workbench.core.results import Identity
from workbench.core.service import ToolService
from workbench.remote.client import ToolsClient
from workbench.remote.service import RemoteService
from workbench.server.app import create_app
from workbench.server.simulation import simulation_router


def bearer_guard(service: ToolService):
    """Authenticate the bearer token and authorize the path's organization, as the app does."""

    def guard(operation: str):
        def dependency(organization: str, authorization: str | None = Header(default=None), x_org_id: str | None = Header(default=None)) -> Identity:
            scheme, _, token = (authorization or "").partition(" ")
            identity = service.authenticate(token if scheme.lower() == "bearer" else None)
            service.authorize(identity, organization, x_org_id)
            return identity

        return Depends(dependency)

    return guard


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ToolService, str]]:
    service = published_samples(tmp_path_factory.mktemp("served"))
    app = create_app(service, background_indexing=False)
    app.include_router(simulation_router(service, bearer_guard(service)))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield service, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def signed_in(service: ToolService, url: str, org: str = ORG) -> tuple[httpx.Client, str, str]:
    created = service.create_api_key(org, "ada")
    token = httpx.post(f"{url}/v1/{org}/user/signin_with_api_key", headers={"x-api-key": created.secret, "x-api-key-id": created.id, "x-user-id": "ada"}).json()["id_token"]
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120), created.id, created.secret


def test_simulate_and_check_over_http(served: tuple[ToolService, str]) -> None:
    service, url = served
    request = sample_request(service, "regular_lookup").model_dump(mode="json")
    client, _, _ = signed_in(service, url)
    with client:
        response = client.post(f"/v1/{ORG}/workbench/simulation", json=request)
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["scenario"] == "regular_lookup" and [t["expectations"][0]["passed"] for t in report["runs"][0]["turns"]] == [True, True]
        assert {t["source"]["user_id"] for t in report["runs"][0]["turns"]} == {"customer_42"}
        conversation = report["runs"][0]["conversation_id"]
        listed = client.get(f"/v1/{ORG}/tool/invocation", params={"conversation_id": conversation}).json()["tool_invocations"]
        assert sorted(i["id"] for i in listed) == sorted(t["invocation_id"] for t in report["runs"][0]["turns"])
        junit = client.post(f"/v1/{ORG}/workbench/simulation", params={"report": "junit"}, json=request)
        assert junit.headers["content-type"].startswith("application/xml")
        assert ElementTree.fromstring(junit.text).get("tests") == "2"
        check = client.post(f"/v1/{ORG}/workbench/graph/check", json=request["graph"]).json()
        assert check["problems"] == [] and len(check["specs"]) == 9
        broken = {**request, "scenario": {**request["scenario"], "turns": [{"state": "nowhere", "tool": "x"}]}}
        refused = client.post(f"/v1/{ORG}/workbench/simulation", json=broken)
        assert refused.status_code == 400 and "turn 1: the graph has no state 'nowhere'" in refused.json()["detail"]
        invalid = client.post(f"/v1/{ORG}/workbench/simulation", json={**request, "runs": 0})
        assert invalid.status_code == 422 and "runs" in invalid.json()["detail"]


def test_the_same_auth_as_every_operation(served: tuple[ToolService, str]) -> None:
    service, url = served
    request = sample_request(service, "regular_lookup").model_dump(mode="json")
    anonymous = httpx.post(f"{url}/v1/{ORG}/workbench/simulation", json=request)
    assert anonymous.status_code == 401 and "missing credentials" in anonymous.json()["detail"]
    before = service.count_invocations(ORG)
    other, _, _ = signed_in(service, url, org="other")
    with other:
        forbidden = other.post(f"/v1/{ORG}/workbench/simulation", json=request)
        assert forbidden.status_code == 403
        assert other.post(f"/v1/{ORG}/workbench/graph/check", json=request["graph"]).status_code == 403
    assert service.count_invocations(ORG) == before


def test_the_remote_service_runs_scenarios_on_the_server(served: tuple[ToolService, str], tmp_path: Path) -> None:
    service, url = served
    _, key_id, secret = signed_in(service, url)
    remote = RemoteService(service.settings, ToolsClient(url, ORG, key_id, secret, "ada"))
    request = remote.read_scenario_file(service.settings.tools_repo_path() / "simulations" / "large_reports.scenario.yaml")
    report = remote.simulate(ORG, request)
    assert report.passed and report.simulation_unit_test_set_run_id
    recorded = service.list_invocations(ORG, {"simulation_unit_test_set_run_id": [report.simulation_unit_test_set_run_id]}).tool_invocations
    assert len(recorded) == 6 and {i.invocation_source.type for i in recorded} == {"simulation-conversation"}
    assert remote.check_graph(ORG, request.graph).ok
