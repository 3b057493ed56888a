"""The tools repository: a real git repository of tool projects, read with GitPython."""

from __future__ import annotations

import stat
from pathlib import Path, PurePosixPath

import git

from workbench.errors import BadRequest, NotFound


class ToolsRepo:
    """Branches, commits and project directories of one git repository."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.repo = git.Repo(path)
        except (git.NoSuchPathError, git.InvalidGitRepositoryError):
            raise NotFound(
                f"the tools repository {path} does not exist or is not a git repository; "
                "run 'workbench demo' to create one, or set WORKBENCH_TOOLS_REPO"
            ) from None

    def branch_tip(self, branch: str) -> str:
        """The commit at the tip of ``branch`` (404 naming the branch if there is none)."""
        try:
            return self.repo.heads[branch].commit.hexsha
        except (IndexError, AttributeError):
            known = ", ".join(sorted(head.name for head in self.repo.heads)) or "none"
            raise NotFound(f"branch {branch!r} does not exist in the tools repository (branches: {known})") from None

    def branches(self) -> list[str]:
        return sorted(head.name for head in self.repo.heads)

    def commit(self, rev: str) -> git.Commit:
        try:
            return self.repo.commit(rev)
        except (git.BadName, ValueError):
            raise NotFound(f"commit {rev!r} does not exist in the tools repository") from None

    def is_descendant(self, commit: str, ancestor: str) -> bool:
        """True if ``commit`` is ``ancestor`` or comes after it in history."""
        return self.repo.is_ancestor(ancestor, commit)

    def export(self, commit: str, project_path: str, destination: Path) -> Path:
        """Write the project directory as it was at ``commit`` into ``destination``."""
        clean = PurePosixPath(project_path.strip("/"))
        if not clean.parts or ".." in clean.parts:
            raise BadRequest(f"project path {project_path!r} must be a directory inside the tools repository")
        tree = self.commit(commit).tree
        try:
            subtree = tree / str(clean)
        except KeyError:
            raise NotFound(
                f"project directory {project_path!r} does not exist at commit {commit[:12]}"
            ) from None
        if subtree.type != "tree":
            raise NotFound(f"{project_path!r} at commit {commit[:12]} is a file, not a project directory")
        destination.mkdir(parents=True, exist_ok=True)
        for item in subtree.traverse():
            target = destination / PurePosixPath(item.path).relative_to(clean)
            if item.type == "tree":
                target.mkdir(parents=True, exist_ok=True)
            elif item.type == "blob":
                target.parent.mkdir(parents=True, exist_ok=True)
                if stat.S_ISLNK(item.mode):
                    continue  # links could point outside the project: not exported
                target.write_bytes(item.data_stream.read())
                if item.mode & 0o111:
                    target.chmod(0o755)
        return destination
