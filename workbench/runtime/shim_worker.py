"""The warm worker of both runtimes (in the sandbox; standard library only).

``--serve SOCKET``: newline-delimited JSON requests with an ``id`` over a Unix socket, any number
of connections. Every request (describe, invoke, check) runs in a fresh child, never in the
worker itself. The tool's entry point is imported once before serving; then the worker forks a
spare maker (:func:`shim_run.make_spares`), which forks spares, with the tool loaded, ahead of
time: each is sealed and waits for its request on a pipe, so that cost is paid between
invocations, beside the worker, not during one. The worker itself never forks while it serves.
It exits after ``--idle`` seconds unused, or on a ``shutdown`` request.

A sealed run (``--sealed``; see :mod:`shim_seal`) is two processes: a supervisor that entered the
run's namespaces (killing it on a timeout takes the run down), and the run itself, PID 1 of its
PID namespace, which drops every capability, takes its limits, and only then reads its request.
When the run ends its PID namespace ends, and every process in it.

Without ``--sealed`` (WORKBENCH_UNSANDBOXED=1, for development only) a run is a plain process in
its own session and a scratch directory; both are removed at its end (what left the session stays).

A request's environment (the tool's variables, secrets included) travels only over the socket and
a pipe into that run; it is never in a command line or in the worker's environment.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import sys
import threading
import time
from typing import Any

try:  # in the sandbox these are files beside this one
    import _workbench_run as run
    import _workbench_shim as shim
except ImportError:
    from workbench.runtime import shim as shim  # type: ignore[no-redef]
    from workbench.runtime import shim_run as run  # type: ignore[no-redef]


def _oom_kills() -> int:
    """How many processes the kernel's OOM killer has killed in this container's cgroup."""
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            with open(path) as handle:
                for line in handle:
                    name, _, value = line.partition(" ")
                    if name == "oom_kill":
                        return int(value)
        except OSError:
            continue
    return 0


class _Child:
    """A run in flight: its supervisor's pid, its response pipe, who asked."""

    def __init__(self, pid: int, pipe: int, request_id: str, conn: Any) -> None:
        self.pid, self.pipe, self.request_id, self.conn = pid, pipe, request_id, conn
        self.data = bytearray()
        self.answered = False
        self.broken = False
        self.cancelled = False
        self.oom_before = _oom_kills()


def _preload(options: run.Options) -> None:
    """Import the tool once, so every child starts with it loaded. Import-time code gets no
    secrets and may leave nothing running: stray processes are killed; a tool that starts
    threads on import is served without preloading (a thread would live on in the worker)."""
    for reference in (options.entry, options.model):
        if reference:
            try:
                shim.load(reference)
            except BaseException:
                pass  # the request that needs it reports the error
    if os.getpid() == 1:
        try:
            os.kill(-1, signal.SIGKILL)  # as a namespace's init: everything but itself
        except ProcessLookupError:
            pass
        _reap()
    if threading.active_count() > 1 or len(os.listdir("/proc/self/task")) > 1:
        os.execv(sys.executable, [sys.executable, *sys.argv, "--no-preload"])


def _reap() -> None:
    """Collect every child that has ended (as PID 1, orphans come here too)."""
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return


def main(argv: list[str]) -> None:
    """Serve as the worker: read the options, import the tool, serve until idle or told to stop."""
    options = run.Options(argv)
    run.BASE_ENV.update(os.environ)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1 ignores it unless handled
    if options.preload:
        _preload(options)
    Worker(options).serve()


class Worker:
    """The serve loop: connections, spares from the maker, runs and their answers, the idle timer."""

    def __init__(self, options: run.Options) -> None:
        self.options = options
        self.project = os.getcwd()
        self.selector = selectors.DefaultSelector()
        self.buffers: dict[Any, bytes] = {}
        self.children: dict[str, _Child] = {}
        self.spares: list[tuple[int, int, int]] = []  # supervisor pid, request pipe, response pipe
        self.pending = 0  # spares asked of the maker, not yet here
        self.waiting: list[tuple[Any, dict[str, Any]]] = []  # requests that came before a spare
        self.wanted = min(2, options.spares)  # spares kept ready: few while idle, more once needed
        self.stopping = False
        self.maker = self.start_maker()

    def start_maker(self) -> socket.socket:
        """Fork the spare maker (once, before serving) and keep our end of its socket."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            ours.close()
            run.make_spares(theirs, self.options, self.project)
        theirs.close()
        self.selector.register(ours, selectors.EVENT_READ, "maker")
        return ours

    def top_up(self) -> None:
        """Ask the maker for the spares still missing."""
        missing = self.wanted - len(self.spares) - self.pending
        if missing > 0:
            try:
                self.maker.send(b"s" * missing)
            except OSError:
                self.stopping = True  # the maker is gone; see receive_spare
                return
            self.pending += missing

    def receive_spare(self) -> None:
        """A spare from the maker: keep it, or give it to a request that waits for one."""
        try:
            message, fds, _, _ = socket.recv_fds(self.maker, 32, 2)
        except OSError:
            message, fds = b"", []
        if not message:  # the maker is gone: no more runs here; the pool starts a new worker
            self.stopping = True
            return
        self.pending -= 1
        self.spares.append((int(message), fds[0], fds[1]))
        while self.waiting and self.spares:
            self.dispatch(*self.waiting.pop(0))

    def listen(self) -> socket.socket:
        """Bind the worker's socket; its path appears only once it accepts."""
        path = self.options.socket_path
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path + ".tmp")
        os.chmod(path + ".tmp", 0o600)
        os.rename(path + ".tmp", path)  # appears only once it accepts
        listener.listen(64)
        listener.setblocking(False)
        return listener

    def send(self, conn: Any, payload: dict[str, Any]) -> None:
        """One JSON line to a client; a client that went away loses its answer."""
        try:
            conn.setblocking(True)
            conn.sendall(json.dumps(payload).encode() + b"\n")
            conn.setblocking(False)
        except OSError:
            pass  # the client went away; its result is lost with it

    def start(self, conn: Any, request: dict[str, Any]) -> None:
        """Handle one request: cancel, ping, shutdown, or a run for a spare."""
        request_id = str(request.get("id"))
        action = request.get("action")
        if action == "cancel":
            target = str(request.get("target"))
            self.waiting = [(c, r) for c, r in self.waiting if str(r.get("id")) != target]
            child = self.children.get(target)
            if child is not None:
                child.cancelled = True
                self.kill(child.pid)
            return
        if action in ("ping", "shutdown"):
            self.send(conn, {"id": request_id, "ok": True, "sealed": self.options.sealed, "preloaded": self.options.preload})
            self.stopping = action == "shutdown"
            return
        if self.spares:
            self.dispatch(conn, request)
        else:
            self.waiting.append((conn, request))
            self.wanted = min(self.options.spares, 2 * self.wanted)  # demand outran the spares
        self.top_up()

    def dispatch(self, conn: Any, request: dict[str, Any]) -> None:
        """Hand a request to a spare: the run starts as soon as its pipe has it."""
        pid, request_w, read_fd = self.spares.pop(0)
        data = memoryview(json.dumps(request).encode() + b"\n")
        try:
            while data:
                data = data[os.write(request_w, data):]
        except OSError:
            pass  # the spare died; its response pipe says so
        os.close(request_w)
        os.set_blocking(read_fd, False)
        child = _Child(pid, read_fd, str(request.get("id")), conn)
        self.children[child.request_id] = child
        self.selector.register(read_fd, selectors.EVENT_READ, child)

    def kill(self, pid: int) -> None:
        """End a run through its supervisor: sealed, its namespace follows; unsealed, the
        supervisor ends the run's session."""
        try:
            os.kill(pid, signal.SIGKILL if self.options.sealed else signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass

    def read_child(self, child: _Child) -> None:
        """A run's response pipe: answer on its first line, finish on how it ended."""
        try:
            chunk = os.read(child.pipe, 65536)
        except BlockingIOError:
            return
        if not chunk:
            self.finish(child, None)
            return
        child.data += chunk
        *lines, rest = child.data.split(b"\n")
        child.data = bytearray(rest)
        for line in filter(None, lines):
            try:
                message = json.loads(line)
            except ValueError:
                child.broken = True  # a run killed while it wrote
                continue
            if "ended" in message:
                self.finish(child, int(message["ended"]))
                return
            if not child.answered:
                child.answered = True
                self.send(child.conn, {**message, "id": child.request_id})  # at once, before the run has exited

    def finish(self, child: _Child, status: int | None) -> None:
        """The run is over: forget it, and answer for it if it never answered."""
        self.selector.unregister(child.pipe)
        os.close(child.pipe)
        self.children.pop(child.request_id, None)
        if not child.answered:
            self.send(child.conn, {**self.failure_of(child, status), "id": child.request_id})

    def failure_of(self, child: _Child, status: int | None) -> dict[str, Any]:
        """Why a run ended without an answer, as the run's failure."""
        if child.cancelled:
            return run.failed("TimeoutError", "the invocation was stopped")
        if _oom_kills() > child.oom_before:
            return run.failed("MemoryError", "the invocation was killed for exceeding the container's memory limit")
        if child.broken:
            return run.failed("SandboxError", "the tool process died while writing its response")
        if status is not None and os.WIFSIGNALED(status):
            return run.failed("SandboxError", f"the tool process was killed by signal {os.WTERMSIG(status)}")
        if status is not None:
            return run.failed("SandboxError", f"the tool process exited with code {os.waitstatus_to_exitcode(status)} without a result")
        return run.failed("SandboxError", "the run ended without a result")

    def read_connection(self, conn: Any) -> None:
        """Requests from a client connection, one JSON line each."""
        try:
            chunk = conn.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.selector.unregister(conn)
            self.buffers.pop(conn, None)
            conn.close()
            return
        self.buffers[conn] += chunk
        *lines, self.buffers[conn] = self.buffers[conn].split(b"\n")
        for line in lines:
            try:
                request = json.loads(line) if line.strip() else None
            except ValueError:
                continue  # not a request; the workbench never sends one like it
            if request is not None:
                self.start(conn, request)

    def serve(self) -> None:
        """Listen, keep spares coming, and serve until idle or told to stop."""
        listener = self.listen()
        self.selector.register(listener, selectors.EVENT_READ, "listener")
        self.top_up()
        try:
            self.loop(listener)
        finally:
            self.stop(listener)

    def loop(self, listener: socket.socket) -> None:
        """The event loop; it never forks, so an answer is never kept waiting."""
        last_active = time.monotonic()
        while not self.stopping:
            events = self.selector.select(timeout=1.0)
            _reap()  # PID 1 of a container or sandbox: orphans come here
            if events:
                last_active = time.monotonic()
            elif not self.children and not self.waiting and time.monotonic() - last_active > self.options.idle:
                break
            for key, _ in events:
                if key.data == "listener":
                    conn, _ = listener.accept()
                    conn.setblocking(False)
                    self.buffers[conn] = b""
                    self.selector.register(conn, selectors.EVENT_READ, "conn")
                elif key.data == "conn":
                    self.read_connection(key.fileobj)
                elif key.data == "maker":
                    self.receive_spare()
                else:
                    self.read_child(key.data)

    def stop(self, listener: socket.socket) -> None:
        """End every run and spare, the maker, and the socket."""
        try:
            os.unlink(self.options.socket_path)
        except OSError:
            pass
        listener.close()
        self.maker.close()  # the maker exits
        for child in list(self.children.values()):
            self.kill(child.pid)
        for conn, request in self.waiting:
            self.send(conn, {**run.failed("SandboxError", "the worker stopped before the run began"), "id": request.get("id")})
        for _, request_w, response_r in self.spares:
            os.close(request_w)  # an empty request: the spare's run exits
            os.close(response_r)
        self.spares.clear()
        _reap()
