"""Make a real tools repository from ``sample_repo/``, with history worth browsing:
``main`` gets the tools in two commits and the support agent's context graph and scenarios
(``simulations/``) in a third, and the team branch adds a change on top."""

from __future__ import annotations

import shutil
from pathlib import Path

import git

SAMPLE_REPO = Path(__file__).resolve().parents[2] / "sample_repo"
ACTOR = git.Actor("Tool Workbench demo", "demo@workbench.invalid")
FIRST = ("order_status", "crm_account", "weather_lookup")
TEAM_CHANGE = "weather_lookup/tool.py"
SIMULATIONS = "simulations"


def build_sample_repository(target: Path, main: str = "main", team: str = "team", source: Path = SAMPLE_REPO) -> bool:
    """Create the repository at ``target`` unless one is there; returns True if it was created."""
    if (target / ".git").exists():
        return False
    if not source.is_dir():
        raise FileNotFoundError(f"sample projects not found at {source}")
    target.mkdir(parents=True, exist_ok=True)
    repo = git.Repo.init(target, initial_branch=main)
    projects = sorted(p.name for p in source.iterdir() if (p / "pyproject.toml").is_file())

    def commit(message: str, day: int) -> None:
        when = f"2026-01-{day:02d}T10:00:00 +0000"  # fixed dates: the same history, and hashes, every time
        repo.index.commit(message, author=ACTOR, committer=ACTOR, author_date=when, commit_date=when)

    def add(names: list[str], message: str, day: int) -> None:
        for name in names:
            shutil.copytree(source / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
            repo.index.add([str(p.relative_to(target)) for p in (target / name).rglob("*") if p.is_file()])
        commit(message, day)

    add([p for p in projects if p in FIRST], "Add the lookup tools", 5)
    add([p for p in projects if p not in FIRST], "Add the parser, report, stats and knowledge-base tools", 12)
    if (source / SIMULATIONS).is_dir():
        add([SIMULATIONS], "Add the support agent's context graph and its scenarios", 14)
    repo.create_head(team).checkout()
    changed = target / TEAM_CHANGE
    changed.write_text(changed.read_text().replace('"conditions": "sunny"', '"conditions": "sunny", "humidity": 40'))
    repo.index.add([TEAM_CHANGE])
    commit("weather_lookup: report humidity in simulations", 20)
    repo.heads[main].checkout()
    return True
