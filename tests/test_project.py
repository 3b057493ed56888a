"""The tool project contract: each way a declaration can be wrong is a 400 from `validate`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import project_files
from workbench.errors import StageFailed
from workbench.repo.project import ToolProject


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_good_declaration_loads(tmp_path: Path) -> None:
    project = ToolProject.load(write(tmp_path, project_files(requires=("URL",), secret_requires=("TOKEN",), checks=("true",), dependencies=("humanize>=4",))))
    assert (project.entry_point, project.required_envvars, project.required_secret_envvars) == ("tool:run", ["URL"], ["TOKEN"])
    assert project.checks == ["true"] and project.dependencies == ["humanize>=4"] and project.scaffold == "none"
    assert project.file_input_schema()["required"] == ["name"]


BROKEN = {
    "no pyproject": ({"pyproject.toml": None}, "no pyproject.toml"),
    "bad toml": ({"pyproject.toml": "[tool.workbench\n"}, "not valid TOML"),
    "no table": ({"pyproject.toml": "[project]\nname='x'\n"}, r"no \[tool.workbench\] table"),
    "bad entry point": ({"pyproject.toml": "[tool.workbench]\nentry_point='tool'\ninput_schema='schema.json'\n"}, "entry_point must be 'module:function'"),
    "schema and model": ({"pyproject.toml": "[tool.workbench]\nentry_point='tool:run'\ninput_schema='s.json'\ninput_model='tool:M'\n"}, "exactly one of input_schema"),
    "neither": ({"pyproject.toml": "[tool.workbench]\nentry_point='tool:run'\n"}, "exactly one of input_schema"),
    "bad env name": ({"pyproject.toml": "[tool.workbench]\nentry_point='tool:run'\ninput_schema='schema.json'\nrequired_envvars=['lower']\n"}, r"must match \[A-Z_\]\+"),
    "checks not list": ({"pyproject.toml": "[tool.workbench]\nentry_point='tool:run'\ninput_schema='schema.json'\nchecks='pytest'\n"}, "checks must be a list"),
    "both kinds": ({"pyproject.toml": "[tool.workbench]\nentry_point='tool:run'\ninput_schema='schema.json'\nrequired_envvars=['A']\nrequired_secret_envvars=['A']\n"}, "both plain and secret"),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_a_broken_declaration_says_what_is_wrong(tmp_path: Path, case: str) -> None:
    changes, message = BROKEN[case]
    files = {**project_files(), **changes}
    write(tmp_path, {k: v for k, v in files.items() if v is not None})
    with pytest.raises(StageFailed, match=message) as error:
        ToolProject.load(tmp_path)
    assert error.value.status == 400 and error.value.stage == "validate"


@pytest.mark.parametrize(
    ("schema_text", "message"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"type": "object", "properties": {"a": {"type": "nonsense"}}}), "not a valid JSON Schema"),
        (json.dumps({"type": "array"}), "must describe an object"),
        (json.dumps([1, 2]), "must be a JSON object"),
    ],
)
def test_the_input_schema_must_be_a_valid_object_schema(tmp_path: Path, schema_text: str, message: str) -> None:
    write(tmp_path, {**project_files(), "schema.json": schema_text})
    with pytest.raises(StageFailed, match=message):
        ToolProject.load(tmp_path).file_input_schema()
    (tmp_path / "schema.json").unlink()
    with pytest.raises(StageFailed, match="does not exist"):
        ToolProject.load(tmp_path).file_input_schema()
