"""Per-tool operation locks: publish and deprecate of one tool never run at once."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from workbench.errors import Conflict
from workbench.store import FileLock, LockBusy


class OperationLocks:
    """Serializes publish and deprecate of one tool across threads and processes; a second one
    gets 409 at once instead of waiting."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def hold(self, tool_id: str) -> _Held:
        return _Held(FileLock(self.directory / f"{tool_id}.lock", blocking=False), tool_id)


class _Held:
    def __init__(self, lock: FileLock, tool_id: str) -> None:
        self._lock = lock
        self._tool_id = tool_id

    def __enter__(self) -> None:
        try:
            self._lock.acquire()
        except LockBusy:
            raise Conflict(
                f"a related operation (publish or deprecate) on tool {self._tool_id} is in progress; "
                "retry when it has finished"
            ) from None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._lock.release()
