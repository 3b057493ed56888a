"""What the app says when background work fails: the service's message, never a traceback, both
where the work was shown (a status line, a results pane) and in the app's messages."""

from __future__ import annotations

from textual.worker import Worker, WorkerState

from workbench.errors import WorkbenchError
from workbench.tui.text import readable_times


def describe_error(error: BaseException | None) -> str:
    """The message a person reads for ``error``, with times shown as local times."""
    if isinstance(error, WorkbenchError):
        return readable_times(error.message)
    return f"{type(error).__name__}: {error}" if error else "unknown error"


class ReportsWorkerErrors:
    """Mixed into every screen and widget that starts workers. Worker state changes do not bubble,
    so each owner ends its own visible state (``work_failed``/``work_cancelled``) and hands the
    failure to the app, which shows it as a notification and keeps it in its messages (F5)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.ERROR:
            message = describe_error(worker.error)
            self.work_failed(worker, message)
            self.app.notify(message, title=worker.description or "Error", severity="error", timeout=10)  # type: ignore[attr-defined]
        elif event.state == WorkerState.CANCELLED and not self._superseded(worker):
            self.work_cancelled(worker)

    def _superseded(self, worker: Worker[object]) -> bool:
        """An exclusive worker cancelled because a newer one of its group started."""
        workers = self.app.workers  # type: ignore[attr-defined]
        return any(w is not worker and w.group == worker.group and w.node is worker.node and not w.is_finished for w in workers)

    def work_failed(self, worker: Worker[object], message: str) -> None:
        """Show the failure where the work was shown; by default only the notification does."""

    def work_cancelled(self, worker: Worker[object]) -> None:
        """End what the cancelled work showed (a "running …" line, say)."""
