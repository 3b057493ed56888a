"""``workbench repair``: carry out the steps the health check names, then check again.

Each step re-checks, under the lock its file's writers hold, that it is still needed, and each
is atomic on its own (a file is replaced by rename; a line is appended), so a repair killed at
any point leaves a data directory that the next repair finishes. Nothing damaged is deleted: a
replaced file is kept aside first, a damaged line is copied aside and the log left as it is.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workbench.errors import DataDamaged
from workbench.store import documents
from workbench.store.atomic import append_lines
from workbench.store.directory import DataDirectory
from workbench.store.health import MODE_OWNER_ONLY, Finding, HealthReport, check, describe_tables, describe_values


@dataclass
class RepairOutcome:
    """What was done, what is left for the user, and the check made afterwards."""

    done: list[str]
    left: list[Finding]
    after: HealthReport

    def to_dict(self) -> dict[str, Any]:
        return {"done": self.done, "left": [f.to_dict() for f in self.left], "after": self.after.to_dict()}


def repair(d: DataDirectory, plan: HealthReport | None = None) -> RepairOutcome:
    """Carry out the repair steps of ``plan`` (a fresh check if None) and check again."""
    plan = plan or check(d)
    done: list[str] = []
    steps = [f for f in plan.findings if f.action]
    with d.metadata.lock():  # no writer of metadata or secrets runs meanwhile
        for finding in steps:
            if finding.action in DOCUMENT_STEPS:
                done.append(DOCUMENT_STEPS[finding.action](d, finding))
        refs = [f.params["ref"] for f in steps if f.action == "restore_secret"]
        if refs:
            done.append(_restore_secret_values(d, refs))
    for finding in steps:
        if finding.action in LOG_STEPS:
            done.append(LOG_STEPS[finding.action](d, finding))
    after = check(d)
    return RepairOutcome([line for line in done if line], after.problems, after)


def _restore(d: DataDirectory, finding: Finding) -> str:
    is_metadata = finding.params["file"] == d.relative(d.metadata.path)
    store: Any = d.metadata if is_metadata else d.secrets
    check_shape = documents.check_tables if is_metadata else documents.check_string_map
    describe = describe_tables if is_metadata else describe_values
    part = finding.params["file"]
    try:
        store.load()
        return f"{part} loads now; nothing restored"
    except DataDamaged as damage:
        problem = damage.problem
    kept = f"the damaged file is kept as {d.relative(d.quarantine.keep_file(store.path))}" if store.path.exists() else "there was no file to keep aside"
    candidate = store.generations.newest_good(check_shape)
    if candidate is None:
        store.commit({})
        return f"{part}, which was damaged ({problem}), starts empty: no kept copy of it loads; {kept}"
    generation, value = candidate
    store.commit(value)
    return f"restored {part}, which was damaged ({problem}), from the copy saved {generation.saved_at:%Y-%m-%d %H:%M:%S} UTC (generation {generation.number}: {describe(value)}); {kept}"


def _chmod(d: DataDirectory, finding: Finding) -> str:
    os.chmod(d.home / finding.params["file"], MODE_OWNER_ONLY)
    return f"made {finding.params['file']} owner-only (mode 600)"


def _restore_secret_values(d: DataDirectory, refs: list[str]) -> str:
    values = d.secrets.load()
    found = d.secrets.kept_values(ref for ref in refs if ref not in values)
    if not found:
        return ""
    d.secrets.commit({**values, **found})
    return f"restored {len(found)} missing secret value(s) from kept copies of secrets.json"


def _keep_lines(d: DataDirectory, finding: Finding) -> str:
    segment = d.log.directory / finding.params["segment"]
    damaged = []
    for line in d.log.scan(segment):
        problem = line.problem or d.log.problem(line.record)
        if problem:
            damaged.append((line.offset, line.raw, problem))
    kept = d.quarantine.keep_lines(segment.name, damaged)
    return f"kept {kept} damaged line(s) of {d.relative(segment)} aside in {d.relative(d.quarantine.lines_path)}"


def _end_torn_line(d: DataDirectory, finding: Finding) -> str:
    segment = d.log.directory / finding.params["segment"]
    with d.log.append_lock():  # no append runs meanwhile, so an unfinished line stays unfinished
        end = max((line.end for line in d.log.scan(segment)), default=0)
        with segment.open("rb") as handle:
            handle.seek(end)
            fragment = handle.read()
        if not fragment:
            return ""
        reason = f"an unfinished line of {len(fragment):,} bytes, ended by repair"
        d.quarantine.keep_lines(segment.name, [(end, fragment + b"\n", reason)])
        append_lines(segment, b"")  # just the newline: the next record starts on a fresh line
    return f"kept the unfinished line at byte {end:,} of {d.relative(segment)} aside and ended it"


def _rebuild_catalog(d: DataDirectory, finding: Finding) -> str:
    catalog = d.catalog()
    try:
        rebuild = catalog.replace if finding.action == "replace_catalog" else catalog.rebuild
        count = rebuild(f"workbench repair: {finding.found}")
    finally:
        catalog.close()
    return f"rebuilt {d.relative(d.catalog_path)} from the log: {count:,} records"


DOCUMENT_STEPS: dict[str, Callable[[DataDirectory, Finding], str]] = {"restore": _restore, "chmod": _chmod}
LOG_STEPS: dict[str, Callable[[DataDirectory, Finding], str]] = {
    "keep_lines": _keep_lines,
    "end_torn_line": _end_torn_line,
    "rebuild_catalog": _rebuild_catalog,
    "replace_catalog": _rebuild_catalog,
}
