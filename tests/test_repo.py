"""The git layer on a real repository: branch tips, export at a commit, and the 404s."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.errors import BadRequest, NotFound
from workbench.repo.git import ToolsRepo


def test_branch_tip_and_export_at_a_commit(tools_repo, tmp_path: Path) -> None:
    first = tools_repo.commit({"tool_a/tool.py": "VERSION = 1\n", "tool_a/sub/data.txt": "x"})
    second = tools_repo.commit({"tool_a/tool.py": "VERSION = 2\n"})
    repo = ToolsRepo(tools_repo.path)
    assert repo.branch_tip("main") == second
    old = repo.export(first, "tool_a", tmp_path / "old")
    new = repo.export(second, "/tool_a/", tmp_path / "new")
    assert (old / "tool.py").read_text() == "VERSION = 1\n"
    assert (new / "tool.py").read_text() == "VERSION = 2\n"
    assert (new / "sub" / "data.txt").read_text() == "x"
    assert repo.is_descendant(second, first) and not repo.is_descendant(first, second)


def test_unknown_branch_commit_and_path_are_404_naming_them(tools_repo, tmp_path: Path) -> None:
    head = tools_repo.commit({"tool_a/tool.py": "x"})
    repo = ToolsRepo(tools_repo.path)
    with pytest.raises(NotFound, match="branch 'nope' does not exist.*branches: main"):
        repo.branch_tip("nope")
    with pytest.raises(NotFound, match="commit 'deadbeef' does not exist"):
        repo.export("deadbeef", "tool_a", tmp_path / "x")
    with pytest.raises(NotFound, match="project directory 'tool_b' does not exist"):
        repo.export(head, "tool_b", tmp_path / "y")
    with pytest.raises(NotFound, match="is a file"):
        repo.export(head, "tool_a/tool.py", tmp_path / "z")
    with pytest.raises(BadRequest, match="inside the tools repository"):
        repo.export(head, "../etc", tmp_path / "w")


def test_a_missing_repository_is_404_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="workbench demo"):
        ToolsRepo(tmp_path / "nothing-here")
