"""Over real HTTP: search answers with its documented codes, every error has the one body and the
spec's status, and the limits that protect the store hold (sizes, text, tokens, pages)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
from datetime import UTC, datetime

import httpx
import pytest
from served import error, sign_in, spec_input

from workbench.core.service import ToolService
from workbench.core.sizes import MAX_BODY_BYTES, MAX_DESCRIPTION
from workbench.synthetic import generate_invocations


@pytest.fixture
def client(served, service: ToolService) -> httpx.Client:
    with sign_in(served.url, service) as c:
        yield c


# -- 2. search's status side ----------------------------------------------------------------------


def test_search_needs_query_against_answers_what_people_type_and_says_when_more_match(client: httpx.Client, service: ToolService) -> None:
    generate_invocations(service, "acme", 120, seed=5)
    service.catch_up_index()
    error(client.get("/v1/acme/tool/invocation/search", params={"query": "timeout"}), 422, "query_against")
    everything = [("query_against", f) for f in ("invocation_status.output", "invocation_status.exception_message", "logs")]
    for typed in ('"unclosed', "(a OR b", "colour:red", "the", "!!!", "   "):
        found = client.get("/v1/acme/tool/invocation/search", params=[("query", typed), *everything])
        assert found.status_code == 200 and set(found.json()) == {"tool_invocations", "has_more"}, found.text
    blank = client.get("/v1/acme/tool/invocation/search", params=[("query", ""), ("limit", 10), *everything]).json()
    assert len(blank["tool_invocations"]) == 10 and blank["has_more"] is True  # the filters alone select
    few = client.get("/v1/acme/tool/invocation/search", params=[("query", ""), ("limit", 100), ("succeeded", "false"), *everything]).json()
    assert few["has_more"] is False and all(not i["invocation_status"]["succeeded"] for i in few["tool_invocations"])


# -- 3. status codes and error bodies --------------------------------------------------------------


def test_every_error_has_the_one_body_and_the_specs_status(served, client: httpx.Client, service: ToolService) -> None:
    tool_id = client.post("/v1/acme/tool/", json={"name": "t", "description": "d", "tags": {}}).json()["id"]
    error(client.post(f"/v1/acme/tool/{tool_id}/version", json={"project_path": "x", "bump_type": "huge"}), 422, "bump_type")
    error(client.post(f"/v1/acme/tool/{tool_id}/version/1.0.0/invoke", json={"inputs": [{**spec_input({}), "invocation_mode": "batch"}]}), 422, "invocation_mode")
    error(client.get("/v1/acme/tool/invocation/search", params={"query": "x", "query_against": "inputs"}), 422, "query_against")
    keyless = httpx.post(f"{served.url}/v1/acme/user/signin_with_api_key", headers={"x-api-key": "k", "x-user-id": "ada"})
    error(keyless, 422, "x-api-key-id")
    nowhere = httpx.post(f"{served.url}/v1/nowhere/user/signin_with_api_key", headers={"x-api-key": "k", "x-api-key-id": "i", "x-user-id": "u"})
    error(nowhere, 404, "Specified organization is not found")
    error(client.post("/v1/acme/tool/", content=b'{"name": "\xff\xfe"}', headers={"content-type": "application/json"}), 422, "not UTF-8")
    error(client.post("/v1/acme/tool/", content=b"[" * 100_000 + b"]" * 100_000, headers={"content-type": "application/json"}), 422, "nests deeper than 32")
    error(client.post("/v1/acme/tool/", content=b"{not json", headers={"content-type": "application/json"}), 422, "not valid JSON")
    error(client.get("/v1/acme/nothing/here"), 404, "no such endpoint")
    wrong = error(client.put("/v1/acme/tool/"), 405, "PUT is not allowed")
    assert wrong["code"] == "method_not_allowed" and client.put("/v1/acme/tool/").headers["Allow"] == "GET, POST"
    assert client.delete("/v1/acme/tool/test").headers["Allow"] == "POST"  # "test" is not a tool id
    error(client.post("/v1/acme/tool/not-an-id", json={}), 422, "is not a tool id")
    assert client.get("/v1/acme/tool/", params={"colour": "red"}).status_code == 200  # unknown parameters are ignored, as hosted


# -- 6. limits that protect the store ------------------------------------------------------------------


def test_sizes_are_enforced_at_the_door(served, client: httpx.Client) -> None:
    error(client.post("/v1/acme/tool/", json={"name": "t", "description": "d" * 5_000_000, "tags": {}}), 413, "at most 1,048,576 bytes")
    error(client.post("/v1/acme/tool/", json={"name": "t", "description": "d" * (MAX_DESCRIPTION + 1), "tags": {}}), 422, "at most 4000 characters")
    error(client.post("/v1/acme/tool/", json={"name": "n" * 10_000, "description": "d", "tags": {}}), 400, "The tool name is too long")
    tool_id = client.post("/v1/acme/tool/", json={"name": "t", "description": "d", "tags": {}}).json()["id"]
    error(client.post(f"/v1/acme/tool/{tool_id}/envvar", json={"inserts": [{"name": "A" * 10_000, "value": "v", "is_secret": False}]}), 422, "at most 128 characters")
    error(client.post(f"/v1/acme/tool/{tool_id}/envvar", json={"inserts": [{"name": "BIG", "value": "v" * 20_000, "is_secret": True}]}), 422, "at most 16384")
    error(client.post(f"/v1/acme/tool/{tool_id}/version/1.0.0/invoke", json={"inputs": [spec_input({"q": "x" * 70_000})]}), 422, "at most 65,536")
    assert client.get("/v1/acme/tool/").json()["tools"][0]["description"] == "d"  # nothing oversized was stored
    with socket.create_connection(("127.0.0.1", served.port)) as raw:  # refused on its declared size, before any of it is read
        raw.sendall(f"POST /v1/acme/tool/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {50 * MAX_BODY_BYTES}\r\n\r\n".encode())
        raw.settimeout(10)
        assert raw.recv(200).startswith(b"HTTP/1.1 413")


def test_text_the_workbench_cannot_store_is_refused_and_older_such_text_still_reads(client: httpx.Client, service: ToolService) -> None:
    tool_id = client.post("/v1/acme/tool/", json={"name": "t", "description": "d", "tags": {}}).json()["id"]
    send = lambda path, text: client.post(path, content=text.encode(), headers={"content-type": "application/json"})  # noqa: E731
    error(send("/v1/acme/tool/", '{"name": "u", "description": "lone \\ud800", "tags": {}}'), 422, "lone surrogate")
    error(send(f"/v1/acme/tool/{tool_id}/envvar", '{"inserts": [{"name": "A", "value": "a\\u0000b", "is_secret": false}]}'), 422, "NUL")
    error(send(f"/v1/acme/tool/{tool_id}/version/1.0.0/invoke", '{"inputs": [{"input_parameters": {"k\\u0000": 1}, "invocation_mode": "regular", "nonsensitive_user_variables": {}, "sensitive_user_variables": {}}]}'), 422, "NUL")
    error(client.get("/v1/acme/tool/invocation", params={"version": "a\x00"}), 422, "NUL")
    assert service.list_envvars("acme", tool_id) == []
    generate_invocations(service, "acme", 3, seed=1)
    broken = {**next(iter(service.workspace.invocations)), "id": "d" * 24, "created_at": "2099-01-01T00:00:00Z"}
    broken["invocation_status"] = {"succeeded": True, "output": "stored before the door \ud800"}  # as an older workbench let in
    service.workspace.invocations.append_many([(broken, datetime.now(UTC))])
    page = client.get("/v1/acme/tool/invocation")
    assert page.status_code == 200 and page.json()["tool_invocations"][0]["invocation_status"]["output"].startswith("stored before the door")


def test_bad_tokens_are_401_and_an_empty_constraint_is_refused(served, client: httpx.Client, service: ToolService, run_cli) -> None:
    error(httpx.get(f"{served.url}/v1/acme/tool/", headers={"Authorization": "Bearer tökén".encode("latin-1")}), 401, "invalid token")
    key = service.workspace.paths.signing_key.read_bytes()
    body = base64.urlsafe_b64encode(json.dumps({"org": "acme"}).encode()).decode().rstrip("=")
    signed_without_claims = f"{body}.{hmac.new(key, body.encode(), hashlib.sha256).hexdigest()}"
    error(httpx.get(f"{served.url}/v1/acme/tool/", headers={"Authorization": f"Bearer {signed_without_claims}"}), 401, "invalid token")
    tool_id = client.post("/v1/acme/tool/", json={"name": "t", "description": "d", "tags": {}}).json()["id"]
    error(client.delete(f"/v1/acme/tool/{tool_id}/version/%20"), 422, "empty")
    code, _, err = run_cli("deprecate", "t", "--org", "acme", "--versions", "")
    assert code == 1 and "empty" in err


def test_a_client_following_the_pages_always_stops(client: httpx.Client, service: ToolService) -> None:
    generate_invocations(service, "acme", 30, seed=2)
    tool_id = client.get("/v1/acme/tool/").json()["tools"][0]["id"]
    for path in ("/v1/acme/tool/invocation", f"/v1/acme/tool/{tool_id}/version"):
        calls, token = 0, 0
        while token is not None and calls < 5:
            page = client.get(path, params={"limit": 0, "continuation_token": token}).json()
            calls, token = calls + 1, page["continuation_token"]
        assert calls == 1 and page["has_more"] is False
    seen, token = 0, -3  # a negative token reads as the start
    while token is not None:
        page = client.get("/v1/acme/tool/invocation", params={"limit": 7, "continuation_token": token}).json()
        seen, token = seen + len(page["tool_invocations"]), page["continuation_token"]
    assert seen == 30
