"""The in-sandbox shim: loads a tool's entry point and runs one request.

It runs with the tool's own interpreter and uses the standard library only. A request is one JSON
object on stdin; the response is one JSON object on stdout. Whatever the tool prints, and every
line its logger writes, becomes the invocation's ``logs``.

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


def main() -> None:
    sys.path.insert(0, os.getcwd())  # the project directory: entry points are relative to it
    request = json.loads(sys.stdin.read())
    response = handle(request)
    sys.stdout.write(json.dumps(response))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
