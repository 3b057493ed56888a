"""Before anything runs: each turn of a scenario matched to its state and tool call spec, the
spec resolved to a version, the parameters checked against that version's input schema. A
scenario that cannot run says every reason at once, each naming its turn."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.core.persistence import ResultPersistence
from workbench.core.running import schema_problems
from workbench.core.simulation.graph import SpecLocation
from workbench.core.simulation.report import GraphCheck, SpecCheck
from workbench.core.simulation.scenario import SimulationRequest, Turn
from workbench.errors import BadRequest


@dataclass(frozen=True)
class PlannedTurn:
    """A turn ready to run: its spec (checked and resolved) and its place in the conversation."""

    index: int
    turn: Turn
    spec: SpecCheck
    location: SpecLocation
    transition_index: int
    round_index: int

    @property
    def tool_id(self) -> str:
        return self.spec.tool_id or ""

    @property
    def version(self) -> str:
        return self.spec.resolved_version or ""

    @property
    def persistence(self) -> ResultPersistence:
        return self.spec.result_persistence or "ephemeral"  # a planned spec passed its check: it has one


def _choose_spec(index: int, turn: Turn, specs: list[SpecCheck]) -> tuple[SpecCheck | None, str | None]:
    where = f"turn {index} (state {turn.state!r})"
    if turn.spec is not None:
        location = SpecLocation.parse(turn.spec)
        if location is None:
            return None, f"{where}: spec {turn.spec!r} is not designated_tool or LIST[INDEX] (such as action_tool_call_specs[0])"
        chosen = [s for s in specs if s.location == str(location)]
    else:
        chosen = list(specs)
    if turn.tool is not None:
        chosen = [s for s in chosen if turn.tool in (s.tool_ref, s.tool_name, s.tool_id)]
    places = ", ".join(f"{s.location} ({s.tool_name or s.tool_ref})" for s in specs) or "none"
    if not chosen:
        wanted = " and ".join(part for part in (f"spec {turn.spec}" if turn.spec else "", f"tool {turn.tool!r}" if turn.tool else "") if part)
        return None, f"{where}: the state has no tool call spec with {wanted} (its specs: {places})"
    if len(chosen) > 1:
        return None, f"{where}: {len(chosen)} specs name {turn.tool!r} ({', '.join(s.location for s in chosen)}); say which with 'spec'"
    return chosen[0], None


def plan_turns(request: SimulationRequest, check: GraphCheck) -> tuple[list[PlannedTurn], list[str]]:
    """The turns, ready to run, and warnings (problems of the graph the scenario does not use);
    400 listing every reason the scenario cannot run."""
    problems = list(check.graph_problems)
    states = {s.state for s in check.specs} | set(check.state_problems)
    used_states: set[str] = set()
    used_specs: set[tuple[str, str]] = set()
    planned: list[PlannedTurn] = []
    transition, round_index, previous = 0, 0, None
    for index, turn in enumerate(request.scenario.turns, start=1):
        if turn.state != previous:
            transition, round_index, previous = transition + 1, 0, turn.state
        else:
            round_index += 1
        if turn.state not in states:
            problems.append(f"turn {index}: the graph has no state {turn.state!r} with tool call specs (its states: {', '.join(sorted(states)) or 'none'})")
            continue
        used_states.add(turn.state)
        spec, problem = _choose_spec(index, turn, [s for s in check.specs if s.state == turn.state])
        if spec is None:
            problems.append(problem or f"turn {index}: no spec")
            continue
        used_specs.add((spec.state, spec.location))
        if spec.problems:
            problems += [f"turn {index}: {spec.label}: {p}" for p in spec.problems]
            continue
        schema_issues = schema_problems(spec.input_schema or {}, [turn.parameters])
        problems += [f"turn {index} ({spec.tool_name} {spec.resolved_version}): parameters: {p.removeprefix('input 0: ')}" for p in schema_issues]
        location = SpecLocation.parse(spec.location) or SpecLocation(spec.location, None)
        planned.append(PlannedTurn(index, turn, spec, location, transition, round_index))
    for state in sorted(used_states):
        problems += check.state_problems.get(state, [])
    if problems:
        raise BadRequest(f"scenario {request.scenario.name} cannot run:\n  " + "\n  ".join(problems), errors=problems)
    warnings = [p for state, own in check.state_problems.items() if state not in used_states for p in own]
    warnings += [f"{s.label}: {p}" for s in check.specs if (s.state, s.location) not in used_specs for p in s.problems]
    return planned, warnings
