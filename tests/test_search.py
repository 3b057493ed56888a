"""Search through the service (and the CLI), over both engines: plain text always searches, the
query language's extras, fields, filters, order, whether more hits exist, snippets; the index is
kept up to date in the background or by a command before it exits, and rebuilt when in doubt.
(The engines and the index manager have their own tests: test_search_engine.py, test_search_index.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading

import pytest

from workbench.core.events import IndexProgress
from workbench.core.service import ToolService
from workbench.errors import ServiceUnavailable, ValidationFailed
from workbench.search import MARK_END, MARK_START, parse_query
from workbench.settings import Settings
from workbench.synthetic import generate_invocations

from search_history import all_records, expected_seqs

N = 800


@pytest.fixture(params=["tantivy", "whoosh"])
def settings(request: pytest.FixtureRequest, home, repo_path) -> Settings:
    """Every test here runs on both engines."""
    return Settings(home=home, tools_repo=repo_path, invocation_timeout_seconds=20, runtime="process", search_engine=request.param)


@pytest.fixture
def history(service: ToolService) -> dict[str, str]:
    tools = generate_invocations(service, "acme", N, seed=5)
    generate_invocations(service, "rival", 100, seed=6)
    service.rebuild_index()
    return tools


def search(service: ToolService, query: str, **extra) -> list:
    return service.search_page("acme", {"query": query, "limit": 100, **extra}).hits


def expected_ids(service: ToolService, query: str, **allowed) -> list[str]:
    """The ids the query must find, newest first, by the reference matcher over the whole log."""
    records = all_records(service.workspace.catalog)
    by_seq = dict(records)
    return [by_seq[seq]["id"] for seq in expected_seqs(records, parse_query(query).root, **allowed)]


def test_a_rare_word_finds_exactly_the_records_that_have_it(service: ToolService, history) -> None:
    hits = search(service, "zanzibar")
    assert [h.invocation.id for h in hits] == expected_ids(service, "zanzibar")[:100] and hits
    for hit in hits:
        assert any(f"{MARK_START}zanzibar{MARK_END}" in s for s in hit.snippets.values())


def test_newest_first_by_default_and_best_match_on_request(service: ToolService, history) -> None:
    newest = service.search_page("acme", {"query": "order", "limit": 30})
    assert [h.invocation.id for h in newest.hits] == expected_ids(service, "order")[:30]
    assert newest.has_more  # more than 30 records hold "order"
    relevant = search(service, "order", order="relevance", limit=30)
    scores = [h.score for h in relevant]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert {h.invocation.id for h in relevant} <= set(expected_ids(service, "order"))


@pytest.mark.parametrize(
    "query",
    ['"connection refused"', "exception_type:KeyError", "invocation_status.exception_type:KeyError", "type:Key*", "type:KeyError OR type:ValueError", "refund AND NOT order", "refund -order"],
)
def test_the_query_languages_extras(service: ToolService, history, query: str) -> None:
    expected = expected_ids(service, query)
    assert expected, "the generated history must hold matches for this query"
    assert [h.invocation.id for h in search(service, query)] == expected[:100]


@pytest.mark.parametrize("query", ["x", "the", "AND", "OR NOT", '"unclosed', "(order", "colour:red", "https://example.com/orders?id=A-1001"])
def test_plain_text_always_searches(service: ToolService, history, query: str) -> None:
    """What people type is searched: stop words, one letter, operators alone, a broken quote or
    parenthesis, an unknown field, a URL. Never a 400."""
    page = service.search_page("acme", {"query": query, "limit": 100})
    assert [h.invocation.id for h in page.hits] == expected_ids(service, query)[:100]


def test_the_query_against_fields_limit_the_search(service: ToolService, history) -> None:
    in_traces = search(service, "_split", query_against=["invocation_status.exception_stack_trace"])
    assert in_traces and all(set(h.snippets) == {"stack_trace"} for h in in_traces)
    assert search(service, "_split", query_against=["invocation_status.output"]) == []
    with pytest.raises(ValidationFailed, match="query_against") as error:
        search(service, "x", query_against=["inputs"])
    assert error.value.status == 422


def test_filters_combine_with_the_query(service: ToolService, history) -> None:
    tool = history["flaky_parser"]
    hits = search(service, "order OR refund", tool_id=[tool], succeeded=True, invocation_source_type=["regular-conversation"])
    assert hits and all(h.invocation.tool_id == tool and h.invocation.invocation_status.succeeded and h.invocation.invocation_source.type == "regular-conversation" for h in hits)
    assert all(h.invocation.org_id == "acme" for h in search(service, "order"))


def test_only_an_oversized_query_is_refused_with_a_422(service: ToolService, history) -> None:
    with pytest.raises(ValidationFailed, match="at most 1000 characters") as error:
        search(service, "word " * 300)
    assert error.value.status == 422


def test_a_blank_query_selects_by_the_filters_alone_and_one_without_words_finds_nothing(service: ToolService, history) -> None:
    hits = search(service, "   ", succeeded=False)
    assert len(hits) == 100 and all(not h.invocation.invocation_status.succeeded for h in hits)
    assert search(service, "!!! ???") == []


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


def test_what_the_cli_recorded_is_found_by_the_next_search_without_the_command_waiting_for_the_index(run_cli, service: ToolService, history, tools_repo) -> None:
    tools_repo.project("proj", code="def run(p, c):\n    return 'axolotl'\n")
    run_cli("tool", "create", "cli_tool", "--description", "d", "--org", "acme")
    run_cli("publish", "cli_tool", "--path", "proj", "--bump", "major", "--org", "acme")
    service.catch_up_index()
    indexed = service.index_status().indexed
    code, out, _ = run_cli("invoke", "cli_tool", "1.0.0", "--input", '{"name": "x"}', "--input", '{"name": "y"}', "--org", "acme")
    assert code == 0 and out.count("succeeded") == 2
    status = service.index_status()
    assert (status.indexed, status.recorded) == (indexed, indexed + 2), "the command returned before indexing what it recorded"
    code, out, _ = run_cli("search", "axolotl", "--org", "acme", "--json")
    assert len(json.loads(out)["tool_invocations"]) == 2
    assert service.index_status().indexed == indexed + 2


def _answers(service: ToolService) -> list:
    return [[h.invocation.id for h in search(service, q)] for q in ("zanzibar", '"connection refused"', "type:KeyError")]


def test_a_deleted_or_outdated_index_is_rebuilt_with_the_same_answers(service: ToolService, settings: Settings, home, history) -> None:
    import shutil

    expected = _answers(service)
    index_dir = home / "index" / "search"
    shutil.rmtree(index_dir)
    with pytest.raises(ServiceUnavailable, match="being rebuilt") as error:
        ToolService(settings).search_page("acme", {"query": "zanzibar"})  # no progress callback: rebuilt in the background
    assert error.value.status == 503
    rebuilt = ToolService(settings)
    progress: list[tuple[int, int]] = []
    rebuilt.search_page("acme", {"query": "zanzibar"}, on_rebuild=lambda done, total: progress.append((done, total)))
    assert progress and progress[-1][0] == progress[-1][1] == N + 100
    assert _answers(rebuilt) == expected
    meta = index_dir / "meta.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "schema": 0}))  # an older schema
    old = ToolService(settings)
    assert old.index_status().usable is False and old.index_status().problem
    old.catch_up_index()
    assert _answers(old) == expected and old.index_status().usable


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
    env = {**os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_SEARCH_ENGINE": settings.search_engine}
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
    code, out, err = run_cli("search", '"unclosed', "--org", "acme")
    assert code == 0 and "hit(s) for" in out and "as written" in out  # searched literally, and said so
    code, out, err = run_cli("index", "rebuild", "--json")
    assert json.loads(out) == {"indexed": N + 100} and "indexing invocations" in err


def test_the_health_check_covers_the_index_and_repair_rebuilds_it(service: ToolService, settings: Settings, home, history) -> None:
    assert service.data_health().healthy
    meta = home / "index" / "search" / "meta.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "schema": 0}))  # an index of another workbench
    report = ToolService(settings).data_health()
    [finding] = [f for f in report.findings if f.part == "search index"]
    assert not report.healthy and not finding.healthy and "rebuild it from the log" in (finding.repair or "")
    outcome = ToolService(settings).repair_data()
    assert any("rebuilt the search index" in line for line in outcome.done) and outcome.after.healthy
    assert _answers(ToolService(settings))[0]  # and it answers again
