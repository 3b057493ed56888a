"""The search engines on a real log, catalog and index in a temp dir, each test run with both
engines: plain text that always works, the query language's extras, filters, orders, has_more,
snippets, and the caps."""

from __future__ import annotations

from pathlib import Path

import pytest
from search_history import BLOB, all_records, append_special, expected_seqs, open_catalog

from workbench.core.service import ToolService
from workbench.errors import ValidationFailed
from workbench.search import MARK_END, MARK_START, SearchFilters, SearchIndex, SearchRequest, index_fields, parse_query, snippets, split_marks
from workbench.search.fields import TEXT_FIELDS
from workbench.settings import Settings
from workbench.synthetic import generate_invocations

ENGINES = ["tantivy", "whoosh"]


@pytest.fixture(scope="module", params=ENGINES)
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """One history, indexed by each engine in turn: (index, records, tool ids)."""
    home = tmp_path_factory.mktemp("history")
    service = ToolService(Settings(home=home, runtime="process"))
    tools = generate_invocations(service, "acme", 600, seed=5)
    generate_invocations(service, "rival", 100, seed=6)
    append_special(service.workspace.invocations, tools["order_status"])
    catalog = open_catalog(home)
    index = SearchIndex(home / "search", catalog, request.param)
    done = []
    index.rebuild(progress=lambda d, t: done.append((d, t)))
    assert done[-1][0] == done[-1][1] == 707
    yield index, all_records(catalog), tools
    index.close()


def hits(index: SearchIndex, text: str, fields: list[str] | None = None, newest_first: bool = True, limit: int = 1000, **filters) -> list[int]:
    result = index.search(SearchRequest(text, fields or [], SearchFilters("acme", **filters), newest_first, limit))
    return [seq for seq, _ in result.hits]


PLAIN_TEXT = ["x", "the", "AND", "OR NOT", "https://example.com/orders?id=A-1001", "A-1001", "/var/log/x.log", '"connection refused', "(order", "order)", "a AND", "NOT"]
LANGUAGE = [
    '"connection refused"',
    "exception_type:KeyError",
    "invocation_status.exception_type:KeyError",
    "type:KeyError OR type:ValueError",
    "type:(KeyError OR ValueError)",
    "type:Key*",
    "trace:_split*",
    "message:refused",
    "log:info zanzibar",
    "refund AND NOT order",
    "refund -order",
    "(refund OR quokka) shipped",
    "NOT order",
    "ord* -status",
    "A-10*",
    "zanzibar OR fjord",
    '"alpha omega"',
    f'"alpha {BLOB} omega"',
    "alpha omega",
    "*",
]


@pytest.mark.parametrize("text", PLAIN_TEXT + LANGUAGE)
def test_a_query_finds_exactly_the_records_that_match_it(built, text: str) -> None:
    index, records, _ = built
    expected = expected_seqs(records, parse_query(text).root)
    assert hits(index, text) == expected[:1000]


@pytest.mark.parametrize(("text", "found"), [("x", True), ("the", True), ("https://example.com/orders?id=A-1001", True), ("A-1001", True), ("/var/log/x.log", True), ('"alpha omega"', False)])
def test_what_users_paste_is_searched_as_written(built, text: str, found: bool) -> None:
    index, _, _ = built
    assert bool(hits(index, text)) is found
    assert parse_query(text).literal is False


@pytest.mark.parametrize(("text", "reason"), [("AND", "AND with nothing before"), ("OR NOT", "OR with nothing before"), ('"connection refused', "unterminated quote"), ("(order", "( that is not closed"), ("order)", ") without its (")])
def test_text_the_language_cannot_read_is_searched_literally(built, text: str, reason: str) -> None:
    index, records, _ = built
    result = index.search(SearchRequest(text, [], SearchFilters("acme"), True, 10))
    assert result.query.literal and reason in result.query.reason
    assert result.hits or text == "AND"  # only the operator-words record holds "and"


def test_operators_are_words_when_lowercase_and_urls_are_not_fields(built) -> None:
    index, records, _ = built
    assert hits(index, "and or not") == hits(index, '"and y or not"') != []
    assert parse_query("https://example.com").root.field is None
    assert parse_query("log:https://example.com").root.field == "logs"


def test_query_against_limits_the_fields_and_a_named_field_is_searched_anyway(built) -> None:
    index, records, _ = built
    in_traces = hits(index, "split", fields=["stack_trace"])
    assert in_traces and hits(index, "split", fields=["output"]) == []
    assert hits(index, "type:KeyError", fields=["output"]) == expected_seqs(records, parse_query("type:KeyError").root)
    assert index_fields(["invocation_status.exception_stack_trace", "logs"]) == ["stack_trace", "logs"]
    with pytest.raises(ValidationFailed, match="query_against may be"):
        index_fields(["inputs"])


def test_filters_confine_the_hits(built) -> None:
    index, records, tools = built
    tool = tools["flaky_parser"]
    query = parse_query("order OR refund").root
    assert hits(index, "order OR refund", tool_id=[tool], succeeded=True, source_type=["regular-conversation"]) == expected_seqs(
        records, query, tool_id=[tool], succeeded=["true"], source_type=["regular-conversation"]
    )
    two = [tools["crm_account"], tools["text_stats"]]
    assert hits(index, "order", tool_id=two, succeeded=False) == expected_seqs(records, parse_query("order").root, tool_id=two, succeeded=["false"])
    run = next(r["invocation_source"]["simulation_unit_test_set_run_id"] for _, r in records if r["invocation_source"]["type"] == "simulation-conversation")
    assert hits(index, "*", sim_run_id=[run]) == expected_seqs(records, parse_query("*").root, sim_run_id=[run])
    conversation = records[10][1]["invocation_source"].get("conversation_id") or records[11][1]["invocation_source"]["conversation_id"]
    assert hits(index, "*", conversation_id=[conversation]) == expected_seqs(records, parse_query("*").root, conversation_id=[conversation])
    rival = index.search(SearchRequest("order", [], SearchFilters("rival"), True, 1000)).hits
    assert rival and not set(s for s, _ in rival) & set(hits(index, "order"))


def test_newest_first_and_best_match(built) -> None:
    index, records, _ = built
    newest = hits(index, "order", limit=30)
    assert newest == expected_seqs(records, parse_query("order").root)[:30]
    result = index.search(SearchRequest("quokka", [], SearchFilters("acme"), False, 20))
    scores = [score for _, score in result.hits]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0
    quokka_record = max(seq for seq, _ in records)  # appended in order: quokka*30 is the 6th special
    assert result.hits[0][0] == [seq for seq, r in records if r["invocation_status"].get("output") == "quokka " * 30][0]
    assert quokka_record >= result.hits[0][0]
    assert {s for s, _ in result.hits} <= set(expected_seqs(records, parse_query("quokka").root))


def test_has_more_says_whether_more_matched_than_were_returned(built) -> None:
    index, records, _ = built
    total = len(expected_seqs(records, parse_query("zanzibar").root))
    for newest_first in (True, False):
        ask = lambda limit, n=newest_first: index.search(SearchRequest("zanzibar", [], SearchFilters("acme"), n, limit))  # noqa: E731
        assert ask(total).has_more is False and len(ask(total).hits) == total
        assert ask(total - 1).has_more is True and len(ask(total - 1).hits) == total - 1
        assert ask(0).hits == [] and ask(0).has_more is True


def record_of(records, seq: int) -> dict:
    return dict(records)[seq]


def test_snippets_mark_words_phrases_and_prefixes(built) -> None:
    index, records, _ = built
    result = index.search(SearchRequest('"connection refused" OR type:Key* OR A-1001 OR /var/log/x.log', [], SearchFilters("acme"), True, 1000))
    marked = {}
    for seq, _ in result.hits:
        for field, fragment in snippets(record_of(records, seq), result.query, list(TEXT_FIELDS)).items():
            marked.setdefault(field, []).extend(piece for piece, is_match in split_marks(fragment) if is_match)
    assert "connection refused" in marked["exception_message"]
    assert set(marked["exception_type"]) == {"KeyError"}
    assert "https://example.com/orders?id=A-1001".split("//")[1].split("=")[1] in marked["logs"]  # A-1001 in the URL
    assert "var/log/x.log" in marked["logs"]
    hit = next(seq for seq, _ in result.hits if "LookupError" in str(record_of(records, seq)))
    found = snippets(record_of(records, hit), result.query, list(TEXT_FIELDS))
    assert f"order {MARK_START}A-1001{MARK_END} not found" in found["exception_message"]


def test_snippets_keep_to_the_searched_fields_and_skip_excluded_words(built) -> None:
    index, records, _ = built
    query = parse_query("refund -order")
    for seq in hits(index, "refund -order", fields=["output"], limit=20):
        found = snippets(record_of(records, seq), query, ["output"])
        assert set(found) == {"output"} and "order" not in [p for p, m in split_marks(found["output"]) if m]
    long = "refund " + "word " * 200 + "refund " + "word " * 200 + "refund " + "word " * 200 + "refund"
    fragments = snippets({"invocation_status": {"output": long}}, query, ["output"])["output"].split(" … ")
    assert len(fragments) == 3 and all(f.count(MARK_START) == 1 for f in fragments)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("!!! ---", "no letters or digits"),
        ("x" * 1001, "1,001 characters long; at most 1,000"),
        ("order " * 20_000, "at most 1,000"),
        (" ".join(f"w{i}" for i in range(101)), "101 words or phrases; at most 100"),
        (" ".join(f"w{i}*" for i in range(11)), r"11 prefix\* words; at most 10"),
        ("(" * 17 + "x" + ")" * 17, "more than 16 deep"),
        ("NOT " * 17 + "x", "more than 16 deep"),
    ],
)
def test_blank_and_over_cap_queries_are_refused_with_the_limit(built, text: str, message: str) -> None:
    index, _, _ = built
    with pytest.raises(ValidationFailed, match=message) as error:
        index.search(SearchRequest(text, [], SearchFilters("acme"), True, 10))
    assert error.value.status == 422


def test_bad_fields_and_limits_are_refused(built) -> None:
    index, _, _ = built
    with pytest.raises(ValidationFailed, match="cannot search the fields inputs"):
        index.search(SearchRequest("x", ["inputs"], SearchFilters("acme"), True, 10))
    with pytest.raises(ValidationFailed, match="0 to 1,000 hits"):
        index.search(SearchRequest("x", [], SearchFilters("acme"), True, 5000))


def test_status_reports_engine_progress_and_size(built) -> None:
    index, records, _ = built
    status = index.status()
    assert status.usable and status.problem is None and status.engine == index.engine_name
    assert status.indexed == status.recorded == len(records) and status.size_bytes > 10_000
    assert index.backlog() == 0


def test_the_engine_setting_reads_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert Settings(home=tmp_path).search_engine == "tantivy"
    monkeypatch.setenv("WORKBENCH_SEARCH_ENGINE", "whoosh")
    assert Settings(home=tmp_path).search_engine == "whoosh"
    monkeypatch.setenv("WORKBENCH_SEARCH_ENGINE", "lucene")
    with pytest.raises(Exception, match="tantivy"):
        Settings(home=tmp_path)
