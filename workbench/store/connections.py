"""SQLite connections to one file, shared by the threads of a process.

A server answers in many threads, and its thread pool starts and ends threads as load comes and
goes; a connection per thread would leave a connection (its descriptors, its page cache) behind
for every thread that ever ran. Here each operation leases a connection and gives it back, and at
most a few wait idle: descriptors and memory stay bounded by the work in flight, not by history.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

KEEP_IDLE = 4  # connections kept open between operations (more are closed when given back)


FileIdentity = tuple[int, int]
"""A file's (device, inode)."""


def identity(path: Path) -> FileIdentity | None:
    """The identity of the file at ``path`` now, None if there is none."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


@dataclass
class OpenConnection:
    """A connection and the identity of the file it opened. SQLite keeps that file open while the
    connection is, so its inode number cannot be reused meanwhile: comparing it with the path's
    tells whether another process has replaced the file since.

    No descriptor of our own is held on the file: closing any descriptor of a file drops every
    POSIX lock the process holds on it, SQLite's included, and another process could then take a
    lock SQLite counts on (to decide that it is the last connection and remove the write-ahead
    log, for one)."""

    conn: sqlite3.Connection
    file: FileIdentity | None
    closed: bool = False

    def on(self, path: Path) -> bool:
        """Whether ``path`` is still the file this connection has open."""
        return self.file is not None and identity(path) == self.file

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.conn.close()


class ConnectionPool:
    """Leases connections to the file at ``path``, opened by ``opener``; a connection to a file
    that has since been replaced is closed, never handed out."""

    def __init__(self, path: Path, opener: Callable[[], OpenConnection], keep_idle: int = KEEP_IDLE) -> None:
        self.path = path
        self.opener = opener
        self.keep_idle = keep_idle
        self._idle: list[OpenConnection] = []
        self._lock = threading.Lock()

    @contextmanager
    def lease(self) -> Iterator[OpenConnection]:
        """A connection for one operation; given back afterwards, or closed if the operation
        failed (it may have left the connection mid-transaction) or closed it."""
        held = self._take()
        try:
            yield held
        except BaseException:
            held.close()
            raise
        self.give_back(held)

    def _take(self) -> OpenConnection:
        with self._lock:
            held = self._idle.pop() if self._idle else None
        if held is None:
            return self.opener()
        if held.on(self.path):
            return held
        held.close()
        self.close()  # the others idle were opened on the replaced file too: let it go at once
        return self.opener()

    def give_back(self, held: OpenConnection) -> None:
        """Keep a connection for the next operation, unless enough are kept already."""
        if held.closed:
            return
        if held.conn.in_transaction:
            held.close()
            return
        with self._lock:
            if len(self._idle) < self.keep_idle:
                self._idle.append(held)
                return
        held.close()

    def close(self) -> None:
        """Close the idle connections (leased ones close when given back)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for held in idle:
            held.close()
