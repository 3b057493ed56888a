"""What happened in a data directory, told to whoever listens.

The service emits an event when it records invocations, publishes or deprecates versions, or
changes tools and variables. A :class:`DataWatcher` notices what *other* processes (a CLI, a
server, another app) wrote to the same data directory and emits the same events, cheaply: it
compares file sizes and modification stamps, nothing more. The TUI turns events into Textual
messages; the core knows nothing of Textual.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class InvocationsRecorded:
    """New invocation records exist (``org_id`` None: another process wrote them, org unknown)."""

    org_id: str | None
    tool_id: str | None = None
    count: int = 0


@dataclass(frozen=True)
class VersionPublished:
    org_id: str
    tool_id: str
    version: str


@dataclass(frozen=True)
class PublishProgress:
    """A stage of a publish of this process started, passed, failed or printed a line."""

    org_id: str
    tool_id: str
    stage: str
    state: str
    detail: str = ""


@dataclass(frozen=True)
class VersionsDeprecated:
    org_id: str
    tool_id: str
    versions: tuple[str, ...]


@dataclass(frozen=True)
class ToolsChanged:
    """Tools, versions or variables changed (``org_id`` None: another process changed them)."""

    org_id: str | None
    tool_id: str | None = None


@dataclass(frozen=True)
class IndexProgress:
    """The search index caught up (or is being rebuilt): ``done`` of ``total`` invocations."""

    done: int
    total: int
    rebuilding: bool = False


Event = InvocationsRecorded | VersionPublished | PublishProgress | VersionsDeprecated | ToolsChanged | IndexProgress
Listener = Callable[[Event], None]


class EventBus:
    """Delivers each event to every listener, in the thread that emits it. A failing listener
    never breaks the operation that emitted the event."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Listen; returns the function that stops listening."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def emit(self, event: Event) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a listener's bug must not fail a publish or an invoke
                pass


@dataclass
class _Stamp:
    log: tuple[tuple[str, int], ...] = ()
    metadata: tuple[int, int] = (0, 0)


@dataclass
class DataWatcher:
    """Polls a data directory for changes made by any process and emits them as events.

    Changes this process made are emitted by the service as they happen; the watcher remembers
    what it has seen, so after ``mark_seen()`` it does not announce them a second time."""

    log_dir: Path
    metadata_file: Path
    bus: EventBus
    interval: float = 0.5
    _seen: _Stamp = field(default_factory=_Stamp)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _stamp(self) -> _Stamp:
        try:
            segments = tuple(sorted((p.name, p.stat().st_size) for p in self.log_dir.glob("*.jsonl")))
        except OSError:
            segments = ()
        try:
            stat = self.metadata_file.stat()
            meta = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            meta = (0, 0)
        return _Stamp(segments, meta)

    def mark_seen(self) -> None:
        """What is on disk now is known (this process just wrote it and said so)."""
        with self._lock:
            self._seen = self._stamp()

    def poll(self) -> None:
        """Compare with what was seen last, and emit what changed."""
        now = self._stamp()
        with self._lock:
            seen, self._seen = self._seen, now
        if now.log != seen.log:
            self.bus.emit(InvocationsRecorded(org_id=None))
        if now.metadata != seen.metadata:
            self.bus.emit(ToolsChanged(org_id=None))

    def start(self) -> None:
        """Poll in a daemon thread until :meth:`stop`."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self.mark_seen()
        self._thread = threading.Thread(target=self._run, name="data-watcher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def stop(self) -> None:
        self._stop.set()
