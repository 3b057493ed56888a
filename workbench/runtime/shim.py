"""The in-sandbox shim: loads a tool's entry point and runs one request.

It runs with the tool's own interpreter and uses the standard library only. Whatever the tool
prints, and every line its logger writes, becomes the invocation's ``logs``. Two modes:

* ``--serve SOCKET`` (the warm worker of both runtimes, :mod:`shim_worker`): each request runs
  in a fresh, sealed child;
* one-shot (for comparisons and probes): one JSON request on stdin, one JSON response on stdout.

Requests:
  {"action": "describe", "entry_point": "tool:run", "input_model": null | "tool:Params"}
      -> {"ok": true, "input_schema": {...} | null}
  {"action": "invoke", "entry_point": ..., "input_model": ..., "input_parameters": {...},
   "invocation_mode": "regular" | "conversation-simulation",
   "nonsensitive_user_variables": {...}, "sensitive_user_variables": {...}}
      -> {"ok": true, "output": "...", "logs": [...]}   (+ "output_length" when it was cut)
Failures of either:
      -> {"ok": false, "exception_type": ..., "exception_message": ..., "exception_stack_trace": [...], "logs": [...]}

What a run sends back is bounded, so a tool printing or returning megabytes cannot hurt the worker
or the workbench: logs keep their first ``LOG_LIMIT`` characters, an output longer than
``OUTPUT_TRANSPORT_LIMIT`` is cut and its real length sent along (the workbench fails it: the
API's limit is far lower), messages and stack traces are cut too.
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

LOG_LIMIT = 100_000  # characters of logs kept per run
OUTPUT_TRANSPORT_LIMIT = 100_000  # characters of output sent back; the API allows 20,000
MESSAGE_LIMIT = 10_000
TRACE_LINES, TRACE_LINE_LIMIT = 200, 1_000


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


class RunLogs(list):
    """The run's log lines, up to ``LOG_LIMIT`` characters; what goes past is counted, not kept."""

    def __init__(self) -> None:
        super().__init__()
        self.size = 0
        self.dropped = 0

    def append(self, line: str) -> None:  # type: ignore[override]
        if self.size + len(line) > LOG_LIMIT:
            self.dropped += len(line)
            return
        self.size += len(line)
        super().append(line)

    def extend(self, lines: Any) -> None:  # type: ignore[override]
        for line in lines:
            self.append(line)

    def finished(self) -> list[str]:
        if self.dropped:
            return [*self, f"[workbench] {self.dropped:,} more characters of logs were dropped (at most {LOG_LIMIT:,} are kept)"]
        return list(self)


class _Lines(logging.Handler):
    def __init__(self, sink: RunLogs) -> None:
        super().__init__()
        self.sink = sink
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.extend(self.format(record).splitlines() or [""])


class _LineWriter(io.TextIOBase):
    """A stdout/stderr stand-in: each complete printed line joins the logs, in order."""

    def __init__(self, sink: RunLogs) -> None:
        self.sink = sink
        self.partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        *complete, self.partial = (self.partial + text).split("\n")
        self.sink.extend(complete)
        if len(self.partial) > LOG_LIMIT:  # one endless line: keep what fits
            self.sink.append(self.partial)
            self.partial = ""
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


def _shim_frame(filename: str) -> bool:
    return os.path.basename(filename).startswith(("_workbench_", "shim")) and os.path.dirname(filename) == os.path.dirname(__file__)


def failure(error: BaseException, logs: list[str]) -> dict[str, Any]:
    """The response for a run that raised ``error``: type, message and the tool's own frames."""
    tb = error.__traceback__
    while tb is not None and _shim_frame(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next  # the shim's own frames say nothing about the tool
    lines = "".join(traceback.format_exception(type(error), error, tb)).splitlines()
    message = str(error)
    if isinstance(error, MemoryError) and not message:
        message = "the run ran out of memory: it exceeded its memory limit"
    return {
        "ok": False,
        "exception_type": type(error).__name__,
        "exception_message": message[:MESSAGE_LIMIT],
        "exception_stack_trace": [line[:TRACE_LINE_LIMIT] for line in lines[-TRACE_LINES:]],
        "logs": logs,
    }


def _render(result: Any) -> str:
    if isinstance(result, str):
        return result
    if isinstance(result, (dict, list)):
        return json.dumps(result)
    raise TypeError(f"the entry point must return str, dict or list, not {type(result).__name__}")


def handle(request: dict[str, Any]) -> dict[str, Any]:
    """Run one describe or invoke request and describe the outcome; never raises."""
    logs = RunLogs()
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
                return {"ok": True, "input_schema": _schema_of(model) if model else None, "logs": logs.finished()}
            params = request.get("input_parameters") or {}
            if model is not None:
                params = model.model_validate(params) if hasattr(model, "model_validate") else model(**params)
            output = _render(entry(params, ToolContext(request, logger)))
        printed.close_out()
        response: dict[str, Any] = {"ok": True, "output": output[:OUTPUT_TRANSPORT_LIMIT], "logs": logs.finished()}
        if len(output) > OUTPUT_TRANSPORT_LIMIT:
            response["output_length"] = len(output)
        return response
    except BaseException as error:  # the tool's failure is the invocation's result
        printed.close_out()
        return failure(error, logs.finished())


def main() -> None:
    sys.path.insert(0, os.getcwd())  # the project directory: entry points are relative to it
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        try:
            import _workbench_worker as worker  # in the sandbox, beside this file
        except ImportError:
            from workbench.runtime import shim_worker as worker
        worker.main(sys.argv[2:])
        return
    request = json.loads(sys.stdin.read())
    response = handle(request)
    sys.stdout.write(json.dumps(response))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
