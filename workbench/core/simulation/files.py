"""Reading graph and scenario files (JSON or YAML), with errors that name the file and where in
it; nothing else of the workbench is touched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from workbench.core.simulation.scenario import Scenario, SimulationRequest
from workbench.errors import BadRequest, NotFound, validation_error_from_pydantic

SCENARIO_SUFFIXES = (".scenario.yaml", ".scenario.yml", ".scenario.json")


def read_document(path: Path, what: str) -> dict[str, Any]:
    """A JSON or YAML mapping from ``path``; 404 if it is missing, 400 if it is not a mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"{what} file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise BadRequest(f"cannot read {what} file {path}: {getattr(error, 'strerror', None) or error}") from None
    import yaml  # here: only commands that read these files pay for it

    try:
        value = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as error:
        raise BadRequest(f"{what} file {path} is not valid JSON: line {error.lineno}, column {error.colno}: {error.msg}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise BadRequest(f"{what} file {path} is not valid YAML: {where}{getattr(error, 'problem', None) or error}") from None
    if not isinstance(value, dict):
        raise BadRequest(f"{what} file {path} must hold a mapping (keys and values), not {type(value).__name__}")
    return value


def read_graph_file(path: Path) -> dict[str, Any]:
    """A context graph document: ``name``, optional ``id`` and ``version``, and ``states``."""
    return read_document(path, "context graph")


def read_scenario_file(path: Path, runs: int = 1) -> SimulationRequest:
    """A scenario and the graph file it names (relative to the scenario's directory)."""
    document = read_document(path, "scenario")
    try:
        scenario = Scenario.model_validate(document)
    except ValidationError as error:
        raise validation_error_from_pydantic(error, f"scenario file {path}") from None
    if not scenario.graph:
        raise BadRequest(f"scenario file {path} names no graph: add 'graph: FILE' (relative to the scenario file)")
    graph = read_graph_file((path.parent / scenario.graph).resolve())
    try:
        return SimulationRequest(scenario=scenario, graph=graph, runs=runs)
    except ValidationError as error:
        raise validation_error_from_pydantic(error, "simulation request") from None


def find_scenario_files(directory: Path) -> list[Path]:
    """The scenario files (``*.scenario.yaml``/``.yml``/``.json``) under ``directory``, sorted."""
    if not directory.is_dir():
        return []
    found = [p for p in directory.rglob("*") if p.is_file() and p.name.endswith(SCENARIO_SUFFIXES) and ".git" not in p.parts]
    return sorted(found)
