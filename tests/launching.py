"""Running `workbench` as a user does, in a fresh interpreter through the command's entry point,
and seeing which modules that interpreter loaded (it writes them to a file as it exits)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

LAUNCH = """
import atexit, json, sys
modules_file = sys.argv.pop(1)
atexit.register(lambda: open(modules_file, "w").write(json.dumps(sorted(sys.modules))))
from workbench.launcher import main
main()
"""


@dataclass
class Run:
    code: int
    out: str
    err: str
    modules: list[str]

    def loaded(self, names: tuple[str, ...]) -> list[str]:
        """Which of ``names`` (packages include their modules) this run loaded."""
        return sorted({name for name in names for module in self.modules if module == name or module.startswith(name + ".")})


def launch(args: list[str], env: dict[str, str], tmp: Path, cwd: Path | None = None) -> Run:
    """`workbench ARGS` in a fresh interpreter, through the command's entry point."""
    modules_file = tmp / f"modules-{len(list(tmp.glob('modules-*')))}.json"
    done = subprocess.run([sys.executable, "-c", LAUNCH, str(modules_file), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    modules = json.loads(modules_file.read_text()) if modules_file.exists() else []
    return Run(done.returncode, done.stdout, done.stderr, modules)
