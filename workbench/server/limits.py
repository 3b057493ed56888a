"""Per-endpoint rate limits as the Tools API states them, per credential, over a sliding minute."""

from __future__ import annotations

import threading
import time
from collections import deque

# requests per minute, by operation, as the API's documentation gives them
LIMITS = {
    "create-tool": 20,
    "get-tools": 50,
    "modify-tool": 20,
    "deprecate-tool": 20,
    "modify-tool-envvars": 20,
    "test-tool": 1,
    "publish-tool-version": 10,
    "get-tool-versions": 50,
    "deprecate-tool-version": 20,
    "invoke-tool-version": 10,
    "get-tool-invocations": 50,
    "search-tool-invocations": 50,
    "sign-in-with-api-key": 5,
    "get-tool-scaffold-release": 50,
}
WINDOW = 60.0


class RateLimiter:
    """Counts requests per (caller, operation); says how many remain and when the window frees."""

    def __init__(self) -> None:
        self.calls: dict[tuple[str, str], deque[float]] = {}
        self.lock = threading.Lock()

    def hit(self, caller: str, operation: str) -> tuple[bool, int, int, float]:
        """(allowed, limit, remaining, seconds until a slot frees)."""
        limit = LIMITS[operation]
        now = time.monotonic()
        with self.lock:
            calls = self.calls.setdefault((caller, operation), deque())
            while calls and now - calls[0] >= WINDOW:
                calls.popleft()
            if len(calls) >= limit:
                return False, limit, 0, WINDOW - (now - calls[0])
            calls.append(now)
            reset = WINDOW - (now - calls[0])
            return True, limit, limit - len(calls), reset
