"""Running inputs against a build: schema validation, parallel runs, the output limit, and
masking of secret values before anything is returned, recorded or shown."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from workbench.core.models import FailedInvocationResult, Input, SucceededInvocationResult
from workbench.core.persistence import persistence_outcomes
from workbench.core.results import Outcome
from workbench.errors import BadRequest
from workbench.runtime.base import Build, Runner

OUTPUT_LIMIT = 20_000
MAX_INPUTS = 10
MASK = "********"
MIN_MASKED_LENGTH = 3  # shorter values would mask ordinary text ("a", "1") everywhere


def schema_problems(schema: dict[str, Any], parameters: list[dict[str, Any]]) -> list[str]:
    """What is wrong with each input's parameters against the tool's input schema, if anything."""
    from jsonschema import Draft202012Validator  # here: only a run or a check of inputs needs it

    validator = Draft202012Validator(schema)
    problems = []
    for index, item in enumerate(parameters):
        for error in sorted(validator.iter_errors(item), key=lambda e: list(e.path)):
            where = "/".join(str(p) for p in error.path) or "(top level)"
            # jsonschema quotes a pattern with repr(), doubling its backslashes: say it as written
            message = f"{error.instance!r} does not match the pattern {error.validator_value}" if error.validator == "pattern" else error.message
            problems.append(f"input {index}: {where}: {message}")
    return problems


def input_problems(schema: dict[str, Any] | None, inputs: Any) -> list[str]:
    """What is wrong with a list of inputs' parameters before a run: how many there are (1 to
    10), their shape (JSON objects), and the input schema where one is known."""
    if not isinstance(inputs, list) or not 1 <= len(inputs) <= MAX_INPUTS:
        count = len(inputs) if isinstance(inputs, list) else 1
        return [f"give 1 to {MAX_INPUTS} inputs, not {count}"]
    if not all(isinstance(item, dict) for item in inputs):
        return ["each input must be a JSON object of input parameters"]
    return schema_problems(schema, inputs) if schema else []


def validate_inputs(schema: dict[str, Any], inputs: list[Input]) -> None:
    """400 unless every input's parameters match the tool's input schema; says what and where."""
    problems = schema_problems(schema, [item.input_parameters for item in inputs])
    if problems:
        raise BadRequest("input parameters do not conform to the tool's input schema: " + "; ".join(problems), errors=problems)


class SecretMask:
    """Replaces every occurrence of the given secret values with a mask."""

    def __init__(self, values: list[str]) -> None:
        self.values = sorted({v for v in values if v and len(v) >= MIN_MASKED_LENGTH}, key=len, reverse=True)

    def text(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k): self.json(v) for k, v in value.items()}
        return value


def _outcome(item: Input, response: dict[str, Any], duration_ms: int, secrets: list[str]) -> Outcome:
    mask = SecretMask([*secrets, *item.sensitive_user_variables.values()])
    logs = [mask.text(line) for line in response.get("logs", [])]
    recorded_input = mask.json(item.model_dump(mode="json"))
    recorded_input["sensitive_user_variables"] = {k: MASK for k in item.sensitive_user_variables}
    result: SucceededInvocationResult | FailedInvocationResult
    if response.get("ok"):
        output = response["output"]
        length = response.get("output_length", len(output))  # the runtime cuts a huge output short in transit
        if length > OUTPUT_LIMIT:
            result = FailedInvocationResult(
                exception_type="OutputTooLarge",
                exception_message=f"the output is {length:,} characters; a tool's output may be at most {OUTPUT_LIMIT:,}",
                exception_stack_trace=[],
                duration_ms=duration_ms,
            )
        else:
            result = SucceededInvocationResult(output=mask.text(output), duration_ms=duration_ms)
    else:
        result = FailedInvocationResult(
            exception_type=mask.text(response.get("exception_type", "Error")),
            exception_message=mask.text(response.get("exception_message", "")),
            exception_stack_trace=[mask.text(line) for line in response.get("exception_stack_trace", [])],
            duration_ms=duration_ms,
        )
    return Outcome(recorded_input, result, logs, persistence_outcomes(result))


def run_inputs(runner: Runner, build: Build, inputs: list[Input], env: dict[str, str], secrets: list[str], timeout: float) -> list[Outcome]:
    """Run every input in parallel (up to 10), in input order."""

    def run_one(item: Input) -> Outcome:
        request = {
            "input_parameters": item.input_parameters,
            "invocation_mode": item.invocation_mode,
            "nonsensitive_user_variables": item.nonsensitive_user_variables,
            "sensitive_user_variables": item.sensitive_user_variables,
        }
        started = time.perf_counter()
        response = runner.invoke(build, request, env, timeout)
        return _outcome(item, response, int((time.perf_counter() - started) * 1000), secrets)

    with ThreadPoolExecutor(max_workers=max(1, len(inputs))) as pool:
        return list(pool.map(run_one, inputs))
