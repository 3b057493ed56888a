"""The in-sandbox shim: loads a tool's entry point and runs requests.

It runs with the tool's own interpreter and uses the standard library only. Whatever the tool
prints, and every line its logger writes, becomes the invocation's ``logs``. Two modes:

* one-shot (the process runner): one JSON request on stdin, one JSON response on stdout;
* ``--serve SOCKET`` (warm workers in containers): newline-delimited JSON requests with an ``id``
  over a Unix socket, any number of connections; each request runs in a fresh forked child, so
  nothing a tool does survives into the next invocation. The entry point is imported once before
  serving, so a child starts with it loaded. ``--spares`` children are forked ahead of time and
  wait for their request on a pipe, so a fork's cost (about 1 ms) is paid between invocations,
  not during one. The worker exits after ``--idle`` seconds unused.

Requests:
  {"action": "describe", "entry_point": "tool:run", "input_model": null | "tool:Params"}
      -> {"ok": true, "input_schema": {...} | null}
  {"action": "invoke", "entry_point": ..., "input_model": ..., "input_parameters": {...},
   "invocation_mode": "regular" | "conversation-simulation",
   "nonsensitive_user_variables": {...}, "sensitive_user_variables": {...}}
      -> {"ok": true, "output": "...", "logs": [...]}
Failures of either:
      -> {"ok": false, "exception_type": ..., "exception_message": ..., "exception_stack_trace": [...], "logs": [...]}
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import os
import sys
import traceback
from typing import Any


class ToolContext:
    """What a tool's entry point receives besides its input parameters."""

    def __init__(self, request: dict[str, Any], logger: logging.Logger) -> None:
        self.invocation_mode: str = request.get("invocation_mode", "regular")
        self.env: dict[str, str] = dict(os.environ)
        self.nonsensitive_user_variables: dict[str, str] = request.get("nonsensitive_user_variables") or {}
        self.sensitive_user_variables: dict[str, str] = request.get("sensitive_user_variables") or {}
        self.logger = logger

    @property
    def is_simulation(self) -> bool:
        return self.invocation_mode == "conversation-simulation"


class _Lines(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__()
        self.sink = sink
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.extend(self.format(record).splitlines() or [""])


class _LineWriter(io.TextIOBase):
    """A stdout/stderr stand-in: each complete printed line joins the logs, in order."""

    def __init__(self, sink: list[str]) -> None:
        self.sink = sink
        self.partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        *complete, self.partial = (self.partial + text).split("\n")
        self.sink.extend(complete)
        return len(text)

    def close_out(self) -> None:
        if self.partial:
            self.sink.append(self.partial)
            self.partial = ""


def load(reference: str) -> Any:
    module_name, _, attribute = reference.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


def _schema_of(model: Any) -> dict[str, Any]:
    if hasattr(model, "model_json_schema"):
        return model.model_json_schema()
    if hasattr(model, "schema"):
        return model.schema()
    raise TypeError(f"{model!r} is not a pydantic model (no model_json_schema())")


def _failure(error: BaseException, logs: list[str]) -> dict[str, Any]:
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next  # the shim's own frames say nothing about the tool
    lines = "".join(traceback.format_exception(type(error), error, tb)).splitlines()
    return {
        "ok": False,
        "exception_type": type(error).__name__,
        "exception_message": str(error),
        "exception_stack_trace": lines,
        "logs": logs,
    }


def _render(result: Any) -> str:
    if isinstance(result, str):
        return result
    if isinstance(result, (dict, list)):
        return json.dumps(result)
    raise TypeError(f"the entry point must return str, dict or list, not {type(result).__name__}")


def handle(request: dict[str, Any]) -> dict[str, Any]:
    """Run one request and describe the outcome; never raises."""
    logs: list[str] = []
    logger = logging.getLogger("tool")
    logger.handlers[:] = [_Lines(logs)]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    printed = _LineWriter(logs)
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            entry = load(request["entry_point"])
            if not callable(entry):
                raise TypeError(f"entry point {request['entry_point']} is not callable")
            model = load(request["input_model"]) if request.get("input_model") else None
            if request["action"] == "describe":
                return {"ok": True, "input_schema": _schema_of(model) if model else None, "logs": logs}
            params = request.get("input_parameters") or {}
            if model is not None:
                params = model.model_validate(params) if hasattr(model, "model_validate") else model(**params)
            output = _render(entry(params, ToolContext(request, logger)))
        printed.close_out()
        return {"ok": True, "output": output, "logs": logs}
    except BaseException as error:  # the tool's failure is the invocation's result
        printed.close_out()
        return _failure(error, logs)


# -- serve mode -----------------------------------------------------------------------------------

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
    def __init__(self, pid: int, pipe: int, request_id: str, conn: Any) -> None:
        self.pid, self.pipe, self.request_id, self.conn = pid, pipe, request_id, conn
        self.data = b""
        self.answered = False
        self.cancelled = False
        self.oom_before = _oom_kills()


def _run_child(request: dict[str, Any], write_fd: int) -> None:
    """In the forked child: apply the request's environment, run it, write the response, exit."""
    try:
        env = request.get("env") or {}
        os.environ.clear()
        os.environ.update(_BASE_ENV)
        os.environ.update(env)
        response = handle(request)
        data = json.dumps(response).encode()
    except BaseException as error:  # even a broken response must reach the parent
        data = json.dumps(_failure(error, [])).encode()
    view = memoryview(data + b"\n")  # the newline ends the response: the parent answers at once
    while view:
        view = view[os.write(write_fd, view):]
    os._exit(0)


_BASE_ENV: dict[str, str] = {}


def _failed(kind: str, message: str) -> dict[str, Any]:
    return {"ok": False, "exception_type": kind, "exception_message": message, "exception_stack_trace": [], "logs": []}


def serve(socket_path: str, idle_seconds: float, entry_point: str | None, input_model: str | None, spares_wanted: int = 5) -> None:
    import selectors
    import signal
    import socket
    import time

    _BASE_ENV.update(os.environ)
    for reference in (entry_point, input_model):
        if reference:
            try:
                load(reference)  # import once; every forked child starts with it loaded
            except BaseException:
                pass  # the request that needs it reports the error
    try:
        os.unlink(socket_path)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path + ".tmp")
    os.chmod(socket_path + ".tmp", 0o600)
    os.rename(socket_path + ".tmp", socket_path)  # appears only once it accepts
    listener.listen(64)
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "listener")
    buffers: dict[Any, bytes] = {}
    children: dict[str, _Child] = {}
    spares: list[tuple[int, int, int]] = []  # (pid, request pipe to write, response pipe to read)
    last_active = time.monotonic()

    def fork_spare() -> None:
        request_r, request_w = os.pipe()
        response_r, response_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(request_w)
            os.close(response_r)
            for conn in list(buffers):
                conn.close()  # or a client's disconnect would go unseen while this child waits
            for _, sibling_w, sibling_r in spares:
                os.close(sibling_w)  # a sibling's request pipe must close when the parent closes it
                os.close(sibling_r)
            for other in children.values():
                os.close(other.pipe)
            selector.close()
            listener.close()
            data = b""
            while not data.endswith(b"\n") and (chunk := os.read(request_r, 65536)):
                data += chunk
            if not data.strip():
                os._exit(0)  # the worker is shutting down
            _run_child(json.loads(data), response_w)
        os.close(request_r)
        os.close(response_w)
        spares.append((pid, request_w, response_r))

    def send(conn: Any, payload: dict[str, Any]) -> None:
        try:
            conn.setblocking(True)
            conn.sendall(json.dumps(payload).encode() + b"\n")
            conn.setblocking(False)
        except OSError:
            pass  # the client went away; its result is lost with it

    def start(conn: Any, request: dict[str, Any]) -> None:
        request_id = str(request.get("id"))
        if request.get("action") == "cancel":
            child = children.get(str(request.get("target")))
            if child is not None:
                child.cancelled = True
                try:
                    os.kill(child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            return
        if request.get("action") == "ping":
            send(conn, {"id": request_id, "ok": True, "pid": os.getpid()})
            return
        if not spares:
            fork_spare()
        pid, request_w, read_fd = spares.pop(0)
        data = memoryview(json.dumps(request).encode() + b"\n")
        while data:
            data = data[os.write(request_w, data):]
        os.close(request_w)
        os.set_blocking(read_fd, False)
        child = _Child(pid, read_fd, request_id, conn)
        children[request_id] = child
        selector.register(read_fd, selectors.EVENT_READ, child)

    def answer(child: _Child) -> None:
        """The child wrote its whole response: send it now, before the child has even exited."""
        try:
            response = json.loads(child.data)
        except ValueError:
            response = _failed("SandboxError", "the tool process wrote a broken response")
        child.answered = True
        response["id"] = child.request_id
        send(child.conn, response)

    def finish(child: _Child) -> None:
        selector.unregister(child.pipe)
        os.close(child.pipe)
        _, status = os.waitpid(child.pid, 0)
        children.pop(child.request_id, None)
        if not child.answered:
            _answer_failure(child, status)

    def _answer_failure(child: _Child, status: int) -> None:
        if child.data:
            response = _failed("SandboxError", "the tool process died while writing its response")
        elif child.cancelled:
            response = _failed("TimeoutError", "the invocation was stopped")
        elif _oom_kills() > child.oom_before:
            response = _failed("MemoryError", "the invocation was killed for exceeding the container's memory limit")
        elif os.WIFSIGNALED(status):
            response = _failed("SandboxError", f"the tool process was killed by signal {os.WTERMSIG(status)}")
        else:
            response = _failed("SandboxError", f"the tool process exited with code {os.WEXITSTATUS(status)} without a result")
        response["id"] = child.request_id
        send(child.conn, response)

    while True:
        # Requests come first: spares are forked only when nothing is waiting to be read.
        events = selector.select(timeout=0 if len(spares) < spares_wanted else 1.0)
        if events:
            last_active = time.monotonic()
        elif len(spares) < spares_wanted:
            fork_spare()
            continue
        elif not children and time.monotonic() - last_active > idle_seconds:
            break
        for key, _ in events:
            if key.data == "listener":
                conn, _ = listener.accept()
                conn.setblocking(False)
                buffers[conn] = b""
                selector.register(conn, selectors.EVENT_READ, "conn")
            elif key.data == "conn":
                conn = key.fileobj
                try:
                    chunk = conn.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    selector.unregister(conn)
                    buffers.pop(conn, None)
                    conn.close()
                    continue
                buffers[conn] += chunk
                *lines, buffers[conn] = buffers[conn].split(b"\n")
                for line in lines:
                    if line.strip():
                        start(conn, json.loads(line))
            else:
                child = key.data
                try:
                    chunk = os.read(child.pipe, 65536)
                except BlockingIOError:
                    continue
                if chunk:
                    child.data += chunk
                    if child.data.endswith(b"\n") and not child.answered:
                        answer(child)
                else:
                    finish(child)
    for pid, request_w, response_r in spares:
        os.close(request_w)  # an empty request: the spare exits
        os.close(response_r)
        os.waitpid(pid, 0)
    try:
        os.unlink(socket_path)
    except OSError:
        pass


def main() -> None:
    sys.path.insert(0, os.getcwd())  # the project directory: entry points are relative to it
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        args = dict(zip(sys.argv[3::2], sys.argv[4::2]))
        serve(sys.argv[2], float(args.get("--idle", "300")), args.get("--entry"), args.get("--model"), int(args.get("--spares", "5")))
        return
    request = json.loads(sys.stdin.read())
    response = handle(request)
    sys.stdout.write(json.dumps(response))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
