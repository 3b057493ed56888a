"""How two runs of the same input differ: a structural diff of their outputs (JSON compared as
JSON, other text as text), a verdict, and the ratio of their durations; and runs, recorded or
just made, as the one shape they are compared in. Replay, compare and fixtures all judge with
this one place."""

from __future__ import annotations

import json
from typing import Any

from workbench.core.insight_models import Change, RunOutcome, Verdict
from workbench.core.models import ToolInvocationInstance
from workbench.core.results import Outcome

MAX_CHANGES = 200  # a diff longer than this says so in its last entry instead of going on
NOT_JSON = object()
"""What :func:`parsed` gives for text that is not JSON."""


def parsed(text: str | None) -> Any:
    """The output as JSON, or a marker that it is not JSON."""
    if text is None:
        return NOT_JSON
    try:
        return json.loads(text)
    except ValueError:
        return NOT_JSON


def _key_path(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{json.dumps(key)}]"


def _same(a: Any, b: Any) -> bool:
    # True == 1 in Python, not in JSON
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def json_changes(before: Any, after: Any, path: str = "$") -> list[Change]:
    """Where two JSON values differ, depth first, at most MAX_CHANGES entries."""
    changes: list[Change] = []
    _walk(before, after, path, changes)
    if len(changes) > MAX_CHANGES:
        changes = changes[:MAX_CHANGES] + [Change(path="$", kind="changed", before=None, after=f"... and more: the diff stops at {MAX_CHANGES} changes")]
    return changes


def _walk(before: Any, after: Any, path: str, changes: list[Change]) -> None:
    if len(changes) > MAX_CHANGES:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in before:
            if key not in after:
                changes.append(Change(path=_key_path(path, key), kind="removed", before=before[key]))
            else:
                _walk(before[key], after[key], _key_path(path, key), changes)
        for key in after:
            if key not in before:
                changes.append(Change(path=_key_path(path, key), kind="added", after=after[key]))
    elif isinstance(before, list) and isinstance(after, list):
        for index in range(min(len(before), len(after))):
            _walk(before[index], after[index], f"{path}[{index}]", changes)
        for index in range(len(after), len(before)):
            changes.append(Change(path=f"{path}[{index}]", kind="removed", before=before[index]))
        for index in range(len(before), len(after)):
            changes.append(Change(path=f"{path}[{index}]", kind="added", after=after[index]))
    elif not _same(before, after):
        changes.append(Change(path=path, kind="changed", before=before, after=after))


def output_changes(before: str | None, after: str | None) -> list[Change]:
    """How an output changed: by structure when both are JSON, else as whole texts."""
    a, b = parsed(before), parsed(after)
    if a is not NOT_JSON and b is not NOT_JSON:
        return json_changes(a, b)
    return [] if before == after else [Change(path="$", kind="changed", before=before, after=after)]


def ignoring(changes: list[Change], paths: list[str]) -> list[Change]:
    """The changes outside the given paths (a path covers everything below it)."""
    return [c for c in changes if not any(c.path == p or c.path.startswith(p + ".") or c.path.startswith(p + "[") for p in paths)]


def run_changes(a: RunOutcome, b: RunOutcome) -> list[Change]:
    """How run ``b`` differs from run ``a``: outputs when both succeeded; the exception type when
    both failed; the outcome itself when one failed."""
    if a.succeeded and b.succeeded:
        return output_changes(a.output, b.output)
    if not a.succeeded and not b.succeeded:
        same = a.exception_type == b.exception_type
        return [] if same else [Change(path="exception_type", kind="changed", before=a.exception_type, after=b.exception_type)]
    return [Change(path="succeeded", kind="changed", before=a.succeeded, after=b.succeeded)]


def verdict(a: RunOutcome, b: RunOutcome, changes: list[Change]) -> Verdict:
    """same, changed, newly failing (a succeeded, b failed) or newly fixed (the other way)."""
    if a.succeeded and not b.succeeded:
        return "newly failing"
    if b.succeeded and not a.succeeded:
        return "newly fixed"
    return "changed" if changes else "same"


def duration_ratio(a: RunOutcome, b: RunOutcome) -> float | None:
    """b's duration over a's (2.0: twice as slow); None when a took no measurable time."""
    return round(b.duration_ms / a.duration_ms, 3) if a.duration_ms > 0 else None


def recorded_outcome(record: ToolInvocationInstance) -> RunOutcome:
    """A recorded invocation as one side of a comparison."""
    status = record.invocation_status
    common = {"invocation_id": record.id, "version": str(record.tool_version), "duration_ms": record.duration_ms, "logs": record.logs}
    if status.succeeded:
        return RunOutcome(succeeded=True, output=status.output, **common)
    return RunOutcome(
        succeeded=False, exception_type=status.exception_type, exception_message=status.exception_message, exception_stack_trace=status.exception_stack_trace, **common
    )


def fresh_outcome(outcome: Outcome, version: str, invocation_id: str | None) -> RunOutcome:
    """A run just made as one side of a comparison."""
    result = outcome.result
    common = {"invocation_id": invocation_id, "version": version, "duration_ms": result.duration_ms, "logs": outcome.logs}
    if result.succeeded:
        return RunOutcome(succeeded=True, output=result.output, **common)
    return RunOutcome(
        succeeded=False, exception_type=result.exception_type, exception_message=result.exception_message, exception_stack_trace=result.exception_stack_trace, **common
    )


def rejected_outcome(version: str, problems: list[str]) -> RunOutcome:
    """An input the version's input schema refuses: it is not run there, and says why."""
    return RunOutcome(invocation_id=None, version=version, succeeded=False, exception_type="InputRejected", exception_message="; ".join(problems), duration_ms=0)


def input_key(item: dict[str, Any]) -> str:
    """Two recorded inputs are the same input when these are equal."""
    fields = ("input_parameters", "invocation_mode", "nonsensitive_user_variables", "sensitive_user_variables")
    return json.dumps({k: item.get(k) for k in fields}, sort_keys=True, default=str)
