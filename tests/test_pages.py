"""History pages sent as stored: the server passes the log's lines through instead of validating
and serializing each record again, yet what a client reads is exactly what the model would have
given, for records of this workbench and of older ones, with lone surrogates and without; a line
changed behind the catalog's back is never sent; the fast way in and the application's route
answer alike, errors included; many threads leave no connections behind, and a burst of clients
leaves a `workbench serve` process near the memory it had before."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path

import httpx
import pytest
from amigo_sdk.generated import model as sdk
from conftest import files_open
from served import Running, sign_in

from workbench.core.page_cache import PageCache
from workbench.core.service import ToolService
from workbench.errors import ServiceUnavailable
from workbench.store.documents import holds_lone_surrogate
from workbench.synthetic import generate_invocations

SURROGATE = "odd\ud800one"
QUERIES = [
    {},
    {"limit": 7, "continuation_token": 3},
    {"sort_by": ["+created_at"]},
    {"invocation_source_type": ["regular-conversation"]},
    {"succeeded": False, "limit": 50},
]


def kinds_of_record(service: ToolService) -> dict[str, str]:
    """Besides a generated history: an older workbench's record (its own source type), one without
    the fields added since (their defaults), one holding a lone surrogate, one with a character
    beyond U+FFFF (stored as a surrogate pair). Returns kind -> id."""
    generate_invocations(service, "acme", 40, seed=5, days=1)
    base = next(iter(service.workspace.invocations))
    made = {
        "legacy": {**base, "id": "a" * 24, "invocation_source": {"type": "workbench", "user_id": "ada", "interface": "tui"}},
        "without defaults": {key: value for key, value in {**base, "id": "b" * 24}.items() if key not in ("logs", "inputs")},
        "lone surrogate": {**base, "id": "c" * 24, "logs": [f"INFO {SURROGATE}"], "invocation_status": {"succeeded": True, "output": f"zanzibar {SURROGATE}"}},
        "pair": {**base, "id": "d" * 24, "invocation_status": {"succeeded": True, "output": "zanzibar \U0001f600 fine"}},
    }
    service.workspace.invocations.append_many([(record, datetime.now(UTC)) for record in made.values()])
    return {kind: record["id"] for kind, record in made.items()}


def test_the_catalog_marks_the_lines_a_page_sends_as_stored(service: ToolService) -> None:
    ids = kinds_of_record(service)
    service.count_invocations("acme")
    marks = dict(service.workspace.catalog.query("SELECT id, verbatim FROM invocations", []))
    assert {kind: marks[id_] for kind, id_ in ids.items()} == {"legacy": 0, "without defaults": 0, "lone surrogate": 0, "pair": 1}
    assert sum(marks.values()) == len(marks) - 3  # every generated record is sent as stored


@pytest.mark.parametrize("query", QUERIES)
def test_a_page_sent_as_stored_reads_as_the_models_page(service: ToolService, query: dict) -> None:
    kinds_of_record(service)
    sent = service.list_invocations_json("acme", query)
    assert json.loads(sent) == service.list_invocations("acme", query).model_dump(mode="json")
    assert not holds_lone_surrogate(sent)


def test_a_search_sent_as_stored_reads_as_the_models_answer(service: ToolService) -> None:
    kinds_of_record(service)
    service.catch_up_index()
    for query in ({"query": "zanzibar"}, {"query": "order", "limit": 5, "order": "relevance"}, {"query": ""}, {"query": "!!"}):
        sent = service.search_invocations_json("acme", query)
        assert json.loads(sent) == service.search_invocations("acme", query).model_dump(mode="json")
    assert len(json.loads(service.search_invocations_json("acme", {"query": "zanzibar"}))["tool_invocations"]) >= 2


def test_the_official_sdk_reads_every_kind_of_record_over_http(served: Running, service: ToolService) -> None:
    ids = kinds_of_record(service)
    service.catch_up_index()
    with sign_in(served.url, service, role="viewer") as client:
        page = client.get("/v1/acme/tool/invocation", params={"limit": 100})
        history = sdk.ToolGetToolInvocationsResponse.model_validate(page.json())
        by_id = {i.id: i for i in history.tool_invocations}
        assert set(ids.values()) <= set(by_id)
        assert type(by_id[ids["legacy"]].invocation_source.root).__name__ == "RegularConversationInvocationSource"
        sent = {i["id"]: i for i in page.json()["tool_invocations"]}
        assert sent[ids["without defaults"]]["logs"] == [] and sent[ids["lone surrogate"]]["logs"] == ["INFO odd\ufffdone"]
        page.content.decode("utf-8")  # valid UTF-8 throughout
        found = client.get("/v1/acme/tool/invocation/search", params={"query": "zanzibar", "query_against": "invocation_status.output"})
        hits = sdk.ToolSearchToolInvocationsResponse.model_validate(found.json()).tool_invocations
        assert {ids["lone surrogate"], ids["pair"]} <= {i.id for i in hits}
        assert "\U0001f600" in found.json()["tool_invocations"][[i.id for i in hits].index(ids["pair"])]["invocation_status"]["output"]


def test_a_line_changed_behind_the_catalogs_back_is_never_sent(served: Running, service: ToolService) -> None:
    generate_invocations(service, "acme", 20, days=1)
    service.count_invocations("acme")
    segment = service.workspace.invocations.segments()[-1]
    before = segment.stat()
    data = segment.read_bytes()
    changed = data.replace(b'"succeeded":true', b'"succeeded":null', 1)  # same length: a sync cannot tell
    assert changed != data and len(changed) == len(data)
    segment.write_bytes(changed)
    os.utime(segment, ns=(before.st_atime_ns, before.st_mtime_ns))
    try:
        body = service.list_invocations_json("acme", {"limit": 100})
    except ServiceUnavailable as error:  # this call met the changed line first
        assert "checksum" in str(error)
    else:  # the server's indexer, reading the same lines, met it first: the catalog was rebuilt without it
        assert b'"succeeded":null' not in body and len(json.loads(body)["tool_invocations"]) == 19
    with sign_in(served.url, service) as client:  # the rebuilt catalog left the changed line aside
        page = client.get("/v1/acme/tool/invocation", params={"limit": 100})
        assert page.status_code == 200 and len(page.json()["tool_invocations"]) == 19
        assert b'"succeeded":null' not in page.content


def test_the_fast_way_and_the_route_answer_alike(service: ToolService) -> None:
    """With strict limits every request goes through the application's route: the same requests
    get the same bodies from both servers, errors included."""
    generate_invocations(service, "acme", 30, seed=2, days=1)
    service.catch_up_index()
    fast, routed = Running(service), Running(service, strict=True)
    try:
        requests = [
            ("/v1/acme/tool/invocation", {"limit": 5, "sort_by": ["-tool_id"]}),
            ("/v1/acme/tool/invocation", {"limit": 101}),
            ("/v1/acme/tool/invocation", {"succeeded": "maybe"}),
            ("/v1/acme/tool/invocation", {"tool_id": ["a" * 24], "version": ["1", "2"]}),
            ("/v1/acme/tool/invocation", {"exception_type": ["ValueError", "TimeoutError"], "created_after": "2000-01-01", "limit": 100}),
            ("/v1/acme/tool/invocation", {"created_before": "last week"}),
            ("/v1/acme/tool/invocation/search", {"query": "order", "query_against": ["logs"], "limit": 3}),
            ("/v1/acme/tool/invocation/search", {"query": "order"}),
            ("/v1/other/tool/invocation", {}),
        ]
        with sign_in(fast.url, service) as one, httpx.Client(base_url=routed.url, headers=one.headers) as other:
            for path, params in requests:
                a, b = one.get(path, params=params), other.get(path, params=params)
                assert (a.status_code, a.json()) == (b.status_code, b.json()), path
                assert a.headers["content-type"] == b.headers["content-type"]
            assert httpx.get(f"{fast.url}/v1/acme/tool/invocation").json() == httpx.get(f"{routed.url}/v1/acme/tool/invocation").json()  # 401
    finally:
        fast.stop()
        routed.stop()


def test_a_page_asked_again_is_sent_again_until_the_log_changes(service: ToolService, settings, clock) -> None:
    """The same question under the same log is answered with the bytes built the first time; a
    record appended by another process, or a rebuilt catalog, makes the page be read again."""
    generate_invocations(service, "acme", 30, seed=5, days=1)
    first = service.list_invocations_json("acme", {"limit": 100})
    assert service.list_invocations_json("acme", {"limit": 100}) is first  # the very bytes: not read again
    assert service.list_invocations_json("acme", {"limit": 100, "continuation_token": 10}) is not first
    other = ToolService(settings, clock=clock)  # another process, recording into the same data directory
    generate_invocations(other, "acme", 3, seed=6, days=1)
    after = service.list_invocations_json("acme", {"limit": 100})
    assert after is not first and json.loads(after) == service.list_invocations("acme", {"limit": 100}).model_dump(mode="json")
    assert len({i["id"] for i in json.loads(after)["tool_invocations"]} - {i["id"] for i in json.loads(first)["tool_invocations"]}) == 3
    assert service.list_invocations_json("acme", {"limit": 100}) is after
    service.workspace.catalog.rebuild("a test")  # a new generation: rows numbered afresh
    rebuilt = service.list_invocations_json("acme", {"limit": 100})
    assert rebuilt is not after and json.loads(rebuilt) == json.loads(after)


def test_a_page_of_the_newest_is_read_from_one_covering_index_and_older_catalogs_get_it(service: ToolService) -> None:
    generate_invocations(service, "acme", 30, seed=5, days=1)
    catalog = service.workspace.catalog
    page = "SELECT segment, offset, length, crc, verbatim FROM invocations WHERE org_id = ? ORDER BY created_at DESC, seq DESC LIMIT 101 OFFSET 0"
    assert "COVERING INDEX by_org_newest" in catalog.query("EXPLAIN QUERY PLAN " + page, ["acme"])[0][3]
    expected, generation = service.list_invocations_json("acme", {"limit": 100}), catalog.generation
    catalog.query("DROP INDEX by_org_newest", [])  # as a catalog made by an earlier workbench
    catalog.query("CREATE INDEX by_org_time ON invocations (org_id, created_at)", [])
    catalog.close()
    reopened = ToolService(service.workspace.settings)
    indexes = {row[1] for row in reopened.workspace.catalog.query("PRAGMA index_list(invocations)", [])}
    assert "by_org_newest" in indexes and "by_org_time" not in indexes
    assert reopened.workspace.catalog.generation == generation  # the index replaced, nothing rebuilt from the log
    assert reopened.list_invocations_json("acme", {"limit": 100}) == expected


def test_kept_pages_stay_within_their_budget_newest_used_kept() -> None:
    pages = PageCache(budget=1000)
    for n in range(5):
        pages.put(("page", n), "state 1", bytes(200))
    assert pages.get(("page", 0), "state 1") == bytes(200)  # used: now the most recent
    pages.put(("page", 5), "state 1", bytes(200))  # over the budget: the least recently used goes
    assert pages.size <= 1000 and len(pages) == 5 and pages.get(("page", 1), "state 1") is None
    assert pages.get(("page", 0), "state 2") is None and pages.get(("page", 0), "state 1") is None  # another state: never again
    pages.put(("big",), "state 1", bytes(251))  # over a quarter of the budget: not kept
    assert pages.get(("big",), "state 1") is None and pages.size == 800


def test_many_threads_reading_the_catalog_leave_few_connections_open(service: ToolService) -> None:
    generate_invocations(service, "acme", 10, days=1)

    def read() -> None:
        service.list_invocations_json("acme", {"limit": 5})

    for _ in range(3):
        threads = [threading.Thread(target=read) for _ in range(25)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    held = files_open(service.workspace.catalog.path)
    assert len(held) < 25, held  # a few kept connections (each holds the file, its WAL and index), not one per thread that ever ran


def test_a_key_revoked_by_another_process_is_refused_at_once(served: Running, service: ToolService, settings) -> None:
    with sign_in(served.url, service, role="viewer") as client:
        assert client.get("/v1/acme/tool/invocation").status_code == 200
        other = ToolService(settings)  # another process's view of the same data directory
        (key,) = other.list_api_keys("acme")
        other.revoke_api_key("acme", key.id)
        refused = client.get("/v1/acme/tool/invocation")
        assert refused.status_code == 401 and "revoked" in refused.json()["detail"]


def rss_mb(pid: int) -> float:
    """The resident memory of process ``pid``, in MB."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(status["VmRSS"].split()[0]) / 1024


def test_a_burst_of_clients_leaves_the_server_near_the_memory_it_had(service: ToolService, settings) -> None:
    """Twenty clients reading pages of 100 and searching at once: once they are answered, the
    server's memory is back near where it was (not a searcher, a connection or an arena kept per
    thread that served the burst)."""
    generate_invocations(service, "acme", 2000, seed=4, days=3)
    service.rebuild_index()
    key = service.create_api_key("acme", "ada", role="viewer")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "WORKBENCH_HOME": str(settings.home), "WORKBENCH_RUNTIME": "process"}
    server = subprocess.Popen([sys.executable, "-m", "workbench", "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/openapi.json", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        signed = httpx.post(f"{url}/v1/acme/user/signin_with_api_key", headers={"x-api-key": key.secret, "x-api-key-id": key.id, "x-user-id": "ada"})
        headers = {"Authorization": f"Bearer {signed.json()['id_token']}"}

        def reader(pages: int) -> list[int]:
            with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
                return [
                    client.get(path, params=params).status_code
                    for page in range(pages)
                    for path, params in (
                        ("/v1/acme/tool/invocation", {"limit": 100, "continuation_token": page * 100}),
                        ("/v1/acme/tool/invocation/search", {"query": "order", "query_against": ["invocation_status.output", "logs"], "limit": 100}),
                    )
                ]

        reader(2)  # what every server holds once it has answered: imports, the index's searcher
        time.sleep(1.5)
        before = rss_mb(server.pid)
        with ThreadPoolExecutor(20) as burst:
            assert set(chain.from_iterable(burst.map(reader, [10] * 20))) == {200}
        time.sleep(1.5)  # idle: the server gives back what the burst took
        assert rss_mb(server.pid) - before < 30, (before, rss_mb(server.pid))
    finally:
        server.terminate()
        server.wait(10)
