"""What the app says when background work fails: the service's message, never a traceback."""

from __future__ import annotations

from textual.worker import Worker, WorkerState

from workbench.errors import WorkbenchError


def describe_error(error: BaseException | None) -> str:
    if isinstance(error, WorkbenchError):
        return error.message
    return f"{type(error).__name__}: {error}" if error else "unknown error"


class ReportsWorkerErrors:
    """Mixed into every screen and widget that starts workers. Worker state changes do not bubble,
    so each owner hands failures to the app, which shows them as one notification."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.app.notify(describe_error(event.worker.error), title=event.worker.description or "Error", severity="error", timeout=10)  # type: ignore[attr-defined]
