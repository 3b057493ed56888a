"""Shared fixtures: a real data directory in a temp dir, a service over it, a controllable clock."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.core.service import ToolService
from workbench.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = Path(os.environ.get("WORKBENCH_SPEC_DIR", ROOT.parent / "shared" / "spec"))


class Clock:
    """A clock that tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(microseconds=1)  # every call a distinct, increasing instant
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(home: Path, clock: Clock) -> ToolService:
    return ToolService(Settings(home=home), clock=clock)


@pytest.fixture
def make_tool(service: ToolService) -> Callable[..., str]:
    def make(name: str = "hello", org: str = "acme", **fields: object) -> str:
        body = {"name": name, "description": f"the {name} tool", "tags": {}, **fields}
        return service.create_tool(org, body).id

    return make


@pytest.fixture
def run_cli(home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run `workbench ARGS` in-process on the test's data directory; returns (code, out, err)."""
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.delenv("WORKBENCH_ORG", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture(scope="session")
def openapi() -> dict:
    import json

    path = SPEC_DIR / "tools-openapi.json"
    if not path.exists():
        message = f"the Tools API OpenAPI document is not at {path}; set WORKBENCH_SPEC_DIR"
        if os.environ.get("CI") == "true":
            pytest.fail(message)  # CI lays shared/ beside the clone: a missing spec is a broken setup
        pytest.skip(message)
    return json.loads(path.read_text())
