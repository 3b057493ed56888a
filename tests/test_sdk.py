"""A program written for the hosted Tools API, unchanged, against ``workbench serve``: the official
SDK (``amigo_sdk``) signs in and drives every operation, and its own generated models — made from
the same OpenAPI document — accept every response. A fresh clone checks the contract this way, with
no copy of the document."""

from __future__ import annotations

import threading

import httpx
import pytest
from amigo_sdk.config import AmigoConfig
from amigo_sdk.errors import AuthenticationError, ConflictError, ForbiddenError, NotFoundError, ValidationError
from amigo_sdk.generated import model as sdk
from amigo_sdk.http_client import AmigoHttpClient
from served import SECRET

from workbench.core.events import IndexProgress
from workbench.core.service import ToolService
from workbench.synthetic import generate_invocations


def sdk_client(url: str, service: ToolService, role: str = "admin", user: str = "ada") -> AmigoHttpClient:
    created = service.create_api_key("acme", user, role=role)
    config = AmigoConfig(api_key=created.secret, api_key_id=created.id, user_id=user, organization_id="acme", base_url=url)
    return AmigoHttpClient(config, timeout=120, retry_max_attempts=1)


def sdk_input(parameters: dict, mode: str = "regular") -> sdk.Input:
    return sdk.Input(input_parameters=parameters, invocation_mode=sdk.InvocationMode(mode), nonsensitive_user_variables={}, sensitive_user_variables={})


def body(model) -> dict:
    """A request as the SDK's model serializes it."""
    return model.model_dump(mode="json", exclude_none=True)


def test_the_sdk_drives_every_operation_and_its_models_accept_every_response(served, service: ToolService) -> None:
    indexed = threading.Event()
    service.subscribe(lambda e: isinstance(e, IndexProgress) and e.done >= e.total > 0 and indexed.set())
    with sdk_client(served.url, service) as http:
        create = {**body(sdk.ToolCreateToolRequest(name="crm_account", description="Accounts", tags={})), "tags": {"team": "sales"}}  # its tag keys are unhashable
        created = sdk.ToolCreateToolResponse.model_validate(http.request("POST", "/v1/acme/tool/", json=create).json())
        tool_id = created.id
        tools = sdk.ToolGetToolsResponse.model_validate(http.request("GET", "/v1/acme/tool/", params={"id": [tool_id], "tag": ["team:sales"]}).json())
        assert [t.name for t in tools.tools] == ["crm_account"] and tools.filter_values is not None
        assert http.request("POST", f"/v1/acme/tool/{tool_id}", json=body(sdk.ToolModifyToolRequest(description="Account summaries"))).status_code == 204
        variables = sdk.ToolModifyToolEnvvarsRequest(inserts=[sdk.InsertRequest(name="CRM_BASE_URL", value="u", is_secret=False), sdk.InsertRequest(name="CRM_API_TOKEN", value=SECRET, is_secret=True)])
        assert http.request("POST", f"/v1/acme/tool/{tool_id}/envvar", json=body(variables)).status_code == 204
        test = sdk.ToolTestToolRequest(inputs=[sdk_input({"account_id": "c-17"})], commit_branch="main", project_path="crm_account", required_envvars={"CRM_BASE_URL": "u"}, required_secret_envvars={"CRM_API_TOKEN": SECRET})
        tested = sdk.ToolTestToolResponse.model_validate(http.request("POST", "/v1/acme/tool/test", json=body(test)).json())
        assert tested.invocation_results[0].root.succeeded is True
        publish = sdk.ToolPublishToolVersionRequest(project_path="crm_account", bump_type="major")
        assert sdk.ToolPublishToolVersionResponse.model_validate(http.request("POST", f"/v1/acme/tool/{tool_id}/version", json=body(publish)).json()).new_version == "1.0.0"
        versions = sdk.ToolGetToolVersionsResponse.model_validate(http.request("GET", f"/v1/acme/tool/{tool_id}/version", params={"versions": ">=1"}).json())
        assert [v.version.major for v in versions.tool_versions] == [1]
        invoke = sdk.ToolInvokeToolVersionRequest(inputs=[sdk_input({"account_id": "c-17"}), sdk_input({"account_id": "c-2"}, "conversation-simulation")])
        results = sdk.ToolInvokeToolVersionResponse.model_validate(http.request("POST", f"/v1/acme/tool/{tool_id}/version/1.0.0/invoke", json=body(invoke)).json())
        assert [r.root.succeeded for r in results.invocation_results] == [True, True]
        history = sdk.ToolGetToolInvocationsResponse.model_validate(http.request("GET", "/v1/acme/tool/invocation", params={"tool_id": [tool_id], "version": [">=1"]}).json())
        assert {type(i.invocation_source.root).__name__ for i in history.tool_invocations} == {"RegularConversationInvocationSource", "SimulationConversationInvocationSource"}
        assert SECRET not in str(history.model_dump())
        assert indexed.wait(60), "the server's background indexer never caught up"
        search = sdk.SearchToolInvocationsParametersQuery(query="gold", query_against=[sdk.QueryAgainstEnum.invocation_status_output])
        found = sdk.ToolSearchToolInvocationsResponse.model_validate(http.request("GET", "/v1/acme/tool/invocation/search", params=body(search)).json())
        assert len(found.tool_invocations) >= 1
        assert http.request("GET", "/v1/acme/tool/amigo_tool_scaffold.tar.gz").content[:2] == b"\x1f\x8b"
        assert http.request("DELETE", f"/v1/acme/tool/{tool_id}/version/%3E%3D1").status_code == 204
        assert http.request("DELETE", f"/v1/acme/tool/{tool_id}").status_code == 204


def test_a_generated_history_reads_through_the_sdks_models_page_by_page(served, service: ToolService) -> None:
    generate_invocations(service, "acme", 230, seed=7)
    with sdk_client(served.url, service, role="viewer") as http:
        seen, token = 0, 0
        while token is not None:
            page = sdk.ToolGetToolInvocationsResponse.model_validate(http.request("GET", "/v1/acme/tool/invocation", params={"limit": 100, "continuation_token": token}).json())
            seen += len(page.tool_invocations)
            token = page.continuation_token
        assert seen == 230
        empty = sdk.ToolGetToolInvocationsResponse.model_validate(http.request("GET", "/v1/acme/tool/invocation", params={"limit": 0}).json())
        assert empty.tool_invocations == [] and empty.has_more is False and empty.continuation_token is None


def test_the_sdk_raises_its_own_errors_with_the_servers_messages(served, service: ToolService) -> None:
    with sdk_client(served.url, service, role="viewer") as viewer:
        with pytest.raises(ForbiddenError, match="Missing required permissions: Tool:CreateTool") as denied:
            viewer.request("POST", "/v1/acme/tool/", json={"name": "x", "description": "d", "tags": {}})
        assert denied.value.error_code == "forbidden"
        with pytest.raises(NotFoundError, match="does not exist"):
            viewer.request("GET", f"/v1/acme/tool/{'f' * 24}/version")
        with pytest.raises(ValidationError, match="query_against") as invalid:
            viewer.request("GET", "/v1/acme/tool/invocation/search", params={"query": "x"})
        assert invalid.value.error_code == "validation_error"
    with sdk_client(served.url, service) as admin:
        admin.request("POST", "/v1/acme/tool/", json={"name": "dup", "description": "d", "tags": {}})
        with pytest.raises(ConflictError, match="already exists"):
            admin.request("POST", "/v1/acme/tool/", json={"name": "dup", "description": "d", "tags": {}})
    config = AmigoConfig(api_key="wrong", api_key_id="nope", user_id="ada", organization_id="acme", base_url=served.url)
    with AmigoHttpClient(config, retry_max_attempts=1) as stranger, pytest.raises(AuthenticationError):
        stranger.request("GET", "/v1/acme/tool/")
    assert httpx.get(f"{served.url}/v1/acme/tool/").status_code == 401
