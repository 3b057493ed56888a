"""One run inside the warm worker (in the sandbox; standard library only): the child side.

A spare is forked ahead of time by the spare maker. Sealed, it enters the run's namespaces
(:mod:`shim_seal`) as the run's supervisor and forks the run, PID 1 of its PID namespace; the run
drops every capability before it reads its request from a pipe, takes the request's limits and
environment, answers on another pipe and exits, and with it every process it started (the kernel
ends a PID namespace with its PID 1). One process fewer per run than a separate init would take,
at the price of PID 1's habits: the run reaps no orphans (they are ended with it) and ignores a
signal it sends itself without a handler.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import tempfile
from typing import Any

try:  # in the sandbox these are files beside this one
    import _workbench_seal as seal
    import _workbench_shim as shim
except ImportError:
    from workbench.runtime import shim as shim  # type: ignore[no-redef]
    from workbench.runtime import shim_seal as seal  # type: ignore[no-redef]

BASE_ENV: dict[str, str] = {}  # the worker's environment: every run starts from it

CHECK_OUTPUT_LIMIT = 200_000  # bytes of a check's output kept (its end)


class Options:
    """The worker's command line: what it serves, and the limits of each run."""

    def __init__(self, argv: list[str]) -> None:
        self.socket_path = argv[0]
        flags = {"--sealed", "--no-preload"}
        self.sealed = "--sealed" in argv
        self.preload = "--no-preload" not in argv
        rest = [a for a in argv[1:] if a not in flags]
        args = dict(zip(rest[::2], rest[1::2]))
        self.idle = float(args.get("--idle", "300"))
        self.entry, self.model = args.get("--entry"), args.get("--model")
        self.spares = int(args.get("--spares", "5"))
        limits = json.loads(args.get("--limits", "{}"))
        self.memory = int(limits.get("memory", 0))
        self.processes = int(limits.get("processes", 0))
        self.scratch = int(limits.get("scratch", 64 << 20))


def failed(kind: str, message: str) -> dict[str, Any]:
    """A response for a run that the sandbox, not the tool, ended."""
    return {"ok": False, "exception_type": kind, "exception_message": message, "exception_stack_trace": [], "logs": []}


def read_request(fd: int) -> dict[str, Any] | None:
    """The run's request from its pipe; None when the worker closed it unused."""
    data = b""
    while not data.endswith(b"\n") and (chunk := os.read(fd, 65536)):
        data += chunk
    return json.loads(data) if data.strip() else None  # empty: the worker is shutting down


def write_response(fd: int, response: dict[str, Any]) -> None:
    """The response as one JSON line on the run's response pipe."""
    view = memoryview(json.dumps(response).encode() + b"\n")  # the newline ends it: answered at once
    while view:
        view = view[os.write(fd, view):]


def run_check(request: dict[str, Any], project: str) -> dict[str, Any]:
    """Run a project's check command in this (sealed) run: its output, its exit status."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(project)  # checks find their tests relative to the project (read-only)
            os.dup2(write_fd, 1)
            os.dup2(write_fd, 2)
            os.execv("/bin/sh", ["/bin/sh", "-c", request["command"]])
        finally:
            os._exit(127)
    os.close(write_fd)
    kept = bytearray()
    while chunk := os.read(read_fd, 65536):
        kept += chunk
        del kept[:-CHECK_OUTPUT_LIMIT]
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return {"ok": True, "passed": code == 0, "exit_code": code, "output": kept.decode(errors="replace")}


def run(request_fd: int, response_fd: int, options: Options, scratch: str, project: str) -> None:
    """The run's own process: wait for the request, take its limits and environment, answer."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.setsid()
    request = read_request(request_fd)
    os.close(request_fd)
    if request is None:
        os._exit(0)
    try:
        if options.sealed:
            seal.apply_limits(options.memory, options.processes, float(request.get("timeout") or 60))
        os.environ.clear()
        os.environ.update(BASE_ENV)
        os.environ.update(request.get("env") or {})
        os.environ.update({"HOME": scratch, "TMPDIR": scratch})
        os.chdir(scratch)
        response = run_check(request, project) if request.get("action") == "check" else shim.handle(request)
    except BaseException as error:  # even a broken run must answer
        response = shim.failure(error, [])
    write_response(response_fd, response)
    os._exit(0)


def _report_end(tool: int, response_fd: int) -> None:
    """Reap children until the run's own process ends, then tell the worker how it ended (a
    line after the response, if there was one; the worker needs it only if there was none)."""
    while True:
        pid, status = os.wait()
        if pid == tool:
            break
    os.write(response_fd, b"\n" + json.dumps({"ended": status}).encode() + b"\n")


def supervise(request_fd: int, response_fd: int, options: Options, project: str) -> None:
    """A spare's supervisor. Sealed: enter the run's namespaces and start the run as PID 1 of its
    PID namespace, so that when it ends the kernel ends every process it started. Unsealed: start
    the run in a scratch directory, then end its session and remove the scratch. Either way,
    report how the run ended."""
    if not options.sealed:
        scratch = tempfile.mkdtemp(prefix="run-")
        tool = os.fork()
        if tool == 0:
            run(request_fd, response_fd, options, scratch, project)
        signal.signal(signal.SIGTERM, lambda *_: (_kill_session(tool), os._exit(0)))  # the worker's cancel
        os.close(request_fd)
        _report_end(tool, response_fd)
        _kill_session(tool)
        shutil.rmtree(scratch, ignore_errors=True)
        os._exit(0)
    try:
        seal.enter_run_namespaces(options.scratch)
    except seal.SealError as error:  # every run here would fail the same way: say why
        if read_request(request_fd) is not None:
            write_response(response_fd, failed("SandboxError", f"this sandbox cannot seal a run ({error}); "
                                               "WORKBENCH_UNSANDBOXED=1 runs tools without sealing"))
        os._exit(0)
    tool = os.fork()  # PID 1 of the run's namespace: when it ends, so does everything it started
    if tool == 0:
        seal.die_with_parent()
        seal.drop_privileges()
        run(request_fd, response_fd, options, seal.SCRATCH, project)
    os.close(request_fd)
    _report_end(tool, response_fd)
    os._exit(0)


def _kill_session(tool: int) -> None:
    try:
        os.killpg(tool, signal.SIGKILL)
    except OSError:
        pass


def make_spares(maker: socket.socket, options: Options, project: str) -> None:
    """The spare maker, forked once from the worker with the tool loaded: for each byte the worker
    sends, fork a spare and hand the worker its two pipes and its pid. So the worker itself never
    forks while it serves, and a spare's sealing runs beside it, not in its way."""
    while wanted := maker.recv(64):
        for _ in wanted:
            request_r, request_w = os.pipe()
            response_r, response_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    maker.close()
                    os.close(request_w)
                    os.close(response_r)
                    supervise(request_r, response_w, options, project)
                finally:
                    os._exit(70)
            os.close(request_r)
            os.close(response_w)
            socket.send_fds(maker, [str(pid).encode()], [request_w, response_r])
            os.close(request_w)
            os.close(response_r)
        while True:  # the spares that have ended since
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
    os._exit(0)
