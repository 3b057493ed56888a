"""History pages answered again while the log has not changed.

A page's JSON is a function of what it asks (the organization, the resolved filters, the sort, the
limit and the offset) and of the catalog's contents, which the catalog names by the state it
caught up to (:class:`~workbench.store.catalog.LogState`: its generation and each log segment's
size and mtime). Another process that records an invocation grows a segment, so the next request
sees a different state and the page is read again; a repair or rebuild changes the generation.
Until then the same question has the same answer, and it is sent as it was built: the newest page
that a TUI, a dashboard or several people look at costs a directory read instead of a query, the
log reads and the JSON.

Memory is bounded by a byte budget (the least recently used pages go first), so a client paging
through a long history passes through the cache without growing the process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

PAGE_CACHE_BYTES = 8 * 2**20
"""About forty pages of 100 typical invocations."""


class PageCache:
    """Page bodies by question, each valid only under the state it was read at."""

    def __init__(self, budget: int = PAGE_CACHE_BYTES) -> None:
        self.budget = budget
        self._pages: OrderedDict[Hashable, tuple[Hashable, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()  # a server reads pages in several threads

    def get(self, question: Hashable, state: Hashable) -> bytes | None:
        """The body read for ``question`` under ``state``, if it is kept; one read under another
        state is dropped (it can never be answered again: states do not come back)."""
        with self._lock:
            kept = self._pages.get(question)
            if kept is None:
                return None
            if kept[0] != state:
                self._drop(question)
                return None
            self._pages.move_to_end(question)
            return kept[1]

    def put(self, question: Hashable, state: Hashable, body: bytes) -> None:
        """Keep ``body`` as the answer to ``question`` under ``state`` (a body over a quarter of
        the budget is not kept: it would push out several others)."""
        if len(body) * 4 > self.budget:
            return
        with self._lock:
            if question in self._pages:
                self._drop(question)
            self._pages[question] = (state, body)
            self._size += len(body)
            while self._size > self.budget:
                self._drop(next(iter(self._pages)))

    def _drop(self, question: Hashable) -> None:
        self._size -= len(self._pages.pop(question)[1])

    def __len__(self) -> int:
        return len(self._pages)

    @property
    def size(self) -> int:
        """The bytes of the bodies kept."""
        return self._size
