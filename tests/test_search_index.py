"""The search index's life, with both engines: rebuilt with the same answers when missing,
damaged, of another engine or of another catalog; a killed indexer neither loses nor duplicates
documents; processes index at once; a searcher sees another process's commit; threads share it;
the background indexer."""

from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from search_history import append_special, make_record, open_catalog

from workbench.core.service import ToolService
from workbench.search import (
    Indexer,
    IndexUnusable,
    SearchFilters,
    SearchIndex,
    SearchRequest,
)
from workbench.settings import Settings
from workbench.store.invocations import InvocationLog
from workbench.synthetic import generate_invocations

ENGINES = ["tantivy", "whoosh"]
ROOT = Path(__file__).resolve().parent.parent
QUERIES = ("zanzibar", '"connection refused"', "type:KeyError", "A-1001", "order -status")
# Appends COUNT records mentioning WORD to the log of HOME (argv: home, word, count, first number).
APPEND = """
import sys
from datetime import UTC, datetime
from pathlib import Path
sys.path.insert(0, {tests!r})
from search_history import make_record
from workbench.store.invocations import InvocationLog
def append(home, word, count, first):
    now = datetime.now(UTC)
    InvocationLog(Path(home) / "invocations").append_many(
        [(make_record("acme", "ab" * 12, first + i, now, output=f"{{word}} item {{i}}"), now) for i in range(count)])
"""


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data directory with 500 generated invocations and the hand-written ones."""
    home = tmp_path / "data"
    service = ToolService(Settings(home=home, runtime="process"))
    tools = generate_invocations(service, "acme", 500, seed=3)
    append_special(service.workspace.invocations, tools["order_status"])
    return home


def make_index(home: Path, engine: str) -> SearchIndex:
    return SearchIndex(home / "index" / "search", open_catalog(home), engine)


def answers(index: SearchIndex) -> list[list[int]]:
    return [seqs(index, q) for q in QUERIES]


def seqs(index: SearchIndex, text: str = "*") -> list[int]:
    return [seq for seq, _ in index.search(SearchRequest(text, [], SearchFilters("acme"), True, 1000)).hits]


def run_python(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], cwd=ROOT, stderr=subprocess.PIPE, text=True)


def append(home: Path, word: str, count: int, first: int) -> None:
    now = datetime.now(UTC)
    InvocationLog(home / "invocations").append_many([(make_record("acme", "ab" * 12, first + i, now, output=f"{word} item {i}"), now) for i in range(count)])


def test_a_missing_damaged_or_outdated_index_is_rebuilt_with_the_same_answers(home: Path, engine: str) -> None:
    index = make_index(home, engine)
    with pytest.raises(IndexUnusable, match="does not exist yet"):
        index.check()
    progress: list[tuple[int, int]] = []
    assert index.update(progress=lambda done, total: progress.append((done, total)), blocking=True) == 507
    assert progress[0] == (0, 507) and progress[-1] == (507, 507)
    expected = answers(index)
    assert all(expected)
    index.close()

    shutil.rmtree(home / "index" / "search")
    fresh = make_index(home, engine)
    with pytest.raises(IndexUnusable, match="does not exist yet"):
        fresh.search(SearchRequest("order", [], SearchFilters("acme"), True, 10))
    fresh.rebuild()
    assert answers(fresh) == expected
    fresh.close()
    # Files are damaged in place below, as a crash or a disk would: nothing of this process may
    # still map them then (an engine let go but not yet collected would read a truncated file).
    del index, fresh
    gc.collect()

    data = home / "index" / "search" / json.loads((home / "index" / "search" / "meta.json").read_text())["data"]
    for path in data.rglob("*"):
        if path.is_file() and not path.name.startswith(".") and path.suffix != ".lock":
            path.write_bytes(b"garbage")
    damaged = make_index(home, engine)
    status = damaged.status()
    assert not status.usable and "damaged" in status.problem
    damaged.update(blocking=True)
    assert answers(damaged) == expected
    damaged.close()

    meta_path = home / "index" / "search" / "meta.json"
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), "schema": 1}))
    older = make_index(home, engine)
    assert "schema 1" in older.status().problem
    older.update(blocking=True)
    assert answers(older) == expected
    meta_path.write_text("{not json")
    assert "meta.json is unreadable" in make_index(home, engine).status().problem


def test_switching_engines_rebuilds_with_the_other_engine_and_the_same_answers(home: Path, engine: str) -> None:
    other = "whoosh" if engine == "tantivy" else "tantivy"
    first = make_index(home, other)
    first.rebuild()
    expected = answers(first)
    switched = make_index(home, engine)
    with pytest.raises(IndexUnusable, match=f"built with {other}, this workbench is set to {engine}"):
        switched.check()
    switched.update(blocking=True)
    assert answers(switched) == expected
    assert sorted(p.name.split("-")[0] for p in (home / "index" / "search").iterdir() if p.is_dir()) == [engine]
    with pytest.raises(IndexUnusable, match=f"built with {engine}"):
        make_index(home, other).check()  # and the first one's handle now sees the switch too
    with pytest.raises(IndexUnusable):
        first.check()


def test_a_rebuilt_catalog_rebuilds_the_index(home: Path, engine: str) -> None:
    index = make_index(home, engine)
    index.rebuild()
    expected = answers(index)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{home / 'index' / 'catalog.sqlite'}{suffix}").unlink(missing_ok=True)
    rebuilt = make_index(home, engine)  # a new catalog: a new generation, maybe new seqs
    with pytest.raises(IndexUnusable, match="catalog was rebuilt"):
        rebuilt.check()
    rebuilt.update(blocking=True)
    assert answers(rebuilt) == expected


KILLED_INDEXER = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, "tests")
from search_history import open_catalog
from workbench.search import SearchIndex
from workbench.search.engine import engine_class
home, engine, die_at = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
engine_class(engine).batch_size = 50  # many commits in a small history
index = SearchIndex(home / "index" / "search", open_catalog(home), engine)
checkpoint, commits = SearchIndex._checkpoint, []
def checkpoint_or_die(self, meta, seq):
    commits.append(seq)
    if len(commits) == die_at:
        os.kill(os.getpid(), signal.SIGKILL)  # the batch is committed, its checkpoint not written
    return checkpoint(self, meta, seq)
SearchIndex._checkpoint = checkpoint_or_die
index.update(blocking=True)
"""


def test_a_killed_indexer_neither_loses_nor_duplicates_documents(home: Path, engine: str) -> None:
    meta_path = home / "index" / "search" / "meta.json"
    # 1. killed during the first build, after its third commit and before that checkpoint
    proc = run_python(KILLED_INDEXER, home, engine, 3)
    assert proc.wait(120) == -signal.SIGKILL
    meta = json.loads(meta_path.read_text())
    assert meta["building"] and meta["indexed_seq"] == 100
    index = make_index(home, engine)
    with pytest.raises(IndexUnusable, match="being rebuilt \\(100 of 507"):
        index.check()
    assert index.update(blocking=True) == 507 - 150  # resumed after the third commit, not redone
    assert sorted(seqs(index)) == list(range(1, 508))

    # 2. killed during an incremental update, likewise
    append(home, "walrus", 300, 10**6)
    proc = run_python(KILLED_INDEXER, home, engine, 2)
    assert proc.wait(120) == -signal.SIGKILL
    assert json.loads(meta_path.read_text())["indexed_seq"] == 507 + 50
    assert index.update(blocking=True) == 300 - 100
    assert sorted(seqs(index)) == list(range(1, 808))

    # 3. killed at whatever moment it happens to be at
    append(home, "narwhal", 400, 2 * 10**6)
    proc = run_python(KILLED_INDEXER, home, engine, 10**9)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and json.loads(meta_path.read_text())["indexed_seq"] == 807:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(60)
    index.update(blocking=True)
    assert sorted(seqs(index, "narwhal OR walrus")) == list(range(508, 1208))
    assert index.status().indexed == index.status().recorded == 1207


TWO_WRITERS = APPEND + """
from search_history import open_catalog
from workbench.search import IndexUnusable, SearchIndex, SearchRequest, SearchFilters
home, engine, number = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
index = SearchIndex(home / "index" / "search", open_catalog(home), engine)
for round in range(6):
    append(home, f"round{{round}}", 40, number * 10**6 + round * 1000)
    index.update(blocking=round % 2 == 1)
    if number == 1 and round == 2:
        index.rebuild()
    try:
        index.search(SearchRequest("item", [], SearchFilters("acme"), True, 10))
    except IndexUnusable as error:  # the other process is rebuilding: the service answers 503
        assert error.building, error
"""


def test_two_processes_indexing_at_once_leave_one_complete_index(home: Path, engine: str) -> None:
    make_index(home, engine).rebuild()
    procs = [run_python(TWO_WRITERS.format(tests=str(ROOT / "tests")), home, engine, n) for n in (1, 2)]
    results = [(p.wait(300), p.stderr.read()) for p in procs]
    assert all(code == 0 for code, _ in results), results
    index = make_index(home, engine)
    index.update(blocking=True)
    assert sorted(seqs(index, "item")) == list(range(508, 508 + 480))
    assert index.status().indexed == index.status().recorded == 507 + 480


def test_a_searcher_sees_another_process_commit_and_threads_share_it(home: Path, engine: str) -> None:
    index = make_index(home, engine)
    index.rebuild()
    assert seqs(index, "quetzal") == []
    code = APPEND.format(tests=str(ROOT / "tests")) + """
from search_history import open_catalog
from workbench.search import SearchIndex
append(sys.argv[1], "quetzal", 3, 5 * 10**6)
SearchIndex(Path(sys.argv[1]) / "index" / "search", open_catalog(Path(sys.argv[1])), sys.argv[2]).update(blocking=True)
"""
    proc = run_python(code, home, engine)
    assert proc.wait(120) == 0, proc.stderr.read()
    assert len(seqs(index, "quetzal")) == 3  # the same handle, reloaded

    failures: list[str] = []
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set():
            try:
                page = [s for s, _ in index.search(SearchRequest("item OR order", [], SearchFilters("acme"), True, 50)).hits]
                if page != sorted(page, reverse=True) or len(page) != 50:
                    failures.append(f"bad page {page[:5]}")
            except Exception as error:  # noqa: BLE001 - any error in a thread is the failure
                failures.append(repr(error))

    threads = [threading.Thread(target=searcher) for _ in range(6)]
    for thread in threads:
        thread.start()
    writer = make_index(home, engine)
    for round in range(5):
        append(home, "item", 30, 6 * 10**6 + round * 100)
        writer.update(blocking=True)
    stop.set()
    for thread in threads:
        thread.join(30)
    assert failures == []
    assert len(seqs(index, "item")) == 153


def test_the_background_indexer_and_the_flush(home: Path, engine: str) -> None:
    paths = (home / "index" / "search", home / "index" / "catalog.sqlite", InvocationLog(home / "invocations"))
    index = make_index(home, engine)
    caught_up = threading.Event()
    rounds: list[tuple[int, int]] = []

    def progress(indexed: int, recorded: int) -> None:
        rounds.append((indexed, recorded))
        if indexed == recorded:
            caught_up.set()

    background = Indexer(*paths, engine=engine, idle_seconds=5, on_progress=progress)
    background.start_background()  # the index is missing: the first nudge builds it
    assert caught_up.wait(60), f"the background indexer never caught up: {rounds} {background.last_error}"
    assert index.status().indexed == 507
    caught_up.clear()
    append(home, "axolotl", 2, 7 * 10**6)
    background.nudge()
    assert caught_up.wait(60), f"the background indexer never caught up: {rounds} {background.last_error}"
    assert len(seqs(index, "axolotl")) == 2
    background.stop()
    assert background.last_error is None

    append(home, "okapi", 1, 8 * 10**6)
    command = Indexer(*paths, engine=engine)
    command.nudge()  # a CLI command recorded something: nothing happens until it flushes
    assert seqs(index, "okapi") == []
    command.flush()
    assert len(seqs(index, "okapi")) == 1
    append(home, "pangolin", 2, 9 * 10**6)
    assert seqs(index, "pangolin") == []
    command.catch_up()  # what a search does first in a process without the background thread
    assert len(seqs(index, "pangolin")) == 2
    assert os.path.exists(home / "index" / "search.lock")
