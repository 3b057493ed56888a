"""The command server: a process that has imported the workbench once and forks a child for
each quick command, or the app, that the `workbench` launcher hands it (see
:mod:`workbench.launcher`).

A child takes over the launcher's standard input, output and error (passed over the socket),
its environment, working directory, umask and arguments, and runs the same entry point as
`workbench` itself (``workbench.cli.main``); then it reports the exit status. The server holds
nothing but imported modules and built model validators: no data directory, no settings, no
connection, no thread, so every child starts as a fresh command would, without the imports.

The server runs as the user who started it and answers only that user (the socket is in a
directory only they can enter, and each peer's credentials are checked); it stops after
``IDLE_SECONDS`` without a command, and another server takes over only under its lock.

    python -m workbench.cli.command_server SOCKET KEY
"""

from __future__ import annotations

import gc
import importlib
import io
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from workbench.launcher import same_user

IDLE_SECONDS = 600.0
REAP_SECONDS = 0.25  # how soon a finished command's process is reaped
WARM_MODULES = (
    "workbench.cli",
    "workbench.connect",
    "workbench.core.service",
    "workbench.core.tools",
    "workbench.core.versions",
    "workbench.core.envvars",
    "workbench.core.invoker",
    "workbench.core.history",
    "workbench.core.runtimes",
    "workbench.runtime.docker_runner",
    "workbench.runtime.process",
    "workbench.store",
    "workbench.store.tables",
    "workbench.store.catalog",
    "workbench.store.invocation_queries",
    "workbench.search.index",
    "workbench.search.indexer",
    "rich.console",
    "rich.table",
    "rich.text",
    "rich.progress",
    "jsonschema",
    "tinydb",
    "docker",  # the SDK: a command that must start a worker does not import it itself
    "workbench.tui.app",  # the app, and its first screen
    "workbench.tui.screens.invocations",
    "workbench.tui.screens.search",
)
MODEL_MODULES = ("workbench.core.models", "workbench.core.requests", "workbench.store.records")


def warm_up() -> None:
    """Import what the served commands use, and build the API's model validators, which a
    command would otherwise build as it first uses each model."""
    from pydantic import BaseModel

    from workbench.cli import COMMANDS

    for name in (*WARM_MODULES, *(f"workbench.cli.{module}" for module, _ in COMMANDS.values())):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that cannot load here is loaded (and fails) in the command
            pass
    for name in MODEL_MODULES:
        for value in vars(importlib.import_module(name)).values():
            if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == name:
                try:
                    value.model_rebuild()
                except Exception:  # noqa: BLE001 - generic or abstract: built on first use instead
                    pass
    from jsonschema import Draft202012Validator

    Draft202012Validator({"type": "object", "properties": {"x": {"type": "string", "pattern": "^a$"}}}).is_valid({"x": "a"})


def serve(path: Path, key: str) -> None:
    """Listen at ``path`` until idle; one forked child per command."""
    import fcntl

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    owner = path.parent.stat()
    if owner.st_uid != os.getuid() or owner.st_mode & 0o077:
        return  # a directory someone else made or can enter: no server here
    lock = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # another server for this key is starting or running
    warm_up()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path.unlink(missing_ok=True)
    old_mask = os.umask(0o177)  # the socket file: this user only
    try:
        listener.bind(str(path))
    finally:
        os.umask(old_mask)
    listener.listen(16)
    signal.signal(signal.SIGTERM, _stop)
    gc.freeze()  # what is here now stays shared with every child, untouched by their collections
    children: set[int] = set()
    idle_since = time.monotonic()
    try:
        while children or time.monotonic() - idle_since < IDLE_SECONDS:
            ready, _, _ = select.select([listener], [], [], REAP_SECONDS)
            children -= _reaped(children)
            if not ready:
                continue
            connection, _ = listener.accept()
            idle_since = time.monotonic()
            if not same_user(connection):
                connection.close()
                continue
            pid = os.fork()
            if pid == 0:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a command ends on SIGTERM as any process does
                listener.close()
                os.close(lock)
                _child(connection, key)  # never returns
            children.add(pid)
            connection.close()
    finally:
        if path.exists():
            path.unlink(missing_ok=True)
        os.close(lock)


def _stop(_signum: int, _frame: object) -> None:
    raise SystemExit(0)  # through the finally that removes the socket


def _reaped(children: set[int]) -> set[int]:
    done = set()
    for pid in children:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            finished = pid
        if finished:
            done.add(pid)
    return done


def _receive(connection: socket.socket) -> tuple[dict[str, Any], list[int]]:
    header, fds, _flags, _address = socket.recv_fds(connection, 4, 3)
    (size,) = struct.unpack("!I", header)
    body = b""
    while len(body) < size:
        chunk = connection.recv(size - len(body))
        if not chunk:
            raise EOFError("the launcher went away")
        body += chunk
    return json.loads(body), fds


def _child(connection: socket.socket, key: str) -> None:
    """Become the command: its streams, environment, directory and arguments; run it; report."""
    try:
        request, fds = _receive(connection)
        if request.get("key") != key or len(fds) != 3:
            raise ValueError("another state of the code")
        _become(request, fds)
        connection.sendall(f"pid {os.getpid()}\n".encode())
    except BaseException:  # noqa: BLE001 - nothing of the command ran: the launcher runs it itself
        try:
            connection.sendall(b"refused\n")
        finally:
            os._exit(0)
    if connection.makefile("rb").readline().strip() != b"go":
        os._exit(0)  # the launcher gave up waiting: it runs the command itself
    threading.Thread(target=_end_with_the_launcher, args=(connection,), daemon=True).start()
    code = 1
    try:
        code = _run(sys.argv[1:])
    finally:
        try:
            connection.sendall(f"exit {code}\n".encode())
        finally:
            os._exit(code)


def _become(request: dict[str, Any], fds: list[int]) -> None:
    for target, fd in zip((0, 1, 2), fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.umask(int(request["umask"]))
    os.environ.clear()
    os.environ.update(request["env"])
    _reopen_streams()
    import tempfile

    tempfile.tempdir = None  # found again from this command's environment
    sys.argv = list(request["argv"])


def _run(argv: list[str]) -> int:
    """The command, as ``workbench.cli.main`` runs it; its exit status as the interpreter would set it."""
    from workbench.cli import main

    try:
        main(argv)
        code: Any = 0
    except SystemExit as exit_:
        code = exit_.code
    except KeyboardInterrupt:  # Ctrl-C before the command line took over: as the launcher says it
        sys.stderr.write("error: aborted\n")
        code = 1
    except BaseException:  # noqa: BLE001 - an uncaught error ends a command as it would end the interpreter
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _reopen_streams() -> None:
    """Python's standard streams over the launcher's descriptors, buffered as the interpreter
    would for them (a terminal line by line)."""
    encoding = os.environ.get("PYTHONIOENCODING", "").split(":")[0] or "utf-8"
    streams = {
        "stdin": io.TextIOWrapper(io.open(0, "rb", closefd=False), encoding=encoding),
        "stdout": io.TextIOWrapper(io.open(1, "wb", closefd=False), encoding=encoding, line_buffering=os.isatty(1)),
        "stderr": io.TextIOWrapper(io.open(2, "wb", closefd=False), encoding=encoding, errors="backslashreplace", line_buffering=True),
    }
    for name, stream in streams.items():
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)  # the app's driver draws on these


def _end_with_the_launcher(connection: socket.socket) -> None:
    """A launcher that is gone (killed, its terminal closed) ends its command too, as the
    command would have ended in its place."""
    try:
        while connection.recv(64):
            pass
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGHUP)


if __name__ == "__main__":
    serve(Path(sys.argv[1]), sys.argv[2])
