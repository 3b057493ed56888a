"""A turn's expectations against what happened, each with a message a person can act on, and
the audio filler a slow call would have had spoken."""

from __future__ import annotations

import json
from typing import Any

from workbench.core.simulation.conversation import CallOutcome
from workbench.core.simulation.report import ExpectationResult, FillerTiming
from workbench.core.simulation.scenario import Expectation

MISSING = object()


def filler_timing(fillers: list[str], triggered_after: float, duration_ms: int, fired_before: int) -> FillerTiming:
    """Whether a call of ``duration_ms`` ran past the spec's ``audio_filler_triggered_after``.
    The fillers are spoken in their listed order, one per slow call, round and round (the
    spec's order, so a run is reproducible)."""
    threshold_ms = triggered_after * 1000
    if duration_ms <= threshold_ms:
        return FillerTiming(triggered_after_s=triggered_after, duration_ms=duration_ms, fired=False, spoken=None, note=f"finished in {duration_ms:,} ms, before the filler at {triggered_after:g} s")
    if not fillers:
        return FillerTiming(triggered_after_s=triggered_after, duration_ms=duration_ms, fired=True, spoken=None, note=f"ran {duration_ms:,} ms, past {triggered_after:g} s, but the spec has no audio fillers: silence")
    spoken = fillers[fired_before % len(fillers)]
    return FillerTiming(triggered_after_s=triggered_after, duration_ms=duration_ms, fired=True, spoken=spoken, note=f"ran {duration_ms:,} ms, past {triggered_after:g} s: the agent says {spoken!r}")


def _field(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def evaluate(expect: Expectation, outcome: CallOutcome, output: str | None, duration_ms: int, filler: FillerTiming) -> list[ExpectationResult]:
    """Each stated expectation, passed or not."""
    results = []

    def check(name: str, passed: bool, message: str) -> None:
        results.append(ExpectationResult(name=name, passed=passed, message=message))

    seen = "succeeded" if outcome.succeeded else f"failed with {outcome.error_type}: {_short(outcome.error_message or '')}"
    if expect.succeeded is not None:
        wanted = "succeed" if expect.succeeded else "fail"
        check("succeeded", outcome.succeeded == expect.succeeded, f"expected the call to {wanted}; it {seen}")
    for text in expect.output_contains:
        found = output is not None and text in output
        check("output_contains", found, f"expected the output to contain {text!r}; " + ("it does" if found else ("it does not" if output is not None else "there is no output")))
    if expect.output_fields:
        try:
            parsed = json.loads(output) if output is not None else MISSING
        except ValueError:
            parsed = MISSING
        for path, wanted_value in expect.output_fields.items():
            actual = MISSING if parsed is MISSING else _field(parsed, path)
            if parsed is MISSING:
                got = "the output is not JSON" if output is not None else "there is no output"
            else:
                got = "it has no such field" if actual is MISSING else f"got {_short(actual)}"
            check("output_fields", actual is not MISSING and actual == wanted_value, f"expected output field {path} = {_short(wanted_value)}; {got}")
    for text in expect.error_contains:
        error = outcome.error_message or ""
        found = not outcome.succeeded and text in f"{outcome.error_type}: {error}"
        check("error_contains", found, f"expected the error to contain {text!r}; " + (f"it is {_short(error)}" if not outcome.succeeded else "the call succeeded"))
    if expect.persistence is not None:
        actual_outcome = outcome.persistence.outcome
        check("persistence", actual_outcome == expect.persistence, f"expected persistence {expect.persistence}; it was {actual_outcome} ({outcome.persistence.explanation})")
    if expect.max_duration_ms is not None:
        check("max_duration_ms", duration_ms <= expect.max_duration_ms, f"expected at most {expect.max_duration_ms:,} ms; it took {duration_ms:,} ms")
    if expect.filler is not None:
        said = f"a filler was spoken ({filler.spoken!r})" if filler.fired and filler.spoken else ("no filler was spoken" if not filler.fired else "it ran past the trigger with no filler to speak")
        check("filler", filler.fired == expect.filler, f"expected {'a filler' if expect.filler else 'no filler'}; {said}")
    return results
