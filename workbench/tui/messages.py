"""What the app is told: the workbench's events as Textual messages.

The core emits events (invocations recorded, versions published, tools changed) in whatever
thread they happen, this process's or, through the data watcher, another's. A widget that
follows the workbench receives each one as a :class:`WorkbenchChanged` message on its own
message queue, so its handlers run on the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.message import Message

from workbench.core.events import Event
from workbench.tui.uses_api import UsesApi


class WorkbenchChanged(Message):
    """Something changed in the data the app shows."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class ShowInvocationInHistory(Message):
    """The user wants this invocation in History (the app routes it; the screen cannot know
    how History is shown). Carries the run's ids so History can filter by them too."""

    def __init__(self, invocation_id: str, simulation_unit_test_set_run_id: str | None, conversation_id: str | None) -> None:
        super().__init__()
        self.invocation_id = invocation_id
        self.simulation_unit_test_set_run_id = simulation_unit_test_set_run_id
        self.conversation_id = conversation_id


class FollowsWorkbench(UsesApi):
    """Mixed into screens and widgets that update live: while mounted they receive every
    workbench event as a :class:`WorkbenchChanged` message."""

    _stop_following: Callable[[], None] | None = None

    def on_mount(self) -> None:
        post = self.post_message  # type: ignore[attr-defined]
        self._stop_following = self.api.subscribe(lambda event: post(WorkbenchChanged(event)))  # type: ignore[attr-defined]

    def on_unmount(self) -> None:
        if self._stop_following is not None:
            self._stop_following()
            self._stop_following = None


class ShowInvocations(Message):
    """Open these invocations in History: ``query`` is a list-invocations query (with the
    workbench's ``exception_type`` and ``created_after`` filters), ``title`` says what they are."""

    def __init__(self, query: dict[str, Any], title: str) -> None:
        super().__init__()
        self.query, self.title = query, title
