"""The server against the official Tools API document (where ../shared/spec has it): the document
the server serves states the same operations, parameters, constraints, responses and security
schemes (plus the documented extras), and a schemathesis run of every operation, signed in, finds
no failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from contract_hooks import correct_errors
from served import token

from workbench.core.service import ToolService

TESTS = Path(__file__).resolve().parent

# What the workbench serves beyond the official document, each documented in the README.
EXTRA_OPERATIONS = {
    "check-context-graph", "simulate-scenario",  # conversation simulation
    "get-tool-stats", "get-tool-stats-report", "get-tool-activity", "replay-invocation", "compare-tool-versions", "export-fixtures", "check-fixtures",  # insight
}
"""The workbench's documented extra endpoints, under /workbench/ paths."""
EXTRA_PARAMETERS = {
    ("search-tool-invocations", "order"), ("search-tool-invocations", "limit"), ("get-tool-versions", "version_constraint"),
    ("get-tool-invocations", "created_after"), ("get-tool-invocations", "created_before"), ("get-tool-invocations", "exception_type"),
}
EXTRA_PROPERTIES = {"repo", "tool_repo", "logs", "has_more"}
EXTRA_ENUM_VALUES = {"logs"}
EXTRA_STATUSES = {"413"}
LIMIT_KEYWORDS = {"maxLength", "maxItems", "maxProperties"}  # documented sizes (core/sizes.py)
CONSTRAINT_KEYWORDS = ("type", "enum", "pattern", "minimum", "maximum", "exclusiveMinimum", "minItems", "minLength", "uniqueItems", "const", "format")


class Document:
    """An OpenAPI document with its references resolved on demand."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def resolve(self, schema: Any) -> Any:
        while isinstance(schema, dict) and "$ref" in schema:
            schema = self.raw["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        return schema

    def operations(self) -> dict[str, tuple[str, str, dict[str, Any]]]:
        return {op["operationId"]: (path, method, op) for path, ops in self.raw["paths"].items() for method, op in ops.items()}


def _nullable(schema: dict[str, Any], doc: Document) -> tuple[dict[str, Any], bool]:
    """``X | null`` as (X, True); anything else as (itself, False)."""
    options = schema.get("anyOf")
    if options and any(o.get("type") == "null" for o in options):
        rest = [doc.resolve(o) for o in options if o.get("type") != "null"]
        if len(rest) == 1:
            return rest[0], True
    return schema, False


def differences(ours: Any, theirs: Any, ours_doc: Document, theirs_doc: Document, where: str, request: bool) -> list[str]:
    """How our schema departs from theirs: properties, required keys, unions and constraints."""
    ours, theirs = ours_doc.resolve(ours), theirs_doc.resolve(theirs)
    if theirs in ({}, None) or not isinstance(theirs, dict):
        return []
    (ours, ours_null), (theirs, theirs_null) = _nullable(ours, ours_doc), _nullable(theirs, theirs_doc)
    found = [f"{where}: nullable {ours_null}, theirs {theirs_null}"] if ours_null != theirs_null and (request or not theirs_null) else []
    if "discriminator" in theirs:
        mine = {k.lower() for k in (ours.get("discriminator") or {}).get("mapping", {})}
        wanted = {k.lower() for k in theirs["discriminator"]["mapping"]}
        if mine != wanted or ours["discriminator"]["propertyName"] != theirs["discriminator"]["propertyName"]:
            return found + [f"{where}: union {sorted(mine)} instead of {sorted(wanted)}"]
        for key, target in theirs["discriminator"]["mapping"].items():
            ours_target = {k.lower(): v for k, v in ours["discriminator"]["mapping"].items()}[key.lower()]
            found += differences({"$ref": ours_target}, {"$ref": target}, ours_doc, theirs_doc, f"{where}[{key}]", request)
        return found
    if "properties" in theirs:
        mine, wanted = set(ours.get("properties", {})), set(theirs["properties"])
        if mine - wanted - EXTRA_PROPERTIES or wanted - mine:
            found.append(f"{where}: properties {sorted(mine)} instead of {sorted(wanted)}")
        ours_required, theirs_required = set(ours.get("required", [])), set(theirs.get("required", []))
        if (ours_required != theirs_required) if request else not theirs_required <= ours_required:
            found.append(f"{where}: required {sorted(ours_required)} instead of {sorted(theirs_required)}")
        for name in mine & wanted:
            found += differences(ours["properties"][name], theirs["properties"][name], ours_doc, theirs_doc, f"{where}.{name}", request)
    for key in ("items", "additionalProperties", "propertyNames"):
        if isinstance(theirs.get(key), dict):
            found += differences(ours.get(key, {}), theirs[key], ours_doc, theirs_doc, f"{where}.{key}", request)
    for key in CONSTRAINT_KEYWORDS:
        if key in theirs and key != "format":
            mine_value, wanted_value = ours.get(key), theirs[key]
            if key == "enum" and mine_value is not None and set(mine_value) - EXTRA_ENUM_VALUES == set(wanted_value):
                continue
            if mine_value != wanted_value:
                found.append(f"{where}: {key} {mine_value!r} instead of {wanted_value!r}")
    extra = set(ours) & set(CONSTRAINT_KEYWORDS) - set(theirs) - {"type", "format", "const"}
    if extra and request:
        found.append(f"{where}: adds {sorted(extra)} the official document does not state")
    return found


def compare(ours_raw: dict[str, Any], theirs_raw: dict[str, Any]) -> list[str]:
    """Every way the served document departs from the official one, beyond the documented extras."""
    ours, theirs = Document(ours_raw), Document(theirs_raw)
    found: list[str] = []
    our_ops, their_ops = ours.operations(), theirs.operations()
    our_ops = {op: found for op, found in our_ops.items() if op not in EXTRA_OPERATIONS}
    if set(our_ops) != set(their_ops):
        return [f"operations {sorted(our_ops)} instead of {sorted(their_ops)}"]
    for operation_id, (path, method, theirs_op) in their_ops.items():
        our_path, our_method, ours_op = our_ops[operation_id]
        if (our_path, our_method) != (path, method):
            found.append(f"{operation_id}: {our_method} {our_path} instead of {method} {path}")
        our_params = {(p["in"], p["name"].lower()): p for p in ours_op.get("parameters", [])}
        their_params = {(p["in"], p["name"].lower()): p for p in theirs_op.get("parameters", [])}
        for key in set(our_params) - set(their_params):
            if (operation_id, key[1]) not in EXTRA_PARAMETERS:
                found.append(f"{operation_id}: parameter {key} is not in the official document")
        for key, theirs_param in their_params.items():
            if key not in our_params:
                found.append(f"{operation_id}: parameter {key} is missing")
                continue
            if bool(our_params[key].get("required")) != bool(theirs_param.get("required")):
                found.append(f"{operation_id}: parameter {key} required {our_params[key].get('required')}")
            found += differences(our_params[key]["schema"], theirs_param["schema"], ours, theirs, f"{operation_id} {key[1]}", request=True)
        if "requestBody" in theirs_op:
            our_body = ours_op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            their_body = theirs_op["requestBody"]["content"]["application/json"]["schema"]
            found += differences(our_body, their_body, ours, theirs, f"{operation_id} body", request=True)
        for status, response in theirs_op["responses"].items():
            if status not in ours_op["responses"]:
                found.append(f"{operation_id}: status {status} is not documented")
            elif status.startswith("2") and operation_id != "get-tool-scaffold-release":
                our_schema = ours_op["responses"][status].get("content", {}).get("application/json", {}).get("schema")
                their_schema = response.get("content", {}).get("application/json", {}).get("schema")
                found += differences(our_schema, their_schema, ours, theirs, f"{operation_id} {status}", request=False)
        for status, response in ours_op["responses"].items():
            if status not in theirs_op["responses"] and status not in EXTRA_STATUSES:
                found.append(f"{operation_id}: answers {status}, which the official document does not list")
            if not status.startswith("2") and response["content"]["application/json"]["schema"] != {"$ref": "#/components/schemas/ErrorBody"}:
                found.append(f"{operation_id}: {status} is not the error body")
    shape = lambda scheme: {k: scheme.get(k) for k in ("type", "scheme", "in", "name")}  # noqa: E731
    for name, scheme in theirs_raw["components"]["securitySchemes"].items():
        if shape(ours_raw["components"].get("securitySchemes", {}).get(name, {})) != shape(scheme):
            found.append(f"security scheme {name} is not served as the official document states it")
    return found


def corrected(openapi: dict[str, Any]) -> dict[str, Any]:
    """The official document with what it gets wrong corrected (``contract_hooks.correct_errors``)."""
    document = json.loads(json.dumps(openapi))
    correct_errors(document)
    return document


def test_the_served_document_states_what_the_official_one_does(served, openapi) -> None:
    document = httpx.get(f"{served.url}/openapi.json").json()
    assert compare(document, corrected(openapi)) == []


def test_the_comparison_notices_drift(served, openapi) -> None:
    document = httpx.get(f"{served.url}/openapi.json").json()
    drifted = json.loads(json.dumps(document))
    search = drifted["paths"]["/v1/{organization}/tool/invocation/search"]["get"]
    next(p for p in search["parameters"] if p["name"] == "query_against")["required"] = False
    drifted["components"]["schemas"]["ToolInstance"]["properties"].pop("tags")
    drifted["paths"]["/v1/{organization}/tool/"]["get"]["responses"].pop("429")
    problems = compare(drifted, corrected(openapi))
    assert any("query_against" in p for p in problems) and any("tags" in p for p in problems) and any("429" in p for p in problems)


def test_a_contract_run_of_every_operation_finds_no_failure(served, service: ToolService, openapi, tmp_path: Path) -> None:
    official = tmp_path / "tools-openapi.json"
    official.write_text(json.dumps(openapi))
    bearer = token(served.url, service)
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "contract_hooks", "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(TESTS / "schemathesis.toml"), "run", str(official), "--url", served.url,
               "-H", f"Authorization: Bearer {bearer}", "--max-examples", "40", "--workers", "1", "--seed", "1", "--no-color"]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1200, cwd=tmp_path)  # every check is on by default
    assert run.returncode == 0, run.stdout[-12000:] + run.stderr[-3000:]
    assert "14 selected / 14 total" in run.stdout and "Tested: 14" in run.stdout


def test_the_contract_run_applies_every_check() -> None:
    from schemathesis.config import SchemathesisConfig

    config = SchemathesisConfig.from_path(str(TESTS / "schemathesis.toml")).projects.default
    names = [n for n in vars(type(config.checks)).get("__annotations__", {}) if not n.startswith("_")]
    assert len(names) >= 14 and [n for n in names if not getattr(config.checks, n).enabled and n != "max_response_time"] == []
