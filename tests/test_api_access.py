"""Over real HTTP: the sources invocations are recorded with (the spec's, naming the face that ran
them), Basic authentication wherever Bearer works, and API key roles with a permission per
endpoint."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import httpx
import pytest
from amigo_sdk.generated import model as sdk
from served import SECRET, error, sign_in, spec_input, token

from workbench.core.models import ToolInvocationInstance, invocation_origin
from workbench.core.service import ToolService


@pytest.fixture
def published(service: ToolService, served) -> str:
    """crm_account 1.0.0 with its variables, published by an admin over HTTP."""
    with sign_in(served.url, service) as admin:
        tool_id = admin.post("/v1/acme/tool/", json={"name": "crm_account", "description": "Accounts", "tags": {}}).json()["id"]
        inserts = [{"name": "CRM_BASE_URL", "value": "u", "is_secret": False}, {"name": "CRM_API_TOKEN", "value": SECRET, "is_secret": True}]
        assert admin.post(f"/v1/acme/tool/{tool_id}/envvar", json={"inserts": inserts}).status_code == 204
        assert admin.post(f"/v1/acme/tool/{tool_id}/version", json={"project_path": "crm_account", "bump_type": "major"}).status_code == 201
    return tool_id


# -- 1. invocation sources ----------------------------------------------------------------------


def test_runs_over_http_are_spec_sources_that_the_sdk_reads_and_that_name_the_api(served, service: ToolService, published: str, run_cli) -> None:
    with sign_in(served.url, service) as client:
        inputs = [spec_input({"account_id": "c-1"}), spec_input({"account_id": "c-2"}, "conversation-simulation")]
        assert client.post(f"/v1/acme/tool/{published}/version/1.0.0/invoke", json={"inputs": inputs}).status_code == 200
        service.invoke_version("acme", published, "1.0.0", {"inputs": [{"input_parameters": {"account_id": "c-3"}, "invocation_mode": "regular"}]}, origin="app")
        older = {**next(iter(service.workspace.invocations)), "id": "e" * 24, "created_at": "2099-01-01T00:00:00Z"}
        older["invocation_source"] = {"type": "workbench", "user_id": "ada", "interface": "cli"}  # as an older workbench recorded it
        service.workspace.invocations.append_many([(older, datetime.now(UTC))])
        page = client.get("/v1/acme/tool/invocation")
        history = sdk.ToolGetToolInvocationsResponse.model_validate(page.json())  # used to fail: union_tag_invalid
        assert len(history.tool_invocations) == 4
        ours = [ToolInvocationInstance.model_validate(i) for i in page.json()["tool_invocations"]]
        assert sorted((i.invocation_source.type, invocation_origin(i.invocation_source)) for i in ours) == [
            ("regular-conversation", "api"), ("regular-conversation", "app"), ("regular-conversation", "cli"), ("simulation-conversation", "api"),
        ]
        regular = client.get("/v1/acme/tool/invocation", params={"invocation_source_type": "regular-conversation"}).json()["tool_invocations"]
        assert len(regular) == 3 and {i["invocation_source"]["user_id"] for i in regular} >= {"ada"}
        for outside in ("workbench", "conversation", "phone"):
            error(client.get("/v1/acme/tool/invocation", params={"invocation_source_type": outside}), 422, "invocation_source_type")
            error(client.get("/v1/acme/tool/invocation/search", params={"query": "x", "query_against": "logs", "invocation_source_type": outside}), 422, "regular-conversation")
    code, out, _ = run_cli("history", "--org", "acme", "--source-type", "regular-conversation")
    assert code == 0 and "regular-conversation (api)" in out and "regular-conversation (app)" in out
    code, _, err = run_cli("history", "--org", "acme", "--source-type", "workbench")
    assert code == 2 and "regular-conversation" in err


# -- 4. Basic authentication --------------------------------------------------------------------


def basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def test_basic_authentication_works_wherever_bearer_does(served, service: ToolService, published: str) -> None:
    bearer = token(served.url, service, user="ada_lovelace")
    as_basic = basic("acme_ada_lovelace", bearer)
    assert httpx.get(f"{served.url}/v1/acme/tool/", headers=as_basic).json()["tools"][0]["id"] == published
    invoked = httpx.post(f"{served.url}/v1/acme/tool/{published}/version/1.0.0/invoke", headers=as_basic, json={"inputs": [spec_input({"account_id": "c-9"})]}, timeout=60)
    assert invoked.status_code == 200
    assert httpx.get(f"{served.url}/v1/acme/tool/invocation", headers={**as_basic, "X-ORG-ID": "acme"}).json()["tool_invocations"][0]["invocation_source"]["user_id"] == "ada_lovelace"
    error(httpx.get(f"{served.url}/v1/acme/tool/", headers=basic("acme_grace", bearer)), 401, "{org_id}_{user_id}")
    error(httpx.get(f"{served.url}/v1/acme/tool/", headers=basic("acme_ada_lovelace", "forged.token")), 401, "invalid token")
    error(httpx.get(f"{served.url}/v1/acme/tool/", headers={"Authorization": "Basic !!not-base64!!"}), 401, "base64")
    error(httpx.get(f"{served.url}/v1/acme/tool/", headers={"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}), 401, "base64")


# -- 5. roles and permissions -------------------------------------------------------------------


def test_each_role_may_do_what_it_grants_and_gets_403_naming_the_rest(served, service: ToolService, published: str) -> None:
    with sign_in(served.url, service, role="viewer") as viewer:
        assert viewer.get("/v1/acme/tool/").status_code == 200 and viewer.get("/v1/acme/tool/invocation").status_code == 200
        assert viewer.get("/v1/acme/tool/invocation/search", params={"query": "x", "query_against": "logs"}).status_code == 200
        error(viewer.post("/v1/acme/tool/", json={"name": "nope", "description": "d", "tags": {}}), 403, "Missing required permissions: Tool:CreateTool")
        error(viewer.post(f"/v1/acme/tool/{published}/version/1.0.0/invoke", json={"inputs": [spec_input({"account_id": "c"})]}), 403, "Tool:InvokeTool")
    with sign_in(served.url, service, role="developer") as developer:
        tool_id = developer.post("/v1/acme/tool/", json={"name": "dev_tool", "description": "d", "tags": {}}).json()["id"]
        assert developer.post(f"/v1/acme/tool/{published}/version/1.0.0/invoke", json={"inputs": [spec_input({"account_id": "c"})]}).status_code == 200
        assert developer.post(f"/v1/acme/tool/{published}/envvar", json={"updates": [{"name": "CRM_BASE_URL", "value": "v"}]}).status_code == 204
        error(developer.post(f"/v1/acme/tool/{published}/envvar", json={"updates": [{"name": "CRM_API_TOKEN", "value": "x"}]}), 403, "Tool:ManageSecrets")
        error(developer.post(f"/v1/acme/tool/{tool_id}/envvar", json={"inserts": [{"name": "KEY", "value": "x", "is_secret": True}]}), 403, "Tool:ManageSecrets")
        error(developer.delete(f"/v1/acme/tool/{tool_id}"), 403, "Missing required permissions: Tool:DeleteTool")
        assert developer.delete(f"/v1/acme/tool/{published}/version/1.0.0").status_code == 204  # Tool:ModifyTool, as the spec says
    with sign_in(served.url, service, role="admin") as admin:
        assert admin.post(f"/v1/acme/tool/{tool_id}/envvar", json={"inserts": [{"name": "KEY", "value": "x", "is_secret": True}]}).status_code == 204
        assert admin.delete(f"/v1/acme/tool/{tool_id}").status_code == 204


def test_keys_stored_before_roles_read_as_admin_and_roles_show_in_the_cli(served, service: ToolService, run_cli, home) -> None:
    older = service.create_api_key("acme", "old_timer")
    metadata = home / "metadata.json"
    stored = json.loads(metadata.read_text())
    for record in stored["api_keys"].values():
        record.pop("role", None)  # as a workbench before roles stored it
    metadata.write_text(json.dumps(stored))
    assert [k.role for k in service.list_api_keys("acme") if k.id == older.id] == ["admin"]
    signed_in = httpx.post(f"{served.url}/v1/acme/user/signin_with_api_key", headers={"x-api-key": older.secret, "x-api-key-id": older.id, "x-user-id": "old_timer"})
    with httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {signed_in.json()['id_token']}"}) as client:
        tool_id = client.post("/v1/acme/tool/", json={"name": "legacy", "description": "d", "tags": {}}).json()["id"]
        assert client.delete(f"/v1/acme/tool/{tool_id}").status_code == 204
    code, out, err = run_cli("apikey", "create", "--org", "acme", "--user", "viv", "--role", "viewer", "--json")
    assert code == 0 and json.loads(out)["role"] == "viewer", err
    code, out, _ = run_cli("apikey", "list", "--org", "acme")
    assert code == 0 and "ROLE" in out and "viewer" in out and "admin" in out and json.loads(run_cli("apikey", "list", "--org", "acme", "--json")[1])[0]["role"]
    assert "secret_sha256" not in out and older.secret not in metadata.read_text()  # stored hashed
    code, _, err = run_cli("apikey", "create", "--org", "acme", "--role", "owner")
    assert code == 2 and "viewer" in err
