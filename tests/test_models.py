"""The models mirror the API's shapes: the JSON keys of the official SDK's generated models (always)
and of tools-openapi.json (where it is present), plus the seed's and the workbench's documented
extras."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from amigo_sdk.generated import model as sdk_models

from workbench.core import models, requests
from workbench.names import new_id

# (our model, the OpenAPI schema it mirrors, the SDK's model of it, keys the seed document or the
# workbench adds)
MIRRORS = [
    (models.ToolInstance, "ToolInstance", "ToolInstance", set()),
    (models.Tag, "Tag", "Tag", set()),
    (models.ToolVersionInstance, "ToolVersionInstance", "ToolVersionInstance", {"tool_repo"}),
    (models.Version, "Version", "Version", set()),
    (models.ToolInvocationInstance, "ToolInvocationInstance", "ToolInvocationInstance", {"logs"}),
    (models.SucceededInvocationStatus, "SucceededInvocationStatus", "SucceededInvocationStatus", set()),
    (models.FailedInvocationStatus, "FailedInvocationStatus", "FailedInvocationStatus", set()),
    (models.RegularConversationInvocationSource, "RegularConversationInvocationSource", "RegularConversationInvocationSource", set()),
    (models.SimulationConversationInvocationSource, "SimulationConversationInvocationSource", "SimulationConversationInvocationSource", set()),
    (models.StateTransitionInvocationMetadata, "StateTransitionInvocationMetadata", "StateTransitionInvocationMetadata", set()),
    (models.EngageUserInvocationMetadata, "EngageUserInvocationMetadata", "EngageUserInvocationMetadata", set()),
    (models.ToolCallStateInvocationMetadata, "ToolCallStateInvocationMetadata", "ToolCallStateInvocationMetadata", set()),
    (models.Input, "Input", "Input", set()),
    (models.SucceededInvocationResult, "SucceededInvocationResult", "SucceededInvocationResult", set()),
    (models.FailedInvocationResult, "FailedInvocationResult", "FailedInvocationResult", set()),
    (models.ToolUserInfo, "amigo_lib__mongo__collections__tool__Tool__UserInfo", "MongoCollectionsToolToolUserInfo", set()),
    (models.VersionUserInfo, "amigo_lib__mongo__collections__tool_version__ToolVersion__UserInfo", "MongoCollectionsToolVersionToolVersionUserInfo", set()),
    (requests.CreateToolRequest, "src__app__endpoints__tool__create_tool__Request", "ToolCreateToolRequest", set()),
    (requests.CreateToolResponse, "src__app__endpoints__tool__create_tool__Response", "ToolCreateToolResponse", set()),
    (requests.ModifyToolRequest, "src__app__endpoints__tool__modify_tool__Request", "ToolModifyToolRequest", set()),
    (requests.ModifyEnvVarsRequest, "src__app__endpoints__tool__modify_tool_envvars__Request", "ToolModifyToolEnvvarsRequest", set()),
    (requests.EnvVarInsert, "InsertRequest", "InsertRequest", set()),
    (requests.EnvVarUpdate, "UpdateRequest", "UpdateRequest", set()),
    (requests.EnvVarDelete, "src__app__endpoints__tool__modify_tool_envvars__Request__DeleteRequest", "ToolModifyToolEnvvarsRequestDeleteRequest", set()),
    (requests.ListToolsResponse, "src__app__endpoints__tool__get_tools__Response", "ToolGetToolsResponse", set()),
    (requests.ToolFilterValues, "src__app__endpoints__tool__get_tools__Response__FilterValues", "ToolGetToolsResponseFilterValues", set()),
    (requests.ListVersionsResponse, "src__app__endpoints__tool__get_tool_versions__Response", "ToolGetToolVersionsResponse", set()),
    (requests.VersionFilterValues, "src__app__endpoints__tool__get_tool_versions__Response__FilterValues", "ToolGetToolVersionsResponseFilterValues", set()),
    (requests.ListInvocationsResponse, "src__app__endpoints__tool__get_tool_invocations__Response", "ToolGetToolInvocationsResponse", set()),
    (requests.SearchInvocationsResponse, "src__app__endpoints__tool__search_tool_invocations__Response", "ToolSearchToolInvocationsResponse", {"has_more"}),
    (requests.InvokeRequest, "src__app__endpoints__tool__invoke_tool_version__Request", "ToolInvokeToolVersionRequest", set()),
    (requests.InvokeResponse, "src__app__endpoints__tool__invoke_tool_version__Response", "ToolInvokeToolVersionResponse", set()),
    (requests.TestToolRequest, "src__app__endpoints__tool__test_tool__Request", "ToolTestToolRequest", set()),
    (requests.PublishRequest, "src__app__endpoints__tool__publish_tool_version__Request", "ToolPublishToolVersionRequest", {"repo"}),
    (requests.PublishResponse, "src__app__endpoints__tool__publish_tool_version__Response", "ToolPublishToolVersionResponse", set()),
]


@pytest.mark.parametrize(("model", "schema_name", "sdk_name", "seed_extras"), MIRRORS, ids=lambda x: getattr(x, "__name__", None))
def test_model_has_exactly_the_sdks_keys(model, schema_name: str, sdk_name: str, seed_extras: set[str]) -> None:
    sdk_model = getattr(sdk_models, sdk_name)
    sdk_keys = {field.alias or name for name, field in sdk_model.model_fields.items()}
    our_keys = {field.alias or name for name, field in model.model_fields.items()}
    assert our_keys == sdk_keys | seed_extras


@pytest.mark.parametrize(("model", "schema_name", "sdk_name", "seed_extras"), MIRRORS, ids=lambda x: getattr(x, "__name__", None))
def test_model_has_exactly_the_api_keys(openapi: dict[str, Any], model, schema_name: str, sdk_name: str, seed_extras: set[str]) -> None:
    schema = openapi["components"]["schemas"][schema_name]
    api_keys = set(schema["properties"])
    our_keys = {field.alias or name for name, field in model.model_fields.items()}
    assert our_keys == api_keys | seed_extras
    # every key the API requires, we require too (or give the seed's default)
    for key in schema.get("required", []):
        assert key in our_keys


def invocation(status: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "a" * 24,
        "org_id": "acme",
        "created_at": "2025-12-03T05:34:10.220Z",
        "updated_at": "2025-12-03T05:34:10.220Z",
        "invocation_status": status,
        "invocation_source": source,
        "logs": ["started", "done"],
        "duration_ms": 12,
        "tool_id": "b" * 24,
        "tool_version": {"major": 1, "minor": 2, "patch": 3},
        "inputs": {"order": "A-1"},
    }


STATE_TRANSITION = {
    "type": "state-transition",
    "current_state_machine_and_version": ["sm", 3],
    "state_name": "greet",
    "state_transition_index": 1,
    "tool_call_round_index": 2,
}
ENGAGE_USER = {"type": "engage-user", "current_state_machine_and_version": ["sm", 3], "tool_call_round_index": 1}
TOOL_CALL_STATE = {"type": "tool-call-state", "current_state_machine_and_version": ["sm", 3], "state_name": "lookup"}


@pytest.mark.parametrize("metadata", [STATE_TRANSITION, ENGAGE_USER, TOOL_CALL_STATE], ids=lambda m: m["type"])
def test_invocation_round_trips_every_variant(metadata: dict[str, Any]) -> None:
    regular = {"type": "regular-conversation", "user_id": "u1", "conversation_id": "c1", "interaction_id": None, "invocation_metadata": metadata}
    simulation = {"type": "simulation-conversation", "simulation_unit_test_set_run_id": "r1", "unit_test_id": "t1", "run_index": 0, "invocation_metadata": metadata}
    ok = {"succeeded": True, "output": "fine"}
    failed = {"succeeded": False, "exception_message": "boom", "exception_type": "ValueError", "exception_stack_trace": ["line 1", "line 2"]}
    for status in (ok, failed):
        for source in (regular, simulation):
            raw = invocation(status, source)
            parsed = models.ToolInvocationInstance.model_validate(raw)
            dumped = parsed.model_dump(mode="json")
            assert dumped["invocation_status"] == status
            assert dumped["invocation_source"]["invocation_metadata"] == metadata
            assert dumped["invocation_source"] == source
            assert dumped["logs"] == ["started", "done"]
    assert isinstance(models.ToolInvocationInstance.model_validate(invocation(failed, regular)).invocation_status, models.FailedInvocationStatus)


def test_unknown_variants_and_keys_are_rejected() -> None:
    with pytest.raises(ValidationError):
        models.ToolInvocationInstance.model_validate(invocation({"succeeded": True, "output": "x"}, {"type": "phone-call"}))
    with pytest.raises(ValidationError):
        models.Tag.model_validate({"key": "a", "value": "b", "colour": "red"})


def test_request_bodies_ignore_unknown_keys_as_the_hosted_api_does() -> None:
    parsed = requests.CreateToolRequest.model_validate({"name": "a", "description": "d", "tags": {}, "colour": "red"})
    assert "colour" not in parsed.model_dump()


@pytest.mark.parametrize("origin", models.INVOCATION_ORIGINS)
@pytest.mark.parametrize("mode", ["regular", "conversation-simulation"])
def test_the_workbenchs_own_runs_are_spec_sources_that_name_their_origin(origin, mode) -> None:
    raw = invocation({"succeeded": True, "output": "x"}, models.workbench_source(origin, "ada", mode))
    parsed = models.ToolInvocationInstance.model_validate(raw)
    assert parsed.invocation_source.type == ("simulation-conversation" if mode == "conversation-simulation" else "regular-conversation")
    assert models.invocation_origin(parsed.invocation_source) == origin
    sdk_models.ToolInvocationInstance.model_validate(parsed.model_dump(mode="json"))  # the SDK takes it


def test_an_older_workbench_source_reads_as_a_regular_conversation_of_its_user() -> None:
    raw = invocation({"succeeded": True, "output": "x"}, {"type": "workbench", "user_id": "ada", "interface": "tui"})
    source = models.ToolInvocationInstance.model_validate(raw).invocation_source
    assert isinstance(source, models.RegularConversationInvocationSource) and source.user_id == "ada"
    assert models.invocation_origin(source) == "app"
    agent = models.ToolInvocationInstance.model_validate(invocation({"succeeded": True, "output": "x"}, {"type": "regular-conversation", "user_id": "u", "conversation_id": None, "interaction_id": None, "invocation_metadata": TOOL_CALL_STATE}))
    assert models.invocation_origin(agent.invocation_source) is None


def test_input_defaults_user_variables_and_checks_their_names() -> None:
    parsed = models.Input.model_validate({"input_parameters": {"q": 1}, "invocation_mode": "regular"})
    assert parsed.nonsensitive_user_variables == {} and parsed.sensitive_user_variables == {}
    with pytest.raises(ValidationError):
        models.Input.model_validate({"input_parameters": {}, "invocation_mode": "regular", "sensitive_user_variables": {"Bad-Name": "x"}})
    with pytest.raises(ValidationError):
        models.Input.model_validate({"input_parameters": {}, "invocation_mode": "batch"})
    with pytest.raises(ValidationError):
        models.Input.model_validate({"input_parameters": {}, "invocation_mode": "regular", "nonsensitive_user_variables": {f"v_{i}": "x" for i in range(21)}})


def test_invocation_results_are_discriminated_by_succeeded() -> None:
    adapter = TypeAdapter(models.InvocationResult)
    assert isinstance(adapter.validate_python({"succeeded": True, "output": "x", "duration_ms": 3}), models.SucceededInvocationResult)
    failed = adapter.validate_python({"succeeded": False, "exception_message": "m", "exception_type": "T", "exception_stack_trace": [], "duration_ms": 3})
    assert isinstance(failed, models.FailedInvocationResult)


def test_new_ids_are_24_hex_characters() -> None:
    ids = {new_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 24 and int(i, 16) >= 0 and i == i.lower() for i in ids)
