"""The service: every operation of the Tools API, implemented once, organization-scoped.

The TUI, the CLI and the HTTP server call this and nothing else; no domain rule lives in them.
Each group of operations has its own module; this class puts them together.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from workbench.core.context import ServiceContext
from workbench.core.apikeys import ApiKeyOperations
from workbench.core.history import HistoryOperations
from workbench.core.models import utcnow
from workbench.settings import Settings


class ToolService(HistoryOperations, ApiKeyOperations):
    """Tools, their environment variables, versions and invocations, for any organization."""

    def __init__(self, settings: Settings | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.ctx = ServiceContext(settings or Settings(), clock)
        self.settings = self.ctx.settings
        self.paths = self.ctx.paths
