"""News of changes from the kernel: a catalog with no news since its last catch-up answers without
looking at the log's segments, yet sees at once what another process appends, cuts or replaces;
where the watch cannot vouch (a fork, a removed directory, no inotify) it looks every time."""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.connection import Connection
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.core.service import ToolService
from workbench.store import catalog as catalog_module
from workbench.store.watch import ChangeWatch, open_watch
from workbench.synthetic import generate_invocations


def test_a_watch_tells_of_what_another_process_does_and_only_that(tmp_path: Path) -> None:
    (tmp_path / "seen").mkdir()
    (tmp_path / "seen" / "a.jsonl").write_bytes(b"one\n")
    watch = open_watch({tmp_path / "seen": lambda name: name.endswith(".jsonl")})
    assert watch is not None and not watch.changed()
    subprocess.run([sys.executable, "-c", f"open({str(tmp_path / 'seen' / 'a.jsonl')!r}, 'ab').write(b'two\\n')"], check=True)
    assert watch.changed() and not watch.changed()  # told once
    (tmp_path / "seen" / "other.lock").write_bytes(b"")  # a name that does not count
    assert not watch.changed()
    os.truncate(tmp_path / "seen" / "a.jsonl", 2)
    assert watch.changed()
    os.rename(tmp_path / "seen", tmp_path / "moved")  # the directory itself: the watch has lost track
    assert watch.changed() and not watch.usable and watch.changed()
    watch.close()


def _changed_in_child(watch: ChangeWatch, answer: Connection) -> None:
    answer.send(watch.changed())


def test_a_forked_process_never_trusts_its_parents_watch(tmp_path: Path) -> None:
    watch = open_watch({tmp_path: lambda name: True})
    assert watch is not None and not watch.changed()
    mine, theirs = multiprocessing.get_context("fork").Pipe()
    child = multiprocessing.get_context("fork").Process(target=_changed_in_child, args=(watch, theirs))
    child.start()
    child.join(30)
    assert mine.recv() is True  # it cannot vouch: the parent takes the events
    assert not watch.changed()  # and the parent's own watch is untouched
    watch.close()


def test_with_no_news_a_catch_up_does_not_look_at_the_segments(service: ToolService, settings, clock, monkeypatch: pytest.MonkeyPatch) -> None:
    generate_invocations(service, "acme", 20, seed=5, days=3)
    catalog = service.workspace.catalog
    looks: list[int] = []
    segment_files = catalog._segment_files
    monkeypatch.setattr(catalog, "_segment_files", lambda: looks.append(1) or segment_files())
    for _ in range(3):
        catalog.sync()
    assert catalog.count() == 20 and 1 <= len(looks) <= 3  # news of its own writes, then quiet
    looks.clear()
    catalog.sync()
    assert looks == []
    other = ToolService(settings, clock=clock)  # another process appending
    generate_invocations(other, "acme", 5, seed=6, days=3)
    assert catalog.caught_up_at_once() is None  # news: it must look
    assert catalog.sync() == 5 and looks


def test_without_a_watch_every_catch_up_looks(service: ToolService, settings, clock, monkeypatch: pytest.MonkeyPatch) -> None:
    tries: list[int] = []
    monkeypatch.setattr(catalog_module, "open_watch", lambda directories: tries.append(1))  # a system without inotify
    generate_invocations(service, "acme", 20, seed=5, days=3)
    catalog = service.workspace.catalog
    catalog.sync()
    assert catalog.caught_up_at_once() is None
    assert len(tries) == 1  # asked again only after a while: each try costs system calls
    other = ToolService(settings, clock=clock)
    generate_invocations(other, "acme", 5, seed=6, days=3)
    assert catalog.sync() == 5
    assert service.count_invocations("acme") == 25


def test_a_catalog_replaced_by_another_process_is_news(service: ToolService, settings, clock) -> None:
    generate_invocations(service, "acme", 20, seed=5, days=3)
    catalog = service.workspace.catalog
    catalog.sync()
    catalog.sync()
    assert catalog.caught_up_at_once() is not None
    other = ToolService(settings, clock=clock)
    other.workspace.catalog.rebuild("a test")  # a new generation, written by another process
    assert catalog.caught_up_at_once() is None
    assert catalog.caught_up().generation == other.workspace.catalog.caught_up().generation
