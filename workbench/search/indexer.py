"""Keeping the search index caught up with the log, without anyone waiting on it.

Long-running faces (the TUI, the server) start the background thread: it indexes whatever is new
shortly after being nudged. A short-lived command (the CLI) instead flushes once before it exits.
The indexer has its own catalog connection and index handles, apart from the searching thread's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from workbench.search.index import SearchIndex
from workbench.store.catalog import InvocationCatalog
from workbench.store.invocations import InvocationLog


class Indexer:
    """Indexes new invocations: in a background thread once started, else on ``flush()``."""

    def __init__(self, index_dir: Path, catalog_path: Path, log_dir: Path, idle_seconds: float = 30.0, on_progress: Callable[[int, int], None] | None = None) -> None:
        """``on_progress(indexed, recorded)`` is told after each round of indexing."""
        self.on_progress = on_progress or (lambda indexed, recorded: None)
        self._make = lambda: SearchIndex(index_dir, InvocationCatalog(catalog_path, InvocationLog(log_dir)))
        self.idle_seconds = idle_seconds
        self.pending = False
        self.rebuilding = False
        self._event = threading.Event()
        self._thread: threading.Thread | None = None
        self._background = False
        self._lock = threading.Lock()

    def start_background(self) -> None:
        self._background = True
        self.nudge()

    def stop(self) -> None:
        """Stop indexing in the background (what is pending is indexed on the next flush)."""
        self._background = False

    def nudge(self, rebuild: bool = False) -> None:
        """There is something new (or the index is unusable): index it soon."""
        self.pending = True
        self.rebuilding = self.rebuilding or rebuild
        if not self._background:
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True, name="search-indexer")
                self._thread.start()
        self._event.set()

    def _run(self) -> None:
        index = self._make()
        try:
            while self._event.wait(self.idle_seconds):
                self._event.clear()
                self._update(index)
                if index.backlog():
                    self._event.set()  # another process held the lock, or more arrived: again
                    threading.Event().wait(0.5)
        finally:
            index.close()
            index.catalog.close()

    def _update(self, index: SearchIndex) -> None:
        self.pending = False
        if self.rebuilding:
            index.rebuild()
            self.rebuilding = False
        else:
            index.update()
        recorded = index.catalog.max_seq()
        self.on_progress(recorded - index.backlog(), recorded)

    def flush(self) -> None:
        """Index what is pending now, in this thread (a CLI command's last act)."""
        if self.pending and not self._background:
            index = self._make()
            try:
                self._update(index)
            finally:
                index.close()
                index.catalog.close()
