"""The core knows nothing of its faces: importing it loads no UI or HTTP framework."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

CORE_MODULES = [
    "workbench.core.api",
    "workbench.core.models",
    "workbench.core.requests",
    "workbench.core.results",
    "workbench.errors",
    "workbench.core.service",
    "workbench.store",
    "workbench.search",
    "workbench.runtime",
    "workbench.repo",
    "workbench.settings",
]
FORBIDDEN = ["textual", "rich", "click", "starlette", "fastapi", "uvicorn", "aiohttp", "flask", "httpx", "http.server", "werkzeug"]


def test_importing_the_core_loads_no_ui_or_http_framework() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {CORE_MODULES!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(result.stdout)
    leaked = [m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert leaked == []
    assert "workbench.core.service" in loaded  # the check did import the core


def test_import_linter_contracts_hold() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is a dev dependency; install with pip install -e '.[dev]'"
    result = subprocess.run([lint], capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_api_its_implementations_and_the_faces_type_check() -> None:
    """mypy (configured in pyproject.toml): strict on the core and the remote service, and every
    call the faces make into the declared API checked against it."""
    mypy = shutil.which("mypy", path=str(Path(sys.executable).parent))
    assert mypy, "mypy is a dev dependency; install with pip install -e '.[dev]'"
    result = subprocess.run([mypy], capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert result.returncode == 0, result.stdout + result.stderr
