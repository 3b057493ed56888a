"""Whether some files may have changed since the last look, from Linux's inotify.

The catalog catches up with the log before every read: it lists the log's segments and compares
each one's size and mtime with what it last saw. That costs a ``stat`` per segment (a segment per
day of history) on every page. A :class:`ChangeWatch` asks the kernel instead: it is told of every
write, creation, removal, rename and change of attributes in the directories it watches, by any
process, before that process's write returns. No news since the last look means nothing changed,
and the look is one non-blocking ``read``.

Anything the watch cannot vouch for counts as a change: events it could not keep (the kernel's
queue overflowed), a watched directory removed or moved, a process forked from the one that made
the watch (the two would take each other's events). Where inotify is missing or its limits are
reached, :func:`open_watch` returns None and the caller looks at the files every time, as before.
"""

from __future__ import annotations

import ctypes
import functools
import os
import struct
import weakref
from collections.abc import Callable
from pathlib import Path

IN_MODIFY = 0x002
IN_ATTRIB = 0x004
IN_CLOSE_WRITE = 0x008
IN_MOVED_FROM = 0x040
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC

WATCHED = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF
LOST = IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF  # the watch no longer sees everything
EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name
READ_SIZE = 65536
READS = 16  # at most, per look: a writer that never stops must not keep a reader here (what is left is news next time)

Relevant = Callable[[str], bool]
"""Whether an event on this name (in a watched directory) counts."""


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library, looked up once (the process's own symbols: no search of the system)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.inotify_init1  # noqa: B018 - present on Linux only
        libc.inotify_add_watch  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


class ChangeWatch:
    """Directories watched for changes by anyone; see the module's docstring."""

    def __init__(self, fd: int, relevant: dict[int, Relevant]) -> None:
        self.fd = fd
        self.relevant = relevant  # watch descriptor -> which names count
        self.pid = os.getpid()
        self.lost = False
        self._close = weakref.finalize(self, os.close, fd)

    def changed(self) -> bool:
        """Whether anything counted happened since the last call (or the watch lost track)."""
        if self.lost or os.getpid() != self.pid:
            return True
        seen = False
        for _ in range(READS):
            try:
                data = os.read(self.fd, READ_SIZE)
            except BlockingIOError:
                return seen
            except OSError:
                self.lost = True
                return True
            offset = 0
            while offset < len(data):
                wd, mask, _cookie, length = EVENT.unpack_from(data, offset)
                name = data[offset + EVENT.size : offset + EVENT.size + length].rstrip(b"\0").decode(errors="replace")
                offset += EVENT.size + length
                if mask & LOST:
                    self.lost = True
                    seen = True
                elif wd in self.relevant and self.relevant[wd](name):
                    seen = True
        return True  # more may be waiting: count it as news

    @property
    def usable(self) -> bool:
        """Whether it still sees every change (if not, make a new one)."""
        return not self.lost and os.getpid() == self.pid

    def close(self) -> None:
        if os.getpid() == self.pid:
            self._close()
        else:
            self._close.detach()  # the forking process still reads it


def open_watch(directories: dict[Path, Relevant]) -> ChangeWatch | None:
    """A watch of the directories (each with the names in it that count), or None where inotify
    is not available, a directory does not exist, or the system's limits are reached."""
    libc = _libc()
    if libc is None:
        return None
    fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
    if fd < 0:
        return None
    relevant: dict[int, Relevant] = {}
    for directory, counts in directories.items():
        wd = libc.inotify_add_watch(fd, os.fsencode(directory), WATCHED)
        if wd < 0:
            os.close(fd)
            return None
        relevant[wd] = counts
    return ChangeWatch(fd, relevant)
