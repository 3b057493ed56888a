"""Invocation history: every filter, sort key and page edge of the spec, on a generated log."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from workbench.core.models import ToolInvocationInstance, invocation_origin
from workbench.core.service import ToolService
from workbench.errors import BadRequest, NotFound, ValidationFailed
from workbench.synthetic import generate_invocations

N = 600


@pytest.fixture
def history(service: ToolService) -> dict[str, str]:
    tools = generate_invocations(service, "acme", N, seed=3)
    generate_invocations(service, "rival", 50, seed=4)
    return tools


def all_records(service: ToolService, org: str = "acme") -> list[dict]:
    return [r for r in service.workspace.invocations if r["org_id"] == org]


def ids(response) -> list[str]:
    return [inv.id for inv in response.tool_invocations]


def test_default_page_is_the_newest_100_with_a_continuation(service: ToolService, history) -> None:
    page = service.list_invocations("acme")
    assert len(page.tool_invocations) == 100 and page.has_more and page.continuation_token == 100
    newest = sorted(all_records(service), key=lambda r: r["created_at"], reverse=True)[:100]
    assert ids(page) == [r["id"] for r in newest]
    assert all(isinstance(inv, ToolInvocationInstance) for inv in page.tool_invocations)


def test_pages_cover_everything_once(service: ToolService, history) -> None:
    seen, token = [], 0
    while token is not None:
        page = service.list_invocations("acme", {"limit": 77, "continuation_token": token})
        seen += ids(page)
        token = page.continuation_token
    assert len(seen) == N == len(set(seen)) == service.count_invocations("acme")
    last = service.list_invocations("acme", {"limit": 100, "continuation_token": N - 10})
    assert len(last.tool_invocations) == 10 and not last.has_more and last.continuation_token is None


def test_limit_zero_and_bounds(service: ToolService, history) -> None:
    empty = service.list_invocations("acme", {"limit": 0, "continuation_token": 10})
    assert empty.tool_invocations == [] and not empty.has_more and empty.continuation_token is None  # a client following tokens stops
    for bad in ({"limit": 101}, {"limit": -1}):
        with pytest.raises(ValidationFailed):
            service.list_invocations("acme", bad)
    assert ids(service.list_invocations("acme", {"continuation_token": -1, "limit": 5})) == ids(service.list_invocations("acme", {"limit": 5}))
    beyond = service.list_invocations("acme", {"continuation_token": 10**30})  # past any history: an empty last page
    assert beyond.tool_invocations == [] and not beyond.has_more


def test_tool_and_version_pairs(service: ToolService, history) -> None:
    order, crm = history["order_status"], history["crm_account"]
    records = all_records(service)
    got = service.list_invocations("acme", {"tool_id": [order], "version": [">=1.1"], "limit": 100})
    expected = [r for r in records if r["tool_id"] == order and (r["tool_version"]["major"], r["tool_version"]["minor"]) >= (1, 1)]
    assert {inv.id for inv in got.tool_invocations} <= {r["id"] for r in expected}
    assert service.count_invocations("acme", {"tool_id": [order], "version": [">=1.1"]}) == len(expected)
    both = service.count_invocations("acme", {"tool_id": [order, crm], "version": ["==1.0.0", "2.0.0"]})
    assert both == len([r for r in records if (r["tool_id"], tuple(r["tool_version"].values())) in {(order, (1, 0, 0)), (crm, (2, 0, 0))}])
    assert service.count_invocations("acme", {"tool_id": [order], "version": ["*"]}) == len([r for r in records if r["tool_id"] == order])
    with pytest.raises(BadRequest, match="same number of times; got 2 tool_id and 1 version") as error:
        service.list_invocations("acme", {"tool_id": [order, crm], "version": [">=1"]})
    assert error.value.status == 400
    with pytest.raises(ValidationFailed):
        service.list_invocations("acme", {"tool_id": [order], "version": ["not-a-constraint"]})


def test_source_conversation_run_and_succeeded_filters(service: ToolService, history) -> None:
    records = all_records(service)
    regular = [r for r in records if r["invocation_source"]["type"] == "regular-conversation"]
    assert service.count_invocations("acme", {"invocation_source_type": ["regular-conversation"]}) == len(regular)
    assert service.count_invocations("acme", {"invocation_source_type": ["simulation-conversation"]}) == len(records) - len(regular)
    conversation = regular[5]["invocation_source"]["conversation_id"]
    assert ids(service.list_invocations("acme", {"conversation_id": [conversation]})) == [regular[5]["id"]]
    run = next(r for r in records if r["invocation_source"]["type"] == "simulation-conversation")["invocation_source"]["simulation_unit_test_set_run_id"]
    in_run = [r for r in records if r["invocation_source"].get("simulation_unit_test_set_run_id") == run]
    assert service.count_invocations("acme", {"simulation_unit_test_set_run_id": [run]}) == len(in_run)
    failed = [r for r in records if not r["invocation_status"]["succeeded"]]
    assert service.count_invocations("acme", {"succeeded": False}) == len(failed) > 0
    page = service.list_invocations("acme", {"succeeded": False, "invocation_source_type": ["simulation-conversation"]})
    assert all(not i.invocation_status.succeeded and i.invocation_source.type == "simulation-conversation" for i in page.tool_invocations)
    for outside_the_spec in ("phone", "workbench", "conversation", "simulation"):
        with pytest.raises(ValidationFailed, match="'regular-conversation' or 'simulation-conversation'"):
            service.list_invocations("acme", {"invocation_source_type": [outside_the_spec]})


def test_runs_an_older_workbench_recorded_read_and_filter_as_regular_conversations(service: ToolService, history) -> None:
    legacy = {**all_records(service)[0], "id": "e" * 24, "created_at": "2099-01-01T00:00:00Z", "invocation_source": {"type": "workbench", "user_id": "ada", "interface": "cli"}}
    service.workspace.invocations.append_many([(legacy, datetime.now(UTC))])  # as an older workbench wrote it
    regular = service.list_invocations("acme", {"invocation_source_type": ["regular-conversation"], "limit": 100}).tool_invocations
    found = [inv for inv in regular if inv.id == "e" * 24]
    assert len(found) == 1 and found[0].invocation_source.type == "regular-conversation" and invocation_origin(found[0].invocation_source) == "cli"
    assert "e" * 24 not in ids(service.list_invocations("acme", {"invocation_source_type": ["simulation-conversation"], "limit": 100}))
    stored = [r for r in service.workspace.invocations if r["id"] == "e" * 24]
    assert [r["invocation_source"]["type"] for r in stored] == ["workbench"]  # converted on read; the log is not rewritten
    with pytest.raises(ValidationFailed):
        service.list_invocations("acme", {"conversation_id": ["not-hex"]})


@pytest.mark.parametrize(
    ("sort_by", "key"),
    [
        (["+created_at"], lambda r: r["created_at"]),
        (["-version.major", "+version.minor", "-version.patch"], lambda r: (-r["tool_version"]["major"], r["tool_version"]["minor"], -r["tool_version"]["patch"])),
        (["+tool_id"], lambda r: r["tool_id"]),
        (["+invocation_source.type"], lambda r: r["invocation_source"]["type"]),
        (["-invocation_status.succeeded"], lambda r: not r["invocation_status"]["succeeded"]),
    ],
)
def test_sort_keys(service: ToolService, history, sort_by, key) -> None:
    page = service.list_invocations("acme", {"sort_by": sort_by, "limit": 100})
    by_id = {r["id"]: r for r in all_records(service)}
    got = [key(by_id[i]) for i in ids(page)]
    assert got == sorted(got)


def test_unknown_sort_key_is_422(service: ToolService, history) -> None:
    with pytest.raises(ValidationFailed, match="cannot sort by"):
        service.list_invocations("acme", {"sort_by": ["+duration_ms"]})


def test_one_org_never_sees_anothers_invocations(service: ToolService, history) -> None:
    assert service.count_invocations("rival") == 50
    rival_id = all_records(service, "rival")[0]["id"]
    with pytest.raises(NotFound):
        service.get_invocation("acme", rival_id)
    assert service.get_invocation("rival", rival_id).id == rival_id


def test_a_record_appended_by_anyone_is_listed_at_once(service: ToolService, history) -> None:
    service.list_invocations("acme")  # the catalog is up to date now
    generate_invocations(service, "acme", 3, seed=99)  # appended behind the catalog's back
    assert service.count_invocations("acme") == N + 3


def test_a_deleted_catalog_is_rebuilt_from_the_log(service: ToolService, history) -> None:
    before = ids(service.list_invocations("acme", {"limit": 50}))
    service.workspace.catalog.close()
    for suffix in ("", "-wal", "-shm"):
        service.workspace.catalog.path.with_name(service.workspace.catalog.path.name + suffix).unlink(missing_ok=True)
    assert ids(service.list_invocations("acme", {"limit": 50})) == before


def test_cli_history(run_cli, service: ToolService, history) -> None:
    code, out, _ = run_cli("history", "--org", "acme", "--limit", "3", "--json")
    body = json.loads(out)
    assert set(body) == {"tool_invocations", "has_more", "continuation_token"} and len(body["tool_invocations"]) == 3
    code, out, _ = run_cli("history", "--org", "acme", "--tool", "order_status", "--version", ">=2", "--succeeded", "false")
    assert code == 0 and f"of {service.count_invocations('acme', {'tool_id': [history['order_status']], 'version': ['>=2'], 'succeeded': False}):,}" in out
    code, _, err = run_cli("history", "--org", "acme", "--tool", "order_status", "--tool", "crm_account", "--version", ">=1")
    assert code == 1 and "same number of times" in err


def test_a_version_filter_lists_what_another_process_recorded_a_moment_ago(service: ToolService, settings, clock) -> None:
    """The versions a filter matches are read after the catalog has caught up with the log, as
    the page itself is: what another process (or this server's own invoke) recorded since this
    process last looked is listed at once, not after a background catch-up."""
    assert service.list_invocations("acme", {}).tool_invocations == []  # looked: caught up with an empty log
    other = ToolService(settings, clock=clock)  # another process writing the same data directory
    order = generate_invocations(other, "acme", 40, seed=5)["order_status"]
    records = [r for r in all_records(service) if r["tool_id"] == order]
    assert records
    got = service.list_invocations("acme", {"tool_id": [order], "version": [">=0"], "limit": 100})
    assert {inv.id for inv in got.tool_invocations} == {r["id"] for r in records}
    assert service.count_invocations("acme", {"tool_id": [order], "version": [">=0"]}) == len(records)
