"""Shared fixtures: a real data directory in a temp dir, a service over it, a controllable clock."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.core.service import ToolService
from workbench.runtime.process import ProcessRunner
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


def files_open(prefix: Path) -> list[str]:
    """The files this process holds open whose path starts with ``prefix`` (a replaced file's ends
    in " (deleted)")."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            held.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue  # closed meanwhile (listdir's own descriptor among them)
    return [path for path in held if path.startswith(str(prefix))]


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "data"
    yield home
    settings = Settings(home=home)
    ProcessRunner(settings, settings.paths()).purge()  # no sandboxed worker outlives its test


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def repo_path(tmp_path: Path) -> Path:
    return tmp_path / "tools-repo"


@pytest.fixture
def settings(home: Path, repo_path: Path) -> Settings:
    return Settings(home=home, tools_repo=repo_path, invocation_timeout_seconds=20, runtime="process")


@pytest.fixture
def service(settings: Settings, clock: Clock) -> ToolService:
    return ToolService(settings, clock=clock)


DEFAULT_CODE = """
def run(params, ctx):
    ctx.logger.info("hello %s", params["name"])
    return {"greeting": "hi " + params["name"], "mode": ctx.invocation_mode}
"""
DEFAULT_SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


def project_files(
    code: str = DEFAULT_CODE,
    schema: dict | None = None,
    requires: tuple[str, ...] = (),
    secret_requires: tuple[str, ...] = (),
    checks: tuple[str, ...] = (),
    dependencies: tuple[str, ...] = (),
    table_extra: str = "",
) -> dict[str, str]:
    """The files of a small tool project honouring the contract."""
    import json as _json
    import textwrap

    listed = lambda items: "[" + ", ".join(_json.dumps(i) for i in items) + "]"  # noqa: E731
    pyproject = textwrap.dedent(
        f"""
        [project]
        name = "sample"
        dependencies = {listed(dependencies)}

        [tool.workbench]
        entry_point = "tool:run"
        input_schema = "schema.json"
        required_envvars = {listed(requires)}
        required_secret_envvars = {listed(secret_requires)}
        checks = {listed(checks)}
        """
    ) + table_extra
    return {
        "pyproject.toml": pyproject,
        "tool.py": textwrap.dedent(code),
        "schema.json": _json.dumps(schema or DEFAULT_SCHEMA),
    }


class ToolsRepoHelper:
    """A real git repository in a temp dir that tests write projects into."""

    def __init__(self, path: Path) -> None:
        import git

        self.git = git
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.repo = git.Repo.init(path, initial_branch="main")
        self.actor = git.Actor("Test", "test@workbench.invalid")
        (path / "README").write_text("tools\n")
        self.repo.index.add(["README"])
        self.repo.index.commit("start", author=self.actor, committer=self.actor)

    def commit(self, files: dict[str, str], branch: str = "main", message: str = "change", base: str | None = None) -> str:
        """Write files (path -> text) on ``branch`` (made from ``base`` or HEAD if new); returns the commit."""
        if branch not in self.repo.heads:
            self.repo.create_head(branch, base or self.repo.head.commit)
        self.repo.heads[branch].checkout()
        for relative, text in files.items():
            target = self.path / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            self.repo.index.add([relative])
        return self.repo.index.commit(message, author=self.actor, committer=self.actor).hexsha

    def project(self, directory: str, branch: str = "main", **spec: object) -> str:
        return self.commit({f"{directory}/{name}": text for name, text in project_files(**spec).items()}, branch, f"update {directory}")


def seed_version(
    service: ToolService, tool_id: str, patch: int | None = None, requires: tuple[str, ...] | list[str] = (), secret_requires: tuple[str, ...] | list[str] = (), deprecated: bool = False, org: str = "acme"
) -> str:
    """A version record as publishing writes it, without building anything (for rules about
    versions that need no run)."""
    from workbench.store.records import VersionNumber, VersionRecord, VersionUserRef

    ws = service.workspace
    with ws.metadata.write() as view:
        existing = view.versions.of_tool(tool_id)
        now, user = ws.clock(), VersionUserRef(user_id="tester", user_org_id=org)
        record = VersionRecord(
            id=ws.ids(), org_id=org, created_at=now, updated_at=now, tool_id=tool_id,
            version=VersionNumber(major=1, minor=0, patch=len(existing) if patch is None else patch),
            required_envvars=list(requires), required_secret_envvars=list(secret_requires), input_schema={},
            tool_commit_hash="0" * 40, amigo_scaffold_commit_hash="0" * 40, project_directory="seeded",
            lambda_version=len(existing) + 1, creator=user, updated_by=user, deprecated=deprecated,
        )
        view.versions.insert(record)
    return record.id


def tool_environment(service: ToolService, tool_id: str, org: str = "acme") -> tuple[dict[str, str], dict[str, str]]:
    """(plain, secret) values of a tool's variables, as a run gets them."""
    with service.workspace.metadata.read() as view:
        env = service.envvars.environment(view, org, tool_id)
    return env.plain, env.secret


@pytest.fixture
def tools_repo(repo_path: Path) -> ToolsRepoHelper:
    return ToolsRepoHelper(repo_path)


@pytest.fixture
def tui_service(service: ToolService, repo_path: Path) -> ToolService:
    """A service whose tools repository holds the sample tools (what the app's tests drive)."""
    from workbench.repo.samples import build_sample_repository

    build_sample_repository(repo_path)
    return service


@pytest.fixture
def make_tool(service: ToolService) -> Callable[..., str]:
    def make(name: str = "hello", org: str = "acme", **fields: object) -> str:
        body = {"name": name, "description": f"the {name} tool", "tags": {}, **fields}
        return service.create_tool(org, body).id

    return make


@pytest.fixture
def run_cli(home: Path, repo_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run `workbench ARGS` in-process on the test's data directory; returns (code, out, err)."""
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.setenv("WORKBENCH_SEARCH_ENGINE", settings.search_engine)
    monkeypatch.setenv("WORKBENCH_TOOLS_REPO", str(repo_path))
    monkeypatch.setenv("WORKBENCH_RUNTIME", "process")
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


@pytest.fixture
def served(service: ToolService, repo_path: Path):
    """``workbench serve`` over the test's service, on a free local port, with the sample tools."""
    from served import Running

    from workbench.repo.samples import build_sample_repository

    build_sample_repository(repo_path)
    running = Running(service)
    yield running
    running.stop()
