"""The tool project contract: a directory with a ``pyproject.toml`` whose ``[tool.workbench]``
table says how to run, describe and check the tool.

```toml
[project]
name = "order_status"
dependencies = ["humanize>=4"]          # installed into the tool's own environment

[tool.workbench]
entry_point = "tool:run"                # module:function, relative to the project directory
input_schema = "schema.json"            # a JSON Schema file ...
# input_model = "tool:Params"           # ... or a pydantic model in the tool
required_envvars = ["ORDER_REGION"]
required_secret_envvars = ["ORDER_API_TOKEN"]
checks = ["python -m unittest discover -s tests -q"]
scaffold = "<hash>"                     # written by `workbench new`
simulation_network = false              # may the container reach the network in simulation mode?
fixtures = "fixtures.jsonl"             # recorded inputs and outputs the checks stage runs (`workbench export`)
```
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from workbench.errors import StageFailed

REFERENCE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
ENVVAR = re.compile(r"^[A-Z_]+$")
NO_SCAFFOLD = "none"


@dataclass(frozen=True)
class ToolProject:
    """A tool project as its ``pyproject.toml`` declares it."""

    root: Path
    name: str
    entry_point: str
    input_schema_file: str | None
    input_model: str | None
    required_envvars: list[str] = field(default_factory=list)
    required_secret_envvars: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)
    scaffold: str = NO_SCAFFOLD
    simulation_network: bool = False
    fixtures: str | None = None

    @classmethod
    def load(cls, root: Path) -> ToolProject:
        """Read and check the declaration; any problem is a 400 from the validate stage."""
        pyproject = root / "pyproject.toml"
        if not pyproject.is_file():
            raise StageFailed("validate", f"no pyproject.toml in the project directory {root.name!r}")
        try:
            data = tomllib.loads(pyproject.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise StageFailed("validate", f"pyproject.toml is not valid TOML: {error}") from None
        table = data.get("tool", {}).get("workbench")
        if not isinstance(table, dict):
            raise StageFailed("validate", "pyproject.toml has no [tool.workbench] table; see the README for the tool project contract")
        project = data.get("project", {})

        entry_point = table.get("entry_point")
        if not isinstance(entry_point, str) or not REFERENCE.match(entry_point):
            raise StageFailed("validate", f"[tool.workbench] entry_point must be 'module:function', got {entry_point!r}")
        schema_file, model = table.get("input_schema"), table.get("input_model")
        if (schema_file is None) == (model is None):
            raise StageFailed("validate", "[tool.workbench] needs exactly one of input_schema (a JSON Schema file) or input_model ('module:Model')")
        if model is not None and (not isinstance(model, str) or not REFERENCE.match(model)):
            raise StageFailed("validate", f"[tool.workbench] input_model must be 'module:Model', got {model!r}")

        lists = {}
        for key in ("required_envvars", "required_secret_envvars", "checks"):
            value = table.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise StageFailed("validate", f"[tool.workbench] {key} must be a list of strings")
            lists[key] = value
        for key in ("required_envvars", "required_secret_envvars"):
            bad = [name for name in lists[key] if not ENVVAR.match(name)]
            if bad:
                raise StageFailed("validate", f"[tool.workbench] {key}: {', '.join(bad)} must match [A-Z_]+")
        both = set(lists["required_envvars"]) & set(lists["required_secret_envvars"])
        if both:
            raise StageFailed("validate", f"{', '.join(sorted(both))} listed as both plain and secret")

        fixtures = table.get("fixtures")
        if fixtures is not None and (not isinstance(fixtures, str) or not fixtures.strip() or fixtures.startswith("/") or ".." in Path(fixtures).parts):
            raise StageFailed("validate", f"[tool.workbench] fixtures must name a file inside the project, such as \"fixtures.jsonl\", not {fixtures!r}")

        return cls(
            root=root,
            name=str(project.get("name", root.name)),
            entry_point=entry_point,
            input_schema_file=schema_file,
            input_model=model,
            required_envvars=lists["required_envvars"],
            required_secret_envvars=lists["required_secret_envvars"],
            checks=lists["checks"],
            dependencies=[str(d) for d in project.get("dependencies", [])],
            scaffold=str(table.get("scaffold", NO_SCAFFOLD)),
            simulation_network=bool(table.get("simulation_network", False)),
            fixtures=fixtures,
        )

    def file_input_schema(self) -> dict[str, Any] | None:
        """The JSON Schema from ``input_schema``, checked to be a valid schema (None for a model)."""
        if self.input_schema_file is None:
            return None
        path = self.root / self.input_schema_file
        if not path.is_file():
            raise StageFailed("validate", f"input schema file {self.input_schema_file!r} does not exist in the project")
        try:
            schema = json.loads(path.read_text())
        except ValueError as error:
            raise StageFailed("validate", f"input schema {self.input_schema_file!r} is not valid JSON: {error}") from None
        return check_input_schema(schema, self.input_schema_file)


def check_input_schema(schema: Any, source: str) -> dict[str, Any]:
    """A tool's input schema must be a valid JSON Schema describing an object."""
    if not isinstance(schema, dict):
        raise StageFailed("validate", f"input schema from {source} must be a JSON object")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        raise StageFailed("validate", f"input schema from {source} is not a valid JSON Schema: {error.message}") from None
    if schema.get("type", "object") != "object":
        raise StageFailed("validate", f"input schema from {source} must describe an object (type: object), not {schema.get('type')!r}")
    return schema
