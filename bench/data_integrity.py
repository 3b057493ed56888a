"""What the data-integrity checks cost: each measured next to the plainest way to do the same job.

* record one invocation (the append path) with 10 and with N records stored, next to a bare
  O_APPEND write + fsync of the same line;
* a catalog catch-up with nothing new (what every history read pays first: a stat per segment,
  compared with what the catalog last saw), next to only stat-ing every segment; and a catch-up
  after one append (one pread of the bytes before the synced offset is checked);
* a metadata write (validated load, commit, plus the kept copy), next to the same write without
  validation or the copy (json.loads + atomic replace under the lock);
* a metadata read (validated, surrogate-checked), next to a bare json.loads of the file;
* the whole health check of a data directory with N records, next to reading every log line
  with json.loads.

    .venv/bin/python bench/data_integrity.py [--records 100000] [--samples 200]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from measure import timed

from workbench.names import new_id
from workbench.core.service import ToolService
from workbench.settings import Settings
from workbench.store.atomic import atomic_write_bytes
from workbench.store.directory import DataDirectory
from workbench.store.health import check
from workbench.store.locks import FileLock
from workbench.synthetic import generate_invocations


def row(label: str, ours: list[float], alternative: list[float] | None = None, alt_label: str = "") -> None:
    mine = statistics.median(ours)
    text = f"  {label:<44} p50 {mine:8.3f} ms"
    if alternative:
        theirs = statistics.median(alternative)
        text += f"   {alt_label}: {theirs:8.3f} ms   ratio {mine / theirs:5.2f}x"
    print(text)


def paired(ours, theirs, samples: int) -> tuple[list[float], list[float]]:
    """Both, alternating, so background disk work weighs on each alike."""
    os.sync()
    mine, other = [], []
    for _ in range(samples):
        mine.append(timed(ours))
        other.append(timed(theirs))
    return mine, other


def bare_append(path: Path, line: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def plain_metadata_write(path: Path, lock: Path, tool: dict) -> None:
    with FileLock(lock):
        state = json.loads(path.read_bytes())
        state.setdefault("tools", {})[str(len(state["tools"]) + 10_000_000)] = tool
        atomic_write_bytes(path, json.dumps(state, sort_keys=True, separators=(",", ":")).encode())


def run(records: int, samples: int) -> None:
    home = Path(tempfile.mkdtemp())
    try:
        service = ToolService(Settings(home=home, runtime="process"))
        log = service.workspace.invocations
        generate_invocations(service, "acme", 10, days=1)
        record = next(iter(log))
        line = json.dumps(record, separators=(",", ":"), sort_keys=True).encode() + b"\n"
        spare = home / "bare.jsonl"

        print(f"\nrecording one invocation ({samples} samples each)")
        today = log.segment_for(datetime.now(UTC))
        small, bare = paired(lambda: log.append({**record, "id": new_id()}, datetime.now(UTC)), lambda: bare_append(spare, line), samples)
        row("append, 10 stored", small, bare, "bare append+fsync")
        generate_invocations(service, "acme", records, seed=2, days=30)
        service.workspace.catalog.sync()
        large, bare = paired(lambda: log.append({**record, "id": new_id()}, datetime.now(UTC)), lambda: bare_append(today, line), samples)
        row(f"append, {records:,} stored", large, bare, "bare append+fsync")
        row(f"append, {records:,} stored", large, small, "10 stored")

        print("\ncatalog catch-up before each read")
        catalog = service.workspace.catalog
        catalog.sync()
        segments = log.segments()
        row(f"nothing new ({len(segments)} segments)", *paired(catalog.sync, lambda: [s.stat() for s in log.segments()], samples), "stat every segment")
        after_one = []
        for _ in range(samples // 4):
            log.append({**record, "id": new_id()}, datetime.now(UTC))
            after_one.append(timed(catalog.sync))
        row("after one append", after_one)

        print("\nmetadata (30 tools)")
        for index in range(30):
            service.create_tool("acme", {"name": f"bench_{index}", "description": "d" * 400, "tags": {}})
        tool = {"name": "x", "description": "d" * 400}
        store = service.workspace.metadata.store  # the untyped store: its writes, as the plain write does them

        def our_write() -> None:
            with store.write() as db:
                db.table("tools").insert(tool)

        row("write (validated, plus kept copy)", *paired(our_write, lambda: plain_metadata_write(store.path, store.lock_path, tool), samples // 2), "plain write")
        row("read (validated)", *paired(store.load, lambda: json.loads(store.path.read_bytes()), samples), "bare json.loads")

        print("\nhealth check")
        directory = DataDirectory.at(service.workspace.paths)
        checked, read_all = paired(lambda: check(directory), lambda: [json.loads(raw) for segment in log.segments() for raw in segment.open("rb")], 3)
        total = service.count_invocations("acme")
        row(f"whole data directory, {total:,} records", checked, read_all, "json.loads every line")
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    run(args.records, args.samples)


if __name__ == "__main__":
    main()
