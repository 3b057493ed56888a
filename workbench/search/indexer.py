"""Keeping the search index caught up with the log, without anyone waiting on it.

Long-running faces (the TUI, the server) start the background thread: it indexes whatever is new
shortly after being nudged (by their own records, and by other processes' that their data
watcher sees), and rebuilds (or resumes a rebuild of) an unusable index. A short-lived command
(the CLI) does not wait for the index: the next search catches up what is not indexed yet
(:meth:`Indexer.catch_up`). The indexer has its own catalog connection and index, apart from
the searching threads'.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from workbench.search.index import SearchIndex
from workbench.store.catalog import InvocationCatalog
from workbench.store.invocations import InvocationLog

RETRY_SECONDS = 0.5


class Indexer:
    """Indexes new invocations: in a background thread once started, else on ``flush()``."""

    def __init__(
        self,
        index_dir: Path,
        catalog_path: Path,
        log: InvocationLog,
        engine: str = "tantivy",
        idle_seconds: float = 30.0,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """``log`` is the service's (it decides what a record is); ``on_progress(indexed,
        recorded)`` is told after each successful round of indexing."""
        self.on_progress = on_progress or (lambda indexed, recorded: None)
        self._make = lambda: SearchIndex(index_dir, InvocationCatalog(catalog_path, log), engine)
        self.idle_seconds = idle_seconds
        self.pending = False
        self.rebuilding = False
        self.last_error: str | None = None  # what the last failed attempt said (it is retried)
        self._event = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._background = False
        self._lock = threading.Lock()

    def start_background(self) -> None:
        """Index in a background thread from now on (the thread ends after ``idle_seconds``
        without a nudge and starts again with the next one)."""
        self._background = True
        self._stopping.clear()
        self.nudge()

    def nudge(self, rebuild: bool = False) -> None:
        """There is something new (``rebuild``: the index is unusable): index it soon. An
        unusable index is rebuilt, a killed rebuild resumed; neither is started twice."""
        self.pending = True
        self.rebuilding = self.rebuilding or rebuild
        if not self._background or self._stopping.is_set():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True, name="search-indexer")
                self._thread.start()
        self._event.set()

    def _run(self) -> None:
        index = self._make()
        failures = 0
        try:
            while self._event.wait(self.idle_seconds) and not self._stopping.is_set():
                self._event.clear()
                failures = 0 if self._update(index) else failures + 1
                if failures or self._backlog(index):
                    # Another process held the lock, more arrived, or this attempt failed (a busy
                    # database, a full disk): again shortly, backing off while it keeps failing.
                    self._event.set()
                    self._stopping.wait(min(RETRY_SECONDS * 2**failures, self.idle_seconds))
        finally:
            index.close()
            index.catalog.close()

    def _update(self, index: SearchIndex, blocking: bool = False) -> bool:
        """One attempt (``blocking``: after another process's indexing, rather than leaving it
        to that process); False (and ``last_error``) if it failed. The thread must outlive any
        failure, so every error is caught here."""
        self.pending = False
        try:
            index.update(blocking=blocking)  # rebuilds first when the index is unusable
            recorded = index.catalog.max_seq()
            indexed = recorded - index.backlog()
        except Exception as error:  # noqa: BLE001 - reported through last_error, retried
            self.pending = True
            self.last_error = f"{type(error).__name__}: {error}"
            return False
        self.last_error = None
        self.rebuilding = False
        self.on_progress(indexed, recorded)
        return True

    @staticmethod
    def _backlog(index: SearchIndex) -> int:
        try:
            return index.backlog()
        except Exception:  # noqa: BLE001 - a busy catalog: the next attempt will tell
            return 1

    def flush(self) -> None:
        """Index what is not indexed yet now, in this thread, unless the background thread
        does it."""
        if not self._background:
            self._index_now()

    def catch_up(self) -> None:
        """Something is not indexed yet and a search is about to read: with the background
        thread running, nudge it (the search reads what is indexed now); else index it now, in
        this thread, so the search finds what was recorded until now (what a CLI command left
        behind is a few invocations: moments)."""
        if self._background:
            self.nudge()
        else:
            self._index_now(blocking=True)

    def _index_now(self, blocking: bool = False) -> None:
        index = self._make()
        try:
            self._update(index, blocking)
        finally:
            index.close()
            index.catalog.close()

    def stop(self, timeout: float = 30.0) -> None:
        """End the background thread (after the batch it is committing) and wait for it."""
        self._stopping.set()
        self._event.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
