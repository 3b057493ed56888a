"""Memory that a burst of requests took is given back once the server is idle.

CPython frees objects into the C allocator, and glibc keeps freed memory in per-thread arenas
instead of returning it to the system: after fifty clients a server stays at its peak. Here the
arenas are capped at two (glibc makes up to eight per core otherwise, one for each busy thread),
and a second after the last request of a burst has been answered, free memory is handed back
(``malloc_trim``). Elsewhere than glibc both are skipped: the allocator is then the system's
business.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from workbench.server.wire import Receive, Scope, Send

IDLE_SECONDS = 1.0
M_ARENA_MAX = -8  # glibc's mallopt parameter


def _glibc() -> Any | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


class ReturnMemory:
    """ASGI middleware: counts the requests in flight, and when none has been for
    ``IDLE_SECONDS`` after some were answered, returns free memory to the system."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], idle_seconds: float = IDLE_SECONDS) -> None:
        self.app = app
        self.idle_seconds = idle_seconds
        self.libc = _glibc()
        if self.libc is not None:
            self.libc.mallopt(M_ARENA_MAX, 2)  # before the thread pools start their threads
        self.in_flight = 0
        self.answered = 0  # requests answered since memory was last returned
        self.timer: asyncio.TimerHandle | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.libc is None:
            await self.app(scope, receive, send)
            return
        self.in_flight += 1
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self.answered += 1
            if self.in_flight == 0:
                self.timer = asyncio.get_running_loop().call_later(self.idle_seconds, self._when_idle)

    def _when_idle(self) -> None:
        self.timer = None
        if self.in_flight == 0 and self.answered:
            self.answered = 0
            asyncio.get_running_loop().run_in_executor(None, self.libc.malloc_trim, 0)  # type: ignore[union-attr]
