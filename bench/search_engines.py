"""The search engines side by side on one generated history: tantivy (the default), Whoosh (the
supported alternative) and, as the outside reference, an SQLite FTS5 table over the same
documents. Builds each index (documents/s, size on disk), then times common-term, rare-term and
phrase queries, newest first and best match (p50 / p95, through ``SearchIndex.search`` for the
engines, plain SQL for FTS5), a query at the clause cap, snippets for a page of hits, and how fast
a 100,000-character query is refused. Prints medians and the ratios to tantivy.

    .venv/bin/python bench/search_engines.py [--sizes 100000] [--samples 50] [--whoosh-max 200000]
    .venv/bin/python bench/search_engines.py --sizes 1000000      # tantivy and FTS5 at 1M
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from measure import percentile, timings

from workbench.core.service import ToolService
from workbench.errors import ValidationFailed
from workbench.search import SearchFilters, SearchIndex, SearchRequest, snippets
from workbench.search.fields import TEXT_FIELDS, document
from workbench.settings import Settings
from workbench.store.catalog import InvocationCatalog
from workbench.synthetic import generate_invocations

QUERIES = {  # label: (workbench query, FTS5 query)
    "common term (order)": ("order", "order"),
    "rare term (zanzibar)": ("zanzibar", "zanzibar"),
    'phrase ("connection refused")': ('"connection refused"', '"connection refused"'),
}
AT_THE_CAP = " OR ".join(f"word{i}" for i in range(99)) + " OR order"  # 100 words, 1 common
LIMIT = 20


def build_engine(catalog: InvocationCatalog, directory: Path, engine: str) -> tuple[SearchIndex, float, int]:
    index = SearchIndex(directory, catalog, engine)
    started = time.perf_counter()
    count = index.rebuild()
    elapsed = time.perf_counter() - started
    size = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
    return index, count / elapsed, size


def build_fts5(catalog: InvocationCatalog, path: Path) -> tuple[sqlite3.Connection, float, int]:
    """The same documents in a contentless FTS5 table (it stores no text, as the engines do not;
    unicode61 splits on non-alphanumerics and folds case, like the workbench tokenizer); the org is
    an indexed column matched with the query; rowid = seq, so newest first is ORDER BY rowid DESC."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"CREATE VIRTUAL TABLE docs USING fts5({', '.join(TEXT_FIELDS)}, org_id, content='', tokenize='unicode61 remove_diacritics 0')")
    started = time.perf_counter()
    count = 0
    with conn:
        for rows in catalog.iter_all(10_000):
            records = catalog.read([(segment, offset, length) for _, segment, offset, length in rows])
            docs = [document(row[0], record) for row, record in zip(rows, records)]
            conn.executemany(
                f"INSERT INTO docs (rowid, {', '.join(TEXT_FIELDS)}, org_id) VALUES (?, {', '.join('?' * len(TEXT_FIELDS))}, ?)",
                [(d["seq"], *(d.get(f, "") for f in TEXT_FIELDS), d["org_id"]) for d in docs],
            )
            count += len(docs)
    conn.execute("INSERT INTO docs(docs) VALUES ('optimize')")  # merged segments, as a fair reader
    elapsed = time.perf_counter() - started
    size = sum(Path(f"{path}{suffix}").stat().st_size for suffix in ("", "-wal") if Path(f"{path}{suffix}").exists())
    return conn, count / elapsed, size


def fts5_search(conn: sqlite3.Connection, match: str, newest_first: bool) -> list[tuple[int]]:
    order = "rowid DESC" if newest_first else "rank"
    return conn.execute(f"SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY {order} LIMIT ?", (f"org_id: acme AND ({match})", LIMIT + 1)).fetchall()


def report(label: str, results: dict[str, list[float]]) -> None:
    base = statistics.median(results["tantivy"])
    cells = []
    for engine, values in results.items():
        p50 = statistics.median(values)
        ratio = "" if engine == "tantivy" else f" ({p50 / base:5.1f}x)"
        cells.append(f"{engine} {p50:7.2f} / {percentile(values, 0.95):7.2f} ms{ratio}")
    print(f"  {label:<44} " + "   ".join(cells))


def run(size: int, samples: int, whoosh_max: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="search-bench-"))
    try:
        service = ToolService(Settings(home=home, runtime="process"))
        started = time.perf_counter()
        generate_invocations(service, "acme", size, seed=1)
        catalog = service.workspace.catalog
        catalog.sync()
        print(f"\n{size:,} invocations (generated and catalogued in {time.perf_counter() - started:.0f} s)")

        engines = ["tantivy"] + (["whoosh"] if size <= whoosh_max else [])
        indexes = {}
        for engine in engines:
            index, rate, bytes_ = build_engine(catalog, home / f"search-{engine}", engine)
            indexes[engine] = index
            print(f"  build {engine:<8} {rate:9,.0f} documents/s   {size / rate:7.1f} s   {bytes_ / 1e6:8.1f} MB")
        conn, rate, bytes_ = build_fts5(catalog, home / "fts5.sqlite")
        print(f"  build {'fts5':<8} {rate:9,.0f} documents/s   {size / rate:7.1f} s   {bytes_ / 1e6:8.1f} MB")
        if "whoosh" not in engines:
            print(f"  (Whoosh skipped above {whoosh_max:,} invocations: --whoosh-max)")

        filters = SearchFilters("acme")
        for label, (text, match) in QUERIES.items():  # the same documents found, or the race is unfair
            answers = {engine: [seq for seq, _ in index.search(SearchRequest(text, [], filters, True, LIMIT)).hits] for engine, index in indexes.items()}
            answers["fts5"] = [row[0] for row in fts5_search(conn, match, True)][:LIMIT]
            agree = all(found == answers["tantivy"] for found in answers.values())
            print(f"  newest {LIMIT} for {label}: {'the same in every engine' if agree else 'DIFFER: ' + repr(answers)}")
        for newest_first, order in ((True, "newest first"), (False, "best match")):
            for label, (text, match) in QUERIES.items():
                request = SearchRequest(text, [], filters, newest_first, LIMIT)
                results = {engine: timings(lambda i=index, r=request: i.search(r), samples) for engine, index in indexes.items()}
                results["fts5"] = timings(lambda m=match, n=newest_first: fts5_search(conn, m, n), samples)
                report(f"{order}: {label}", results)
            at_cap = SearchRequest(AT_THE_CAP, [], filters, newest_first, LIMIT)
            report(f"{order}: 100 words OR-ed (the cap)", {e: timings(lambda i=i, r=at_cap: i.search(r), max(5, samples // 5)) for e, i in indexes.items()})

        tantivy = indexes["tantivy"]
        result = tantivy.search(SearchRequest("order", [], filters, True, LIMIT))
        located = {row[0]: row[1:] for row in catalog.query(f"SELECT seq, segment, offset, length FROM invocations WHERE seq IN ({','.join('?' * len(result.hits))})", [s for s, _ in result.hits])}
        records = catalog.read([located[seq] for seq, _ in result.hits])
        values = timings(lambda: [snippets(r, result.query, list(TEXT_FIELDS)) for r in records], samples)
        print(f"  snippets for a page of {LIMIT} hits (common term): p50 {statistics.median(values):.2f} ms, p95 {percentile(values, 0.95):.2f} ms")

        def refuse() -> None:
            try:
                tantivy.search(SearchRequest("order " * 20_000, [], filters, True, LIMIT))
            except ValidationFailed:
                pass

        values = timings(refuse, samples)
        print(f"  a 120,000-character query refused (422): p50 {statistics.median(values) * 1000:.0f} µs")
        for index in indexes.values():
            index.close()
        conn.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--whoosh-max", type=int, default=200_000, help="skip Whoosh above this many invocations (it builds at ~1,000/s)")
    args = parser.parse_args()
    print("p50 / p95 per engine; ratios are p50 against tantivy; filter: one org; limit 20 (+1 for has_more)")
    for size in args.sizes:
        run(size, args.samples, args.whoosh_max)


if __name__ == "__main__":
    main()
