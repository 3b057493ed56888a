"""Warm workers on the host side: connections to the workers' sockets, and which slot runs what.

A pool key is one image in one network mode; it has ``size`` slots, each one container running the
shim in serve mode. Workers are found by their socket files, so a container started by one process
(say, a publish) serves the next process too. A slot whose worker is gone is started again on the
next request: that is how a crashed worker is replaced.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from workbench.store import FileLock

# Start a worker that will listen on this socket path; what it returns, if anything, says why the
# worker died before its socket appeared (None while it may still come up).
StartSlot = Callable[[Path], Callable[[], str | None] | None]


class WorkerLost(Exception):
    """The worker's connection broke before it answered (the container crashed or was killed)."""


class WorkerConnection:
    """One connection to a worker; many requests in flight, matched to answers by id."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(str(path))
        self.pending: dict[str, Future[dict[str, Any]]] = {}
        self.lock = threading.Lock()
        self.alive = True
        threading.Thread(target=self._read, daemon=True, name=f"worker-{path.name}").start()

    def _read(self) -> None:
        buffer = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    answer = json.loads(line)
                    future = self.pending.pop(str(answer.pop("id", "")), None)
                    if future is not None:
                        future.set_result(answer)
        except OSError:
            pass
        finally:
            self.alive = False
            for future in list(self.pending.values()):
                future.set_exception(WorkerLost(f"the worker at {self.path.name} went away"))
            self.pending.clear()

    def send(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode() + b"\n"
        with self.lock:
            self.sock.sendall(data)

    def request(self, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and wait for its answer; on timeout the worker kills that child."""
        request_id = uuid.uuid4().hex
        future: Future[dict[str, Any]] = Future()
        self.pending[request_id] = future
        try:
            self.send({**payload, "id": request_id})
        except OSError as error:
            self.pending.pop(request_id, None)
            self.alive = False
            raise WorkerLost(str(error)) from None
        try:
            return future.result(timeout)
        except FutureTimeout:
            self.pending.pop(request_id, None)
            try:
                self.send({"action": "cancel", "target": request_id, "id": uuid.uuid4().hex})
            except OSError:
                pass
            raise TimeoutError from None

    def close(self) -> None:
        self.alive = False
        try:
            self.sock.close()
        except OSError:
            pass


class WorkerPool:
    """Slots of warm workers, per pool key; connects to running ones, starts missing ones."""

    def __init__(self, run_dir: Path, size: int) -> None:
        self.run_dir = run_dir
        self.size = max(1, size)
        self.connections: dict[Path, WorkerConnection] = {}
        self.lock = threading.Lock()
        self.turns: dict[str, itertools.count] = {}

    def socket_path(self, key: str, slot: int) -> Path:
        return self.run_dir / key / f"{slot}.sock"

    def _connect(self, path: Path) -> WorkerConnection | None:
        current = self.connections.get(path)
        if current is not None and current.alive:
            return current
        if not path.exists():
            return None
        try:
            connection = WorkerConnection(path)
        except OSError:
            return None  # a stale socket of a worker that is gone
        self.connections[path] = connection
        return connection

    def connection(self, key: str, slot: int, start: StartSlot, wait: float = 30.0) -> WorkerConnection:
        """The slot's worker, started (once across processes, under a lock) if it is not running."""
        path = self.socket_path(key, slot)
        with self.lock:
            found = self._connect(path)
        if found is not None:
            return found
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(path.with_suffix(".lock")):
            with self.lock:
                found = self._connect(path)
            if found is not None:
                return found
            path.unlink(missing_ok=True)
            died = start(path)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                with self.lock:
                    found = self._connect(path)
                if found is not None:
                    return found
                problem = died() if died else None
                if problem:
                    raise WorkerLost(f"the worker for slot {slot} did not start: {problem}")
                time.sleep(0.01)
        raise WorkerLost(f"the worker for slot {slot} did not start within {wait:g} s")

    def next_slot(self, key: str) -> int:
        """Round robin over the key's slots, so parallel inputs spread across the pool."""
        with self.lock:
            counter = self.turns.setdefault(key, itertools.count())
            return next(counter) % self.size

    def forget(self, key: str) -> None:
        """Drop this process's connections to a key's workers (they are being stopped)."""
        with self.lock:
            for path in [p for p in self.connections if p.parent.name == key]:
                self.connections.pop(path).close()

    def shutdown(self, key: str | None = None) -> int:
        """Ask the workers of one key (or of every key) to exit; how many were asked."""
        asked = 0
        for path in sorted(self.run_dir.glob(f"{key or '*'}/*.sock")):
            try:
                connection = WorkerConnection(path)
            except OSError:
                continue  # already gone
            try:
                connection.request({"action": "shutdown"}, timeout=5)
                asked += 1
            except (TimeoutError, WorkerLost, OSError):
                pass
            finally:
                connection.close()
        with self.lock:
            for path in [p for p in self.connections if key is None or p.parent.name == key]:
                self.connections.pop(path).close()
        return asked
