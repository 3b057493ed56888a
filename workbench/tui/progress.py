"""Long work the whole app shows as one progress bar (an index rebuild, a large backlog being
indexed): what it is, how far it got, and the messages a worker thread posts to move it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.message import Message
from textual.worker import get_current_worker

from workbench.errors import WorkbenchError


@dataclass(frozen=True)
class WorkProgress:
    """``done`` of ``total`` of the work called ``label``."""

    label: str
    done: int
    total: int


class WorkProgressed(Message):
    """Long work went on, or ``ended`` (coalesced: only the newest step matters)."""

    def __init__(self, progress: WorkProgress, ended: bool = False) -> None:
        super().__init__()
        self.progress, self.ended = progress, ended

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, WorkProgressed) and not message.ended and message.progress.label == self.progress.label


class ProgressReporter:
    """Moves the app's progress bar from a worker thread, a step at a time (not per item), stops
    the work when its worker is cancelled, and removes the bar when the work ends (used as a
    context manager: its last message follows its progress on the app's queue)."""

    def __init__(self, post: Callable[[Message], object], label: str, every: int) -> None:
        self.post, self.label, self.every = post, label, every
        self.worker = get_current_worker()
        self.last = -every

    def __call__(self, done: int, total: int) -> None:
        if self.worker.is_cancelled:
            raise WorkbenchError(f"{self.label}: cancelled")
        if done - self.last >= self.every or done >= total:
            self.last = done
            self.post(WorkProgressed(WorkProgress(self.label, done, total)))

    def __enter__(self) -> ProgressReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.post(WorkProgressed(WorkProgress(self.label, 0, 0), ended=True))
