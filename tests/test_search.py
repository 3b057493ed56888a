"""Full-text search: the query language, fields, filters, order, snippets, and an index that
survives being killed, deleted, damaged or outdated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from workbench.core.events import IndexProgress
from workbench.core.service import ToolService
from workbench.errors import ServiceUnavailable, ValidationFailed
from workbench.search.query import MARK_END, MARK_START
from workbench.settings import Settings
from workbench.synthetic import generate_invocations

N = 800


@pytest.fixture
def history(service: ToolService) -> dict[str, str]:
    tools = generate_invocations(service, "acme", N, seed=5)
    generate_invocations(service, "rival", 100, seed=6)
    service.rebuild_index()
    return tools


def records(service: ToolService) -> list[dict]:
    return [r for r in service.workspace.invocations if r["org_id"] == "acme"]


def texts(record: dict) -> dict[str, str]:
    status = record["invocation_status"]
    return {
        "output": status.get("output", ""),
        "exception_message": status.get("exception_message", ""),
        "exception_type": status.get("exception_type", ""),
        "stack_trace": "\n".join(status.get("exception_stack_trace", [])),
        "logs": "\n".join(record["logs"]),
    }


def tokens(record: dict) -> set[str]:
    """The words of a record's searchable fields, as the index's analyzer sees them."""
    from whoosh.analysis import StandardAnalyzer

    analyzer = StandardAnalyzer()
    return {token.text for text in texts(record).values() for token in analyzer(text)}


def search(service: ToolService, query: str, **extra) -> list:
    return service.search_page("acme", {"query": query, "limit": 100, **extra}).hits


def test_a_rare_word_finds_exactly_the_records_that_have_it(service: ToolService, history) -> None:
    expected = {r["id"] for r in records(service) if "zanzibar" in tokens(r)}
    hits = search(service, "zanzibar")
    assert {h.invocation.id for h in hits} == expected and expected
    for hit in hits:
        assert any(f"{MARK_START}zanzibar{MARK_END}" in s for s in hit.snippets.values())


def test_newest_first_by_default_and_relevance_on_request(service: ToolService, history) -> None:
    newest = search(service, "order", limit=30)
    stamps = [h.invocation.created_at for h in newest]
    assert len(newest) == 30 and stamps == sorted(stamps, reverse=True)
    with_order = sorted((r for r in records(service) if "order" in tokens(r)), key=lambda r: r["created_at"], reverse=True)
    assert [h.invocation.id for h in newest] == [r["id"] for r in with_order[:30]]
    relevant = search(service, "order", order="relevance", limit=30)
    scores = [h.score for h in relevant]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0


def test_phrases_fields_wildcards_and_boolean_operators(service: ToolService, history) -> None:
    refused = {r["id"] for r in records(service) if "connection refused" in r["invocation_status"].get("exception_message", "")}
    assert {h.invocation.id for h in search(service, '"connection refused"')} == refused and refused
    key_errors = {r["id"] for r in records(service) if r["invocation_status"].get("exception_type") == "KeyError"}
    assert {h.invocation.id for h in search(service, "exception_type:KeyError")} == key_errors
    assert {h.invocation.id for h in search(service, "invocation_status.exception_type:KeyError")} == key_errors
    assert {h.invocation.id for h in search(service, "type:Key*")} == key_errors
    both = search(service, "type:KeyError OR type:ValueError")
    assert {h.invocation.invocation_status.exception_type for h in both} == {"KeyError", "ValueError"}
    without = {h.invocation.id for h in search(service, "refund AND NOT order", limit=100)}
    expected = [r["id"] for r in records(service) if "refund" in tokens(r) and "order" not in tokens(r)]
    assert without == set(expected[-100:]) and without


def test_query_against_limits_the_fields(service: ToolService, history) -> None:
    in_traces = search(service, "_split", query_against=["invocation_status.exception_stack_trace"])
    assert in_traces and all(set(h.snippets) == {"stack_trace"} for h in in_traces)
    assert search(service, "_split", query_against=["invocation_status.output"]) == []
    with pytest.raises(ValidationFailed, match="query_against"):
        search(service, "x", query_against=["inputs"])


def test_filters_combine_with_the_query(service: ToolService, history) -> None:
    tool = history["flaky_parser"]
    hits = search(service, "order OR refund", tool_id=[tool], succeeded=True, invocation_source_type=["regular-conversation"])
    assert hits and all(h.invocation.tool_id == tool and h.invocation.invocation_status.succeeded and h.invocation.invocation_source.type == "regular-conversation" for h in hits)
    assert all(h.invocation.org_id == "acme" for h in search(service, "order"))


@pytest.mark.parametrize("query", ['"unclosed', "(a OR b", "colour:red", "the", "!!!"])
def test_what_people_type_never_fails(service: ToolService, history, query: str) -> None:
    search(service, query)  # searched as plain words where the query language cannot read it


def test_a_blank_query_selects_by_the_filters_alone(service: ToolService, history) -> None:
    hits = search(service, "   ", succeeded=False)
    assert len(hits) == 100 and all(not h.invocation.invocation_status.succeeded for h in hits)


def test_a_new_invocation_is_indexed_in_the_background(service: ToolService, history, tools_repo, make_tool) -> None:
    tools_repo.project("proj", code="def run(p, c):\n    return 'needle-' + p['name'] + ' quetzal'\n")
    tool_id = make_tool("fresh")
    service.publish_version("acme", tool_id, {"project_path": "proj", "bump_type": "major"})
    caught_up = threading.Event()
    service.subscribe(lambda event: isinstance(event, IndexProgress) and event.done >= event.total and caught_up.set())
    service.start_background_work()  # as the TUI and the server do
    try:
        caught_up.wait(60)  # the history fixture's backlog first
        caught_up.clear()
        service.invoke_version("acme", tool_id, "1.0.0", {"inputs": [{"input_parameters": {"name": "x"}, "invocation_mode": "regular"}]})
        assert caught_up.wait(60), "the background indexer never reported catching up"
    finally:
        service.stop_background_work()
    assert [h.invocation.tool_id for h in search(service, "quetzal")] == [tool_id]


def test_the_cli_makes_what_it_recorded_searchable_before_exiting(run_cli, service: ToolService, history, tools_repo) -> None:
    tools_repo.project("proj", code="def run(p, c):\n    return 'axolotl'\n")
    run_cli("tool", "create", "cli_tool", "--description", "d", "--org", "acme")
    run_cli("publish", "cli_tool", "--path", "proj", "--bump", "major", "--org", "acme")
    run_cli("invoke", "cli_tool", "1.0.0", "--input", '{"name": "x"}', "--org", "acme")
    assert service.index_status().indexed == service.index_status().recorded
    code, out, _ = run_cli("search", "axolotl", "--org", "acme", "--json")
    assert len(json.loads(out)["tool_invocations"]) == 1


def ground_truth(service: ToolService, word: str) -> int:
    return sum(1 for r in records(service) if word in tokens(r))


def test_a_killed_indexer_loses_nothing(service: ToolService, settings: Settings, home, history) -> None:
    generate_invocations(service, "acme", 6000, seed=11)
    code = textwrap.dedent(
        """
        from workbench.core.service import ToolService
        ToolService().catch_up_index()
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "WORKBENCH_HOME": str(home)})
    meta = home / "index" / "search" / "meta.json"
    before = json.loads(meta.read_text())["indexed_seq"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and json.loads(meta.read_text())["indexed_seq"] == before:
        time.sleep(0.02)  # wait for its first committed batch, then kill it mid-way
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert json.loads(meta.read_text())["indexed_seq"] < service.workspace.catalog.max_seq()
    fresh = ToolService(settings)
    fresh.catch_up_index()
    hits = fresh.search_page("acme", {"query": "quokka", "limit": 100}).hits
    assert len(hits) == len({h.invocation.id for h in hits}) == min(100, ground_truth(fresh, "quokka"))
    assert fresh.index_status().indexed == fresh.index_status().recorded


def _answers(service: ToolService) -> list:
    return [[h.invocation.id for h in search(service, q)] for q in ("zanzibar", '"connection refused"', "type:KeyError")]


def test_a_deleted_damaged_or_outdated_index_is_rebuilt_with_the_same_answers(service: ToolService, settings: Settings, home, history) -> None:
    import shutil

    expected = _answers(service)
    index_dir = home / "index" / "search"
    shutil.rmtree(index_dir)
    with pytest.raises(ServiceUnavailable, match="being rebuilt") as error:
        ToolService(settings).search_page("acme", {"query": "zanzibar"})  # no progress callback: rebuilt in the background
    assert error.value.status == 503
    rebuilt = ToolService(settings)
    rebuilt.search_page("acme", {"query": "zanzibar"}, on_rebuild=lambda done, total: None)
    assert _answers(rebuilt) == expected
    for toc in index_dir.glob("p*/_MAIN_*.toc"):
        toc.write_bytes(b"garbage")  # damaged
    damaged = ToolService(settings)
    assert damaged.index_status().usable is False
    damaged.search_page("acme", {"query": "zanzibar"}, on_rebuild=lambda done, total: None)
    assert _answers(damaged) == expected
    meta = index_dir / "meta.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "schema": 0}))  # an older schema
    old = ToolService(settings)
    assert "schema 0" in (old.index_status().problem or "")
    old.catch_up_index()
    assert _answers(old) == expected


def test_processes_recording_and_searching_at_once_see_no_lock_errors(service: ToolService, settings: Settings, home, history) -> None:
    code = textwrap.dedent(
        """
        import sys
        from workbench.core.service import ToolService
        from workbench.synthetic import generate_invocations
        service = ToolService()
        for round in range(5):
            generate_invocations(service, "acme", 200, seed=int(sys.argv[1]) * 100 + round)
            service.flush_index()
            service.search_page("acme", {"query": "order"})
        """
    )
    env = {**os.environ, "WORKBENCH_HOME": str(home)}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(i)], env=env, stderr=subprocess.PIPE, text=True) for i in (1, 2)]
    for _ in range(20):
        search(service, "refund")
    results = [(p.wait(120), p.stderr.read()) for p in procs]
    assert all(code == 0 for code, _ in results), results
    service.catch_up_index()
    assert service.index_status().indexed == service.workspace.catalog.max_seq() == N + 100 + 2000


def test_cli_search_and_index_rebuild(run_cli, service: ToolService, history) -> None:
    code, out, _ = run_cli("search", "zanzibar", "--org", "acme")
    assert code == 0 and "hit(s) for 'zanzibar'" in out and "zanzibar" in out
    code, out, _ = run_cli("search", "type:KeyError", "--org", "acme", "--json", "--limit", "5")
    assert list(json.loads(out)) == ["tool_invocations", "has_more"] and len(json.loads(out)["tool_invocations"]) == 5
    code, _, err = run_cli("search", '"unclosed', "--org", "acme")
    assert code == 0, err
    code, out, err = run_cli("index", "rebuild", "--json")
    assert json.loads(out) == {"indexed": N + 100} and "indexing invocations" in err
