"""A context graph's tool call specs checked against an organization: each state's shape (the
spec's schemas), and for each spec, that its tool exists and is live, that its constraint
resolves to an active version, and, for a designated tool, that the version's input schema
describes the parameters an agent generates. Every problem names its state and spec."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Literal

from jsonschema import Draft202012Validator, SchemaError
from pydantic import ValidationError

from workbench.core.simulation.graph import DESIGNATED, SPEC_LISTS, STATE_MODELS, GraphHeader, SpecLocation, ToolCallSpec, raw_specs
from workbench.core.simulation.report import GraphCheck, SpecCheck
from workbench.core.versions import VersionConstraint, resolve
from workbench.errors import NotFound, ValidationFailed
from workbench.names import OBJECT_ID
from workbench.store.records import ToolRecord
from workbench.store.tables import MetadataView

STATE_TYPES = ", ".join(STATE_MODELS)


def _where(loc: tuple[Any, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".") or "(the state)"


def _spec_key(loc: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]] | None:
    """The spec a validation error belongs to (its location text) and the rest of its path."""
    if len(loc) >= 2 and loc[0] == DESIGNATED:
        return DESIGNATED, loc[1:]
    if len(loc) >= 3 and isinstance(loc[1], int) and any(loc[0] in fields for fields in SPEC_LISTS.values()):
        return f"{loc[0]}[{loc[1]}]", loc[2:]
    return None


def _find_tool(view: MetadataView, org_id: str, ref: str) -> tuple[ToolRecord | None, Literal["id", "name"]]:
    """The tool a spec names, and whether by id or by name (a live tool before a deprecated one)."""
    if OBJECT_ID.match(ref):
        record = view.tools.get(org_id, ref)
        if record is not None:
            return record, "id"
    named = sorted(view.tools.named(org_id, ref), key=lambda tool: (not tool.deprecated, tool.created_at))
    return (named[-1], "name") if named else (None, "name")


def _schema_problems(schema: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Problems with a designated tool's input schema, and a note on its parameters."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        return [f"the input schema of the resolved version is not a valid JSON Schema: {error.message}"], []
    if schema.get("type", "object") != "object":
        return [f"the input schema of the resolved version describes {schema.get('type')!r}, not an object of parameters an agent can generate"], []
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    if not properties:
        return [], ["the designated tool takes no parameters"]
    listed = ", ".join(f"{name} (required)" if name in required else name for name in properties)
    return [], [f"the agent generates its parameters: {listed}"]


def _check_spec(view: MetadataView, org_id: str, check: SpecCheck, spec: ToolCallSpec) -> None:
    """Fill in what the organization says about one valid spec."""
    check.version_constraint = spec.version_constraint
    check.result_persistence = spec.result_persistence
    check.audio_fillers = list(spec.audio_fillers)
    check.audio_filler_triggered_after = spec.audio_filler_triggered_after
    if not spec.audio_fillers:
        check.notes.append(f"no audio fillers: the caller hears silence if the tool runs past {spec.audio_filler_triggered_after:g} s")
    tool, referenced_by = _find_tool(view, org_id, spec.tool_id)
    check.referenced_by = referenced_by
    if tool is None:
        check.problems.append(f"no tool named or with id {spec.tool_id!r} in organization {org_id}")
        return
    check.tool_id, check.tool_name = tool.id, tool.name
    if referenced_by == "name":
        check.notes.append(f"names the tool by name; the hosted API takes its id ({tool.id})")
    if tool.deprecated:
        check.problems.append(f"tool {tool.name} is deprecated and can no longer be invoked")
        return
    versions = view.versions.of_tool(tool.id)
    check.active_versions = [v.label for v in sorted(versions, key=lambda v: v.version.key) if not v.deprecated]
    try:
        VersionConstraint(spec.version_constraint)
        chosen = resolve(tool.name, versions, spec.version_constraint)
    except (ValidationFailed, NotFound) as error:
        check.problems.append(error.message)
        return
    check.resolved_version = chosen.label
    check.input_schema = chosen.input_schema
    check.notes.append(f"constraint {spec.version_constraint!r} resolves to {chosen.label} (active: {', '.join(check.active_versions)})")
    if check.location == DESIGNATED:
        problems, notes = _schema_problems(chosen.input_schema)
        check.problems += problems
        check.notes += notes


def check_graph(view: MetadataView, org_id: str, document: Mapping[str, Any]) -> GraphCheck:
    """Every state and tool call spec of a graph document, checked against the org."""
    problems: list[str] = []
    graph_problems: list[str] = []
    state_problems: dict[str, list[str]] = {}
    notes: list[str] = []
    header_fields = {k: v for k, v in document.items() if k != "states"}
    try:
        header = GraphHeader.model_validate(header_fields)
        graph_name, graph_version = header.name, header.version
    except ValidationError as error:
        graph_problems += [f"graph: {_where(tuple(e['loc']))}: {e['msg']}" for e in error.errors()]
        graph_name, graph_version = str(document.get("name") or "(unnamed)"), None
    states = document.get("states")
    if not isinstance(states, list) or not states:
        graph_problems.append("graph: 'states' must be a non-empty list of states")
        states = []
    specs: list[SpecCheck] = []
    seen: set[str] = set()
    for index, raw in enumerate(states):
        if not isinstance(raw, dict):
            graph_problems.append(f"states[{index}]: a state must be a mapping, not {type(raw).__name__}")
            continue
        name = str(raw.get("name") or f"states[{index}]")
        own, checks, note = _check_state(view, org_id, name, raw)
        if name in seen:
            own.insert(0, f"state {name!r}: another state has the same name")
        seen.add(name)
        state_problems[name] = state_problems.get(name, []) + own
        notes += [note] if note else []
        specs += checks
        problems += own + [f"{check.label}: {problem}" for check in checks for problem in check.problems]
    problems = graph_problems + problems
    resolved = None if problems else _with_ids(document, specs)
    return GraphCheck(
        graph_name=graph_name, graph_version=graph_version, states=len(states), specs=specs, problems=problems,
        graph_problems=graph_problems, state_problems={k: v for k, v in state_problems.items() if v}, notes=notes, resolved=resolved,
    )


def _check_state(view: MetadataView, org_id: str, name: str, raw: dict[str, Any]) -> tuple[list[str], list[SpecCheck], str | None]:
    """One state: problems of its own fields, a check per spec, and a note if it is not read."""
    state_type = str(raw.get("type", ""))
    model = STATE_MODELS.get(state_type)
    if model is None:
        if state_type:
            return [], [], f"state {name!r} ({state_type}): not checked; only {STATE_TYPES} states carry tool call specs"
        return [f"state {name!r}: no 'type'; the states with tool call specs are {STATE_TYPES}"], [], None
    own: list[str] = []
    spec_errors: dict[str, list[str]] = {}
    try:
        model.model_validate(raw)
    except ValidationError as error:
        for item in error.errors():
            loc = tuple(item["loc"])
            key = _spec_key(loc)
            if key is None:
                own.append(f"state {name!r} ({state_type}): {_where(loc)}: {item['msg']}")
            else:
                spec_errors.setdefault(key[0], []).append(f"{_where(key[1])}: {item['msg']}")
    checks = [_spec_check(view, org_id, name, state_type, location, spec, spec_errors.get(str(location), [])) for location, spec in raw_specs(state_type, raw)]
    return own, checks, None


def _spec_check(view: MetadataView, org_id: str, state: str, state_type: str, location: SpecLocation, raw: Any, errors: list[str]) -> SpecCheck:
    ref = str(raw.get("tool_id", "")) if isinstance(raw, dict) else ""
    check = SpecCheck(state=state, state_type=state_type, location=str(location), tool_ref=ref, problems=list(errors))
    if errors:
        return check
    try:
        spec = ToolCallSpec.model_validate(raw)
    except ValidationError as error:  # the state's own validation reported nothing: say it here
        check.problems += [f"{_where(tuple(e['loc']))}: {e['msg']}" for e in error.errors()]
        return check
    _check_spec(view, org_id, check, spec)
    return check


def _with_ids(document: Mapping[str, Any], specs: list[SpecCheck]) -> dict[str, Any]:
    """The graph document with each spec's tool named by its id, as the hosted API takes it."""
    resolved = copy.deepcopy(dict(document))
    by_place = {(s.state, s.location): s.tool_id for s in specs}
    for state in resolved.get("states", []):
        for location, raw in raw_specs(str(state.get("type")), state):
            tool_id = by_place.get((str(state.get("name")), str(location)))
            if tool_id and isinstance(raw, dict):
                raw["tool_id"] = tool_id
    return resolved
