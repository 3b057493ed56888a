"""Replay and compare: recorded or given inputs run again, on the same or another version, and
judged against what they gave before (``core/diff.py``).

Every run is a recorded invocation like any other. Its source says it was a workbench rerun: the
spec's source for its mode (a regular or a simulation conversation) with tool-call-state
metadata whose state is ``workbench:replay`` or ``workbench:compare``, the run's id as the
conversation id (regular) or simulation test set run id (simulation), and the replayed
invocation's id as the interaction id or unit test id. ``workbench history --conversation-id RUN``
(or ``--run-id RUN``) lists a run's invocations.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from workbench.core.diff import duration_ratio, fresh_outcome, input_key, recorded_outcome, rejected_outcome, run_changes, verdict
from workbench.core.insight_models import CompareRequest, Comparison, ComparisonSummary, InputComparison, ReplayRequest, ReplayResult, RunOutcome
from workbench.core.invoker import Invoker
from workbench.core.lookup import require_tool
from workbench.core.models import (
    Input,
    InvocationSource,
    RegularConversationInvocationSource,
    SimulationConversationInvocationSource,
    ToolCallStateInvocationMetadata,
    ToolInvocationInstance,
)
from workbench.core.results import Outcome
from workbench.core.running import MASK, MAX_INPUTS, schema_problems
from workbench.core.validation import ModelOrDict, check_org, parse
from workbench.core.versions import resolve
from workbench.errors import BadRequest, NotFound
from workbench.names import IdFactory
from workbench.store.catalog import StoredLine
from workbench.store.invocation_queries import InvocationFilter, InvocationQueries, ToolSelection
from workbench.store.records import VersionRecord
from workbench.store.tables import Metadata

RerunKind = Literal["replay", "compare"]
STATE_MACHINE = ("workbench", 1)
HISTORY_SCAN_LIMIT = 5000  # recorded invocations read at most to find distinct inputs


def rerun_source(kind: RerunKind, user_id: str, mode: str, run_id: str, replayed: str | None) -> InvocationSource:
    """The spec's source for a rerun the workbench made (see the module's docstring)."""
    metadata = ToolCallStateInvocationMetadata(current_state_machine_and_version=STATE_MACHINE, state_name=f"workbench:{kind}")
    if mode == "conversation-simulation":
        return SimulationConversationInvocationSource(simulation_unit_test_set_run_id=run_id, unit_test_id=replayed, run_index=None, invocation_metadata=metadata)
    return RegularConversationInvocationSource(user_id=user_id, conversation_id=run_id, interaction_id=replayed, invocation_metadata=metadata)


def masked_notes(inputs: list[dict[str, Any]], given: dict[str, str]) -> list[str]:
    """What a rerun cannot reproduce because it was masked when recorded, said plainly."""
    masked = sorted({name for item in inputs for name, value in (item.get("sensitive_user_variables") or {}).items() if value == MASK and name not in given})
    notes = []
    if masked:
        notes.append(
            f"sensitive user variable(s) {', '.join(masked)} were masked when recorded: the rerun used {MASK!r} in their place, "
            "not the original values (give the values to run with them)"
        )
    if given:
        notes.append(f"ran with the values you gave for {', '.join(sorted(given))}")
    if any(MASK in json.dumps(item.get("input_parameters"), default=str) for item in inputs):
        notes.append(f"the recorded input parameters contain {MASK!r}: a secret value was masked in them when recorded, and the rerun used the mask")
    return notes


class Reruns:
    """Replays one recorded invocation, or compares two versions on the same inputs."""

    def __init__(self, metadata: Metadata, queries: InvocationQueries, invoker: Invoker, ids: IdFactory, default_user: str) -> None:
        self.metadata = metadata
        self.queries = queries
        self.invoker = invoker
        self.ids = ids
        self.default_user = default_user

    # -- replay -------------------------------------------------------------------------------

    def replay_invocation(self, org_id: str, invocation_id: str, request: ModelOrDict = None, user_id: str | None = None) -> ReplayResult:
        """Run a recorded invocation's input again (same mode and variables) on its version or
        ``request.version``, record it, and set the result beside the original."""
        check_org(org_id)
        q = parse(ReplayRequest, request, "replay request")
        original = self._recorded(org_id, invocation_id)
        item = dict(original.inputs)
        if not isinstance(item.get("input_parameters"), dict):
            raise BadRequest(f"invocation {invocation_id} has no recorded input parameters to replay")
        recorded_sensitive = dict(item.get("sensitive_user_variables") or {})
        unknown = sorted(set(q.sensitive_user_variables) - set(recorded_sensitive))
        if unknown:
            allowed = ", ".join(sorted(recorded_sensitive)) or "none"
            raise BadRequest(f"{', '.join(unknown)} was not a sensitive user variable of invocation {invocation_id} (it had: {allowed})")
        run_input = parse(Input, {**item, "sensitive_user_variables": {**recorded_sensitive, **q.sensitive_user_variables}}, f"recorded input of invocation {invocation_id}")
        version = q.version or str(original.tool_version)
        run_id = self.ids()
        user = user_id or self.default_user
        outcome = self.invoker.invoke_outcomes(
            org_id, original.tool_id, version, {"inputs": [run_input]}, user, source=rerun_source("replay", user, run_input.invocation_mode, run_id, original.id)
        )[0]
        recorded = self._runs(org_id, run_id)
        replay = fresh_outcome(outcome, str(recorded[0].tool_version) if recorded else version, recorded[0].id if recorded else None)
        before = recorded_outcome(original)
        changes = run_changes(before, replay)
        return ReplayResult(
            input=item,
            original=before,
            replay=replay,
            verdict=verdict(before, replay, changes),
            changes=changes,
            duration_ratio=duration_ratio(before, replay),
            notes=masked_notes([item], q.sensitive_user_variables) + [f"recorded as a workbench replay: run id {run_id}"],
        )

    def _recorded(self, org_id: str, invocation_id: str) -> ToolInvocationInstance:
        location = self.queries.locate(org_id, invocation_id)
        if location is None:
            raise NotFound(f"invocation {invocation_id} does not exist in organization {org_id}")
        return ToolInvocationInstance.model_validate(self.queries.records([location])[0])

    def _runs(self, org_id: str, run_id: str) -> list[ToolInvocationInstance]:
        """The invocations a rerun recorded under ``run_id``, in the order they were recorded."""
        found: list[StoredLine] = []
        for where in (InvocationFilter(org_id, conversation_ids=(run_id,)), InvocationFilter(org_id, sim_run_ids=(run_id,))):
            locations, _ = self.queries.page(where, [("created_at", False)], 100, 0)
            found += locations
        records = [ToolInvocationInstance.model_validate(r) for r in self.queries.records(found)]
        return sorted(records, key=lambda r: r.created_at)

    # -- compare ------------------------------------------------------------------------------

    def compare_versions(self, org_id: str, tool_id: str, request: ModelOrDict, user_id: str | None = None) -> Comparison:
        """Run the same inputs on two versions at once and judge each pair; every run is
        recorded. Inputs a version's schema refuses are reported, not run there."""
        check_org(org_id)
        q = parse(CompareRequest, request, "compare request")
        if bool(q.inputs) == bool(q.from_history):
            raise BadRequest("give the inputs to compare with, or from_history N to take the tool's N most recent distinct recorded inputs (not both)")
        with self.metadata.read() as view:
            tool = require_tool(view, org_id, tool_id)
            every = view.versions.of_tool(tool_id)
        chosen = [resolve(tool.name, every, wanted) for wanted in (q.version_a, q.version_b)]
        inputs = [i.model_dump(mode="json") for i in q.inputs] if q.inputs else self.recent_inputs(org_id, tool_id, q.from_history or 0)
        if not inputs:
            raise BadRequest(f"tool {tool.name} has no recorded inputs to compare with; give inputs instead")
        user = user_id or self.default_user
        run_ids = [self.ids(), self.ids()]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(self._run_all, org_id, tool_id, version, inputs, user, run_id) for version, run_id in zip(chosen, run_ids)]
            side_a, side_b = (f.result() for f in futures)
        wall_ms = int((time.perf_counter() - started) * 1000)
        pairs = []
        for index, (item, a, b) in enumerate(zip(inputs, side_a, side_b)):
            changes = run_changes(a, b)
            pairs.append(InputComparison(index=index, input=item, a=a, b=b, verdict=verdict(a, b, changes), changes=changes, duration_ratio=duration_ratio(a, b)))
        notes = masked_notes(inputs, {}) + [f"recorded as workbench compare runs {run_ids[0]} ({chosen[0].label}) and {run_ids[1]} ({chosen[1].label})"]
        return Comparison(
            tool_id=tool_id, version_a=chosen[0].label, version_b=chosen[1].label, run_ids=run_ids, inputs=pairs, summary=summarize(pairs), wall_ms=wall_ms, notes=notes
        )

    def recent_inputs(self, org_id: str, tool_id: str, count: int) -> list[dict[str, Any]]:
        """The tool's ``count`` most recent distinct recorded inputs, newest first."""
        where = InvocationFilter(org_id, tools=(ToolSelection(tool_id),))
        seen: dict[str, dict[str, Any]] = {}
        for offset in range(0, HISTORY_SCAN_LIMIT, 100):
            locations, more = self.queries.page(where, [], 100, offset)
            for record in self.queries.records(locations):
                item = record.get("inputs") or {}
                if not isinstance(item.get("input_parameters"), dict) or item.get("invocation_mode") not in ("regular", "conversation-simulation"):
                    continue  # imported without a usable input: nothing to run
                seen.setdefault(
                    input_key(item),
                    {
                        "input_parameters": item["input_parameters"],
                        "invocation_mode": item["invocation_mode"],
                        "nonsensitive_user_variables": item.get("nonsensitive_user_variables") or {},
                        "sensitive_user_variables": item.get("sensitive_user_variables") or {},
                    },
                )
                if len(seen) >= count:
                    return list(seen.values())
            if not more:
                break
        return list(seen.values())

    def _run_all(self, org_id: str, tool_id: str, version: VersionRecord, inputs: list[dict[str, Any]], user: str, run_id: str) -> list[RunOutcome]:
        """Every input on one version: refused ones said so, the rest in calls of up to 10 per
        mode (a call's source names its mode), each call's inputs in parallel."""
        outcomes: dict[int, RunOutcome] = {}
        runnable: dict[str, list[int]] = {}
        for index, item in enumerate(inputs):
            problems = schema_problems(version.input_schema, [item["input_parameters"]]) if version.input_schema else []
            if problems:
                outcomes[index] = rejected_outcome(version.label, [p.removeprefix("input 0: ") for p in problems])
            else:
                runnable.setdefault(item["invocation_mode"], []).append(index)
        order: list[int] = []
        results: dict[int, Outcome] = {}
        for mode, indexes in runnable.items():
            source = rerun_source("compare", user, mode, run_id, None)
            for start in range(0, len(indexes), MAX_INPUTS):
                chunk = indexes[start : start + MAX_INPUTS]
                ran = self.invoker.invoke_outcomes(org_id, tool_id, version.label, {"inputs": [inputs[i] for i in chunk]}, user, source=source)
                results.update(zip(chunk, ran))
                order += chunk
        recorded = self._runs(org_id, run_id) if order else []
        ids = {index: record.id for index, record in zip(order, recorded) if record.inputs.get("input_parameters") == results[index].input.get("input_parameters")}
        outcomes.update({index: fresh_outcome(results[index], version.label, ids.get(index)) for index in order})
        return [outcomes[index] for index in range(len(inputs))]


def summarize(pairs: list[InputComparison]) -> ComparisonSummary:
    """How many inputs came out the same, changed, newly failing or newly fixed, and the ratio of
    the two versions' median durations (of the inputs each ran)."""
    counts = {v: sum(1 for p in pairs if p.verdict == v) for v in ("same", "changed", "newly failing", "newly fixed")}
    p50_a = _median([p.a.duration_ms for p in pairs if p.a.exception_type != "InputRejected"])
    p50_b = _median([p.b.duration_ms for p in pairs if p.b.exception_type != "InputRejected"])
    return ComparisonSummary(
        same=counts["same"],
        changed=counts["changed"],
        newly_failing=counts["newly failing"],
        newly_fixed=counts["newly fixed"],
        failed_a=sum(1 for p in pairs if not p.a.succeeded),
        failed_b=sum(1 for p in pairs if not p.b.succeeded),
        p50_a_ms=p50_a,
        p50_b_ms=p50_b,
        p50_ratio=round(p50_b / p50_a, 3) if p50_a and p50_b is not None else None,
    )


def _median(values: list[int]) -> int | None:
    """The nearest-rank median (a value that occurred), as the stats give it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[(len(ordered) + 1) // 2 - 1]

