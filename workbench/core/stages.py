"""The stages of a publish or a test, each reported as it happens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from workbench.core.results import StageEvent, StageListener
from workbench.errors import BadRequest, StageFailed, WorkbenchError


class Stages:
    """Reports each stage's progress to a listener (the TUI shows them live). A stage that fails
    with a rule's error says which stage it was."""

    def __init__(self, listener: StageListener | None) -> None:
        self.listener: StageListener = listener or (lambda event: None)

    @contextmanager
    def run(self, stage: str) -> Iterator[Callable[[str], None]]:
        self.listener(StageEvent(stage, "running"))
        try:
            yield lambda line: self.listener(StageEvent(stage, "output", line))
        except WorkbenchError as error:
            self.listener(StageEvent(stage, "failed", error.message))
            if isinstance(error, BadRequest) and not isinstance(error, StageFailed) and stage not in ("resolve", "record"):
                raise StageFailed(stage, error.message) from None
            raise
        except Exception as error:
            self.listener(StageEvent(stage, "failed", str(error)))
            raise StageFailed(stage, f"{type(error).__name__}: {error}") from error
        self.listener(StageEvent(stage, "passed"))

    def reused(self, stages: tuple[str, ...], why: str) -> None:
        for stage in stages:
            self.listener(StageEvent(stage, "passed", why))
