"""Fixture files: recorded inputs with what they gave, kept in a tool's repository and checked
against a branch (``workbench test --fixtures``) or by publish (``fixtures = "..."`` in the
project's ``[tool.workbench]`` table).

JSONL, one fixture per line, after an optional header line::

    {"workbench_fixtures": 1, "tool": "order_status", "exported_at": "...", "notes": [...]}
    {"name": "a1b2...", "input": {"input_parameters": {...}, "invocation_mode": "regular",
     "nonsensitive_user_variables": {}, "sensitive_user_variables": {"TOKEN": "********"}},
     "expected": {"succeeded": true, "output_json": {...}}, "ignore": ["$.generated_at"],
     "recorded": {"invocation_id": "...", "version": "1.2.0", "created_at": "..."}}

``expected`` holds ``output_json`` (compared as JSON) or ``output`` (compared as text) for a
success, ``exception_type`` for a failure. ``ignore`` names output paths, as diffs show them,
that may differ (times, random ids). The pytest format is a test module that runs the entry point
on the same cases in-process (see :func:`pytest_module`).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from workbench.core.diff import NOT_JSON, ignoring, json_changes, parsed
from workbench.core.insight_models import Change, Fixture, FixtureExpectation, FixtureResult, RunOutcome
from workbench.errors import BadRequest

HEADER_KEY = "workbench_fixtures"
FORMAT_VERSION = 1
MAX_PROBLEMS = 5


def read_fixtures(text: str, source: str = "the fixtures") -> list[Fixture]:
    """Every fixture of a JSONL text; 400 naming the lines that are not fixtures."""
    fixtures: list[Fixture] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as error:
            problems.append(f"line {number}: not JSON ({error})")
            continue
        if not isinstance(value, dict):
            problems.append(f"line {number}: a JSON {type(value).__name__}, not a fixture object")
            continue
        if HEADER_KEY in value:
            continue
        value.setdefault("name", f"line-{number}")
        try:
            fixtures.append(Fixture.model_validate(value))
        except ValidationError as error:
            first = error.errors()[0]
            problems.append(f"line {number}: {'.'.join(map(str, first['loc'])) or 'fixture'}: {first['msg']}")
    if problems:
        more = f" (and {len(problems) - MAX_PROBLEMS} more)" if len(problems) > MAX_PROBLEMS else ""
        raise BadRequest(f"{source} are not all fixtures: " + "; ".join(problems[:MAX_PROBLEMS]) + more, errors=problems)
    if not fixtures:
        raise BadRequest(f"{source} hold no fixtures: one JSON object per line, each with input and expected (see `workbench export`)")
    return fixtures


def expectation(succeeded: bool, output: str | None, exception_type: str | None) -> FixtureExpectation:
    """What a recorded run should give again: its output as JSON when it was JSON."""
    if not succeeded:
        return FixtureExpectation(succeeded=False, exception_type=exception_type)
    value = parsed(output)
    if isinstance(value, dict | list):
        return FixtureExpectation(succeeded=True, output_json=value)
    return FixtureExpectation(succeeded=True, output=output)


def jsonl(fixtures: list[Fixture], header: dict[str, Any]) -> str:
    """A JSONL fixture file: the header line, then one fixture per line."""
    lines = [json.dumps({HEADER_KEY: FORMAT_VERSION, **header}, sort_keys=True, default=str)]
    lines += [json.dumps(f.model_dump(mode="json", exclude_unset=False, exclude_none=True), sort_keys=True) for f in fixtures]
    return "\n".join(lines) + "\n"


def judge(fixture: Fixture, actual: RunOutcome) -> FixtureResult:
    """Whether a run gave what the fixture expects, and if not, how it differs."""
    expected = fixture.expected
    changes: list[Change] = []
    problem: str | None = None
    if expected.succeeded and not actual.succeeded:
        problem = f"expected success, failed with {actual.exception_type}: {actual.exception_message}"
        changes = [Change(path="succeeded", kind="changed", before=True, after=False)]
    elif not expected.succeeded and actual.succeeded:
        problem = f"expected {expected.exception_type}, succeeded"
        changes = [Change(path="succeeded", kind="changed", before=False, after=True)]
    elif not expected.succeeded:
        if actual.exception_type != expected.exception_type:
            problem = f"expected {expected.exception_type}, failed with {actual.exception_type}: {actual.exception_message}"
            changes = [Change(path="exception_type", kind="changed", before=expected.exception_type, after=actual.exception_type)]
    elif "output_json" in expected.model_fields_set:
        value = parsed(actual.output)
        found = json_changes(expected.output_json, value) if value is not NOT_JSON else [Change(path="$", kind="changed", before=expected.output_json, after=actual.output)]
        changes = ignoring(found, fixture.ignore)
        if changes:
            problem = f"the output differs at {len(changes)} place(s), first at {changes[0].path}"
    elif actual.output != expected.output:
        changes = [Change(path="$", kind="changed", before=expected.output, after=actual.output)]
        problem = "the output differs"
    return FixtureResult(name=fixture.name, passed=problem is None, problem=problem, expected=expected, actual=actual, changes=changes)


PYTEST_TEMPLATE = '''"""Recorded invocations of {tool} as tests, written by `workbench export --format pytest`.

Each case runs the entry point {entry_point} in-process with a recorded input and checks that it
gives the recorded output again (or fails with the recorded exception type). Put this file in the
project's tests and run it with `python -m pytest` from the project directory. Secrets and
sensitive user variables were masked ("********") when recorded, so the cases run with the mask;
the environment variables the tool reads come from the environment the tests run in.
"""

import json
import logging
import os

import pytest

import {module} as tool_module

entry_point = tool_module.{function}
{model_import}
CASES = json.loads({cases!r})
IGNORED = "<ignored>"


class Context:
    """What the entry point gets besides its input parameters, as the workbench gives it."""

    def __init__(self, case):
        given = case["input"]
        self.invocation_mode = given.get("invocation_mode", "regular")
        self.env = dict(os.environ)
        self.nonsensitive_user_variables = given.get("nonsensitive_user_variables", {{}})
        self.sensitive_user_variables = given.get("sensitive_user_variables", {{}})
        self.logger = logging.getLogger("tool")

    @property
    def is_simulation(self):
        return self.invocation_mode == "conversation-simulation"


def rendered(result):
    return result if isinstance(result, str) else json.dumps(result)


def without(value, ignore, path="$"):
    if path in ignore:
        return IGNORED
    if isinstance(value, dict):
        return {{k: without(v, ignore, f"{{path}}.{{k}}" if k.isidentifier() else f"{{path}}[{{json.dumps(k)}}]") for k, v in value.items()}}
    if isinstance(value, list):
        return [without(v, ignore, f"{{path}}[{{i}}]") for i, v in enumerate(value)]
    return value


def run(case):
    params = case["input"]["input_parameters"]
    {model_line}
    return rendered(entry_point(params, Context(case)))


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_recorded_invocation(case):
    expected = case["expected"]
    if not expected["succeeded"]:
        with pytest.raises(Exception) as raised:
            run(case)
        assert type(raised.value).__name__ == expected["exception_type"]
        return
    output = run(case)
    if "output_json" in expected:
        ignore = set(case.get("ignore", []))
        assert without(json.loads(output), ignore) == without(expected["output_json"], ignore)
    else:
        assert output == expected["output"]
'''


def pytest_module(tool: str, fixtures: list[Fixture], entry_point: str, input_model: str | None) -> str:
    """A pytest module that checks the entry point against the fixtures in-process."""
    module, _, function = entry_point.partition(":")
    cases = json.dumps([f.model_dump(mode="json", exclude_none=True) for f in fixtures], sort_keys=True)
    if input_model:
        model_module, _, model_name = input_model.partition(":")
        model_import = f"import {model_module} as model_module\n\nInputModel = model_module.{model_name}\n"
        model_line = "params = InputModel.model_validate(params)"
    else:
        model_import, model_line = "", "# the tool takes its parameters as a dict"
    return PYTEST_TEMPLATE.format(
        tool=tool, entry_point=entry_point, module=module, function=function, model_import=model_import, model_line=model_line, cases=cases
    )
