"""The store under stress: concurrent processes, writers killed mid-write, torn log lines."""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from workbench.core.service import ToolService
from workbench.settings import Settings
from workbench.store import InvocationLog
from workbench.synthetic import generate_invocations

from conftest import files_open, tool_environment


def spawn(code: str, home: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env={**os.environ, "WORKBENCH_HOME": str(home)})


CREATE_TOOLS = """
    import sys, time
    from workbench.core.service import ToolService
    prefix, start_at = sys.argv[1], float(sys.argv[2])
    service = ToolService()
    while time.time() < start_at:
        time.sleep(0.001)
    for i in range(200):
        service.create_tool("acme", {{"name": f"{{prefix}}_{{i}}", "description": "d", "tags": {{}}}})
"""


def test_two_processes_creating_200_tools_each_lose_nothing(home: Path) -> None:
    start_at = time.time() + 1.5  # both begin together, after their imports
    code = CREATE_TOOLS.format()
    procs = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), prefix, str(start_at)], env={**os.environ, "WORKBENCH_HOME": str(home)})
        for prefix in ("left", "right")
    ]
    assert [p.wait(timeout=240) for p in procs] == [0, 0]
    service = ToolService(Settings(home=home))
    found = []
    token = 0
    while token is not None:
        page = service.list_tools("acme", {"limit": 20, "continuation_token": token})
        found += [tool.name for tool in page.tools]
        token = page.continuation_token
    assert len(found) == 400
    assert set(found) == {f"{side}_{i}" for side in ("left", "right") for i in range(200)}
    json.loads(service.workspace.paths.metadata.read_text())  # still one valid document


WRITE_FOREVER = """
    from workbench.core.service import ToolService
    service = ToolService()
    i = 0
    while True:
        service.create_tool("acme", {"name": f"t_{i}", "description": "x" * 4_000, "tags": {}})  # the largest description the service takes
        service.modify_envvars("acme", service.find_tool("acme", f"t_{i}").id, {"inserts": [{"name": "TOKEN", "value": "hidden-" + str(i), "is_secret": True}]})
        i += 1
"""


def test_a_writer_killed_mid_write_leaves_the_previous_state_readable(home: Path) -> None:
    rng = random.Random(7)
    seen = 0
    for _ in range(6):
        proc = spawn(WRITE_FOREVER, home)
        time.sleep(1.0 + rng.random())  # interpreter start, then some writes in flight
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        service = ToolService(Settings(home=home))
        json.loads(service.workspace.paths.metadata.read_text())
        count = len(service.list_tools("acme", {"limit": 20}).tools)
        with service.workspace.metadata.read() as view:
            tools = view.tools.of_org("acme")
        assert len(tools) >= seen  # nothing committed is ever lost
        seen = len(tools)
        kept = service.workspace.metadata.store.generations.newest_good(lambda value: None)
        if kept:  # the newest kept copy is the live state or the one before it, never ahead
            copy = {t["name"] for t in kept[1].get("tools", {}).values()}
            assert copy <= {t.name for t in tools} and len(tools) - len(copy) <= 1
        assert count == min(20, seen)
        for tool in tools:  # every committed secret reference still resolves
            _, secrets = tool_environment(service, tool.id)
            assert all(value.startswith("hidden-") for value in secrets.values())
    assert seen > 0
    # the next writer sweeps any temp file a killed one left behind
    ToolService(Settings(home=home)).create_tool("acme", {"name": "after", "description": "d", "tags": {}})
    ToolService(Settings(home=home)).modify_envvars("acme", ToolService(Settings(home=home)).find_tool("acme", "after").id, {"inserts": [{"name": "A", "value": "1", "is_secret": True}]})
    assert not list(home.glob(".*.tmp"))


def test_a_torn_last_line_is_skipped_and_the_next_append_is_whole(tmp_path: Path) -> None:
    log = InvocationLog(tmp_path / "invocations")
    when = datetime(2026, 5, 4, tzinfo=UTC)
    log.append({"id": "one"}, when)
    segment = log.segment_for(when)
    with segment.open("ab") as handle:
        handle.write(b'{"id": "torn", "out')  # a writer died here
    assert [r["id"] for r in log] == ["one"]
    log.append({"id": "two"}, when)
    assert [r["id"] for r in log] == ["one", "two"]
    log.append({"id": "three"}, datetime(2026, 5, 5, tzinfo=UTC))
    assert [p.name for p in log.segments()] == ["2026-05-04.jsonl", "2026-05-05.jsonl"]
    assert [r["id"] for r in log] == ["one", "two", "three"]


def test_concurrent_appends_from_two_processes_interleave_whole_lines(tmp_path: Path) -> None:
    code = """
        import sys
        from datetime import datetime, UTC
        from pathlib import Path
        from workbench.store import InvocationLog
        log = InvocationLog(Path(sys.argv[1]))
        for i in range(300):
            log.append({"who": sys.argv[2], "i": i, "pad": "x" * 5000}, datetime(2026, 1, 1, tzinfo=UTC))
    """
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), str(tmp_path / "inv"), who]) for who in ("a", "b")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    records = list(InvocationLog(tmp_path / "inv"))
    assert len(records) == 600
    for who in ("a", "b"):
        assert [r["i"] for r in records if r["who"] == who] == list(range(300))


def test_a_damaged_line_is_kept_aside_once_however_often_the_log_is_read(home: Path) -> None:
    service = ToolService(Settings(home=home))
    generate_invocations(service, "acme", 50, days=1)
    segment = service.workspace.invocations.segments()[-1]
    with segment.open("ab") as handle:
        handle.write(b'{"id": "cut')  # a writer killed mid-line ...
    generate_invocations(service, "acme", 5, seed=9, days=1)  # ... and the next append closes it
    assert service.count_invocations("acme") == 55
    list(service.workspace.invocations)
    service.workspace.catalog.rebuild("a test asks for it")
    assert service.count_invocations("acme") == 55
    kept = service.workspace.invocations.quarantine.lines()
    assert len(kept) == 1 and base64.b64decode(kept[0]["raw_base64"]) == b'{"id": "cut\n'
    assert kept[0]["segment"] == segment.name and "cut short" in kept[0]["reason"]


def test_a_connection_notices_the_catalog_file_was_replaced_by_another_process(home: Path) -> None:
    first, second = ToolService(Settings(home=home)), ToolService(Settings(home=home))
    generate_invocations(first, "acme", 100, days=1)
    assert first.count_invocations("acme") == 100
    second.workspace.catalog.replace("a test replaces it")  # as `workbench repair` in another process
    generate_invocations(second, "acme", 10, seed=3, days=1)
    assert first.count_invocations("acme") == 110
    assert not [path for path in files_open(first.workspace.catalog.path) if path.endswith("(deleted)")]  # the replaced file is let go


def test_a_catalog_made_before_tails_were_kept_learns_them_and_then_sees_a_cut(home: Path) -> None:
    service = ToolService(Settings(home=home))
    generate_invocations(service, "acme", 100, days=1)
    assert service.count_invocations("acme") == 100
    service.workspace.catalog.query("DELETE FROM segment_marks", [])  # as an older workbench left it
    assert service.count_invocations("acme") == 100
    segment = service.workspace.invocations.segments()[-1]
    data = segment.read_bytes()
    segment.write_bytes(data[:-1] + b"X")  # the last line's newline overwritten: same size
    later = segment.stat().st_mtime_ns + 1_000_000_000  # (an edit a moment later, not in the same clock tick)
    os.utime(segment, ns=(later, later))
    assert service.count_invocations("acme") == 99
    assert "changed before byte" in service.workspace.catalog.last_rebuild()["reason"]


OLDER_ROWS = {  # the invocations table of the two catalogs that called themselves schema 2
    "statistics, no checksums": "segment TEXT NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL, created_ms INTEGER, duration_ms INTEGER, "
    "output_chars INTEGER, exception_type TEXT, mode TEXT",
    "checksums, no statistics": "segment TEXT NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL, crc INTEGER NOT NULL, verbatim INTEGER NOT NULL",
}


@pytest.mark.parametrize("kind", OLDER_ROWS)
def test_a_schema_2_catalog_of_either_kind_is_rebuilt_when_opened(home: Path, kind: str) -> None:
    service = ToolService(Settings(home=home))
    generate_invocations(service, "acme", 60, seed=6, days=2)
    expected = service.list_invocations("acme", {"limit": 100}).model_dump(mode="json")
    catalog = service.workspace.catalog
    catalog.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{catalog.path}{suffix}").unlink(missing_ok=True)
    old = sqlite3.connect(catalog.path)
    old.executescript(
        f"""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        INSERT INTO meta VALUES ('schema', '2'), ('generation', 'old');
        CREATE TABLE segments (name TEXT PRIMARY KEY, synced INTEGER NOT NULL);
        CREATE TABLE invocations (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, org_id TEXT NOT NULL, created_at TEXT NOT NULL,
            tool_id TEXT NOT NULL, major INTEGER, minor INTEGER, patch INTEGER, source_type TEXT, conversation_id TEXT, sim_run_id TEXT,
            succeeded INTEGER, {OLDER_ROWS[kind]});
        """
    )
    old.commit()
    old.close()
    reopened = ToolService(Settings(home=home))
    assert json.loads(reopened.list_invocations_json("acme", {"limit": 100})) == expected
    assert "schema 2" in reopened.workspace.catalog.last_rebuild()["reason"]
    assert all(finding.healthy for finding in reopened.data_health().findings)


def test_closing_one_catalog_connection_keeps_the_locks_of_the_others(service: ToolService) -> None:
    """Closing any descriptor of a file drops all the process's POSIX locks on it: a connection of
    the catalog must not hold a descriptor of its own beside SQLite's, or closing one connection
    frees another's lock, and another process's last connection then takes itself for the last one
    anywhere and removes the write-ahead log under the first (tables vanish: "no such table")."""
    generate_invocations(service, "acme", 5, days=1)
    catalog = service.workspace.catalog
    catalog.sync()
    kept, closed = catalog._open(), catalog._open()
    assert kept.conn.execute("SELECT COUNT(*) FROM invocations").fetchone()[0] == 5
    closed.close()
    write = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(\"INSERT OR REPLACE INTO meta VALUES ('probe', 'x')\"); c.commit(); c.close()"
    subprocess.run([sys.executable, "-c", write, str(catalog.path)], check=True)
    assert Path(f"{catalog.path}-wal").exists()  # still in use here: the other process left it
    assert kept.conn.execute("SELECT COUNT(*) FROM invocations").fetchone()[0] == 5
    kept.close()
