"""Sealed runs, proven by a tool written to misbehave (tests/probe_tool), in both runtimes.

Every escape it attempts must fail, and the workbench must stay healthy: after each attempt an
ordinary invocation of the same version works. The Docker half runs against the real daemon; it
skips where none answers, and fails instead under CI=true.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest
from conftest import Clock, ToolsRepoHelper

from workbench.core.service import ToolService
from workbench.runtime.docker_runner import home_key
from workbench.runtime.process import ProcessRunner
from workbench.settings import Settings

PROBE_DIR = Path(__file__).with_name("probe_tool")
SECRET = "probe-secret-" + uuid.uuid4().hex[:12]
OTHER_SECRET = "other-home-secret-" + uuid.uuid4().hex[:12]
BASE_IMAGE = os.environ.get("WORKBENCH_BASE_IMAGE", "workbench-base:bookworm")
MEMORY_MB = 256


def docker_problem() -> str | None:
    from test_docker import docker_problem as problem

    return problem()


class Probe:
    """The probe tool, published in one runtime, on its own data directory."""

    def __init__(self, runtime: str, root: Path) -> None:
        self.root = root
        self.settings = Settings(
            home=root / "data", tools_repo=root / "repo", runtime=runtime, base_image=BASE_IMAGE,
            invocation_timeout_seconds=20, container_memory=f"{MEMORY_MB}m", worker_idle_seconds=120,
        )
        self.service = ToolService(self.settings, clock=Clock())
        repo = ToolsRepoHelper(root / "repo")
        repo.commit({f"probe/{p.name}": p.read_text() for p in PROBE_DIR.iterdir() if p.is_file()}, message="the probe tool")
        self.tool_id = self.service.create_tool("acme", {"name": "probe", "description": "misbehaves", "tags": {}}).id
        self.service.modify_envvars("acme", self.tool_id, {"inserts": [{"name": "PROBE_SECRET", "value": SECRET, "is_secret": True}]})
        self.service.publish_version("acme", self.tool_id, {"project_path": "probe", "bump_type": "major"})

    def run(self, action: str, arg: object = None, mode: str = "regular", service: ToolService | None = None):
        inputs = [{"input_parameters": {"action": action, "arg": arg}, "invocation_mode": mode}]
        [result] = (service or self.service).invoke_version("acme", self.tool_id, "1.0.0", {"inputs": inputs}).invocation_results
        return result

    def answer(self, action: str, arg: object = None, mode: str = "regular"):
        result = self.run(action, arg, mode)
        assert result.succeeded, f"{action}: {result.exception_type}: {result.exception_message}"
        return json.loads(result.output)

    def healthy(self) -> None:
        """The version still answers an ordinary invocation, with its original code."""
        assert self.answer("whoami", SECRET)["mark"] == "original code"

    def with_settings(self, **changes: object) -> ToolService:
        return ToolService(self.settings.model_copy(update=changes), clock=Clock())


@pytest.fixture(scope="module", params=["process", "docker"])
def probe(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    if request.param == "docker":
        problem = docker_problem()
        if problem:
            if os.environ.get("CI") == "true":
                pytest.fail(f"Docker tests must run in CI: {problem}")
            pytest.skip(problem)
    probe = Probe(request.param, tmp_path_factory.mktemp(f"probe-{request.param}"))
    yield probe
    runner = probe.service.workspace.runtimes.default
    runner.purge()
    if request.param == "docker":
        ProcessRunner(probe.settings, probe.service.workspace.paths).purge()


def processes_with(marker: str) -> list[int]:
    """Host processes whose command line holds ``marker`` (containers' processes included)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def wait_until_gone(marker: str, seconds: float = 5.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_a_run_is_unprivileged_in_an_empty_scratch_with_its_secret(probe: Probe) -> None:
    info = probe.answer("whoami", SECRET)
    assert info["uid"] != 0 and int(info["caps"], 16) == 0
    assert info["cwd"] == info["home"] == info["tmpdir"] == "/tmp" and info["cwd_entries"] == []
    assert info["secret_matches"] is True
    assert str(probe.settings.home) not in json.dumps(info)


def test_a_version_cannot_change_its_own_code(probe: Probe) -> None:
    attempts = probe.answer("rewrite")
    assert attempts and all(outcome != "ok" for outcome in attempts.values()), attempts
    probe.healthy()


def test_files_left_behind_are_gone_in_the_next_run(probe: Probe) -> None:
    name = "left-" + uuid.uuid4().hex[:8]
    attempts = probe.answer("leave", name)
    assert {w for w, outcome in attempts.items() if outcome == "ok"} <= {"cwd", "HOME", "TMPDIR", "/tmp", "/dev/shm", "shared memory"}
    assert attempts["cwd"] == "ok"  # the scratch is writable: the run itself could use it
    for _ in range(3):  # whichever spare or worker slot serves it
        assert probe.answer("look", name) == {"found": [], "cwd_entries": []}


def test_the_data_directory_and_other_secrets_are_out_of_reach(probe: Probe, tmp_path: Path) -> None:
    other = ToolService(Settings(home=tmp_path / "other", runtime="process"), clock=Clock())
    other_tool = other.create_tool("beta", {"name": "other", "description": "d", "tags": {}}).id
    other.modify_envvars("beta", other_tool, {"inserts": [{"name": "TOKEN", "value": OTHER_SECRET, "is_secret": True}]})
    home = probe.settings.home
    probe.answer("whoami", SECRET)  # so that the log holds a record
    targets = [
        str(home), str(home / "metadata.json"), str(home / "secrets.json"), str(home / "invocations"),
        *[str(p) for p in (home / "invocations").glob("*.jsonl")], str(tmp_path / "other" / "secrets.json"),
        str(home / "builds"), "/etc/shadow", f"/proc/1/root{home}/secrets.json", "/proc/1/environ",
    ]
    outcomes = probe.answer("read", targets)
    assert not [path for path, outcome in outcomes.items() if outcome.startswith(("read", "listed"))], outcomes
    assert SECRET not in json.dumps(outcomes) and OTHER_SECRET not in json.dumps(outcomes)


def test_simulation_mode_has_no_network(probe: Probe) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    heard: list[bytes] = []

    def serve() -> None:
        server.settimeout(30)
        try:
            while True:
                conn, _ = server.accept()
                heard.append(conn.recv(100))
                conn.close()
        except OSError:
            pass

    threading.Thread(target=serve, daemon=True).start()
    try:
        assert probe.answer("connect", ["127.0.0.1", port], mode="conversation-simulation") != "connected"
        assert probe.answer("whoami", SECRET, mode="conversation-simulation")["interfaces"] == ["lo"]
        if probe.settings.runtime == "process":  # the control: the same server is reachable from a regular run
            assert probe.answer("connect", ["127.0.0.1", port]) == "connected"
            assert heard == [b"hello from the sandbox\n"]
        else:
            assert heard == []
    finally:
        server.close()


def test_a_fork_bomb_is_contained_and_ends_with_its_run(probe: Probe) -> None:
    marker = f"{3000 + uuid.uuid4().int % 1000}.{uuid.uuid4().int % 1000:03d}"
    outcome = probe.answer("fork_bomb", marker)
    assert outcome["error"] == "BlockingIOError" and outcome["forked"] <= probe.settings.container_pids
    assert wait_until_gone(marker) == []
    probe.healthy()


def test_memory_past_the_limit_fails_that_run(probe: Probe) -> None:
    result = probe.run("hog", 2 * MEMORY_MB)
    assert not result.succeeded and result.exception_type == "MemoryError" and "memory limit" in result.exception_message
    probe.healthy()


def test_an_endless_loop_is_stopped_and_ends(probe: Probe) -> None:
    short = probe.with_settings(invocation_timeout_seconds=2)
    started = time.perf_counter()
    result = probe.run("spin", service=short)
    assert not result.succeeded and result.exception_type == "TimeoutError" and time.perf_counter() - started < 10
    probe.healthy()


def test_a_megabyte_of_print_or_output_cannot_hurt(probe: Probe) -> None:
    result = probe.run("flood", 1_000_000)
    assert result.succeeded and result.output == '"printed"'
    big = probe.run("big", 1_000_000)
    assert not big.succeeded and big.exception_type == "OutputTooLarge" and "1,000,002 characters" in big.exception_message  # a JSON string: quotes
    records = [json.loads(line) for p in probe.settings.paths().invocations.glob("*.jsonl") for line in p.read_text().splitlines()]
    flood = next(r for r in reversed(records) if r["inputs"]["input_parameters"]["action"] == "flood")
    logged = sum(len(line) for line in flood["logs"])
    assert 50_000 < logged <= 101_000 and "characters of logs were dropped" in flood["logs"][-1]
    probe.healthy()


def test_a_detached_process_ends_with_its_run(probe: Probe) -> None:
    marker = f"{4000 + uuid.uuid4().int % 1000}.{uuid.uuid4().int % 1000:03d}"
    assert probe.answer("detach", marker) == "detached"
    assert wait_until_gone(marker) == []
    probe.healthy()


def test_secrets_are_in_no_command_line_and_no_container_configuration(probe: Probe) -> None:
    """Through a publish (checks see the secret) and invocations: no process's command line, and
    no `docker inspect` of any container the workbench started, ever shows a secret value."""
    seen: list[str] = []
    looked = {"rounds": 0, "containers": 0}
    done = threading.Event()

    def containers() -> list:
        import docker

        try:
            found = docker.from_env().containers.list(all=True, filters={"label": f"workbench.home={home_key(probe.service.workspace.paths)}"})
            for container in found:
                container.reload()
            return found
        except docker.errors.NotFound:
            return []  # one went away while we looked: look again next round

    def watch() -> None:
        while not done.is_set():
            if processes_with(SECRET):
                seen.append("a command line")
            for container in containers() if probe.settings.runtime == "docker" else []:
                looked["containers"] += 1
                if SECRET in json.dumps(container.attrs):
                    seen.append(f"docker inspect {container.name}")
            looked["rounds"] += 1
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        probe.service.publish_version("acme", probe.tool_id, {"project_path": "probe", "bump_type": "patch"})
        assert probe.answer("whoami", SECRET)["secret_matches"]
        inputs = [{"input_parameters": {"action": "whoami", "arg": SECRET}, "invocation_mode": "conversation-simulation"}] * 4
        assert all(r.succeeded for r in probe.service.invoke_version("acme", probe.tool_id, "1.0.1", {"inputs": inputs}).invocation_results)
    finally:
        done.set()
        watcher.join()
        probe.service.deprecate_versions("acme", probe.tool_id, "==1.0.1")
    assert seen == []
    assert looked["rounds"] >= 5 and (probe.settings.runtime != "docker" or looked["containers"] > 0)  # it did look


def test_doctor_lists_the_guarantees_that_hold(probe: Probe, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_RUNTIME", probe.settings.runtime)
    monkeypatch.setenv("WORKBENCH_BASE_IMAGE", BASE_IMAGE)
    code, out, _ = run_cli("doctor", "--json")
    report = json.loads(out)
    assert code == 0 and report["active"] == probe.settings.runtime and report["sandboxed"] is True
    assert len(report["guarantees"]) == 8 and all(g["holds"] for g in report["guarantees"]), report["guarantees"]
    code, out, _ = run_cli("doctor")
    assert "yes  processes end with the run" in out and "NO " not in out


def test_without_a_sandbox_tools_do_not_run_unless_the_user_opts_in(
    service: ToolService, tools_repo, run_cli, monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path
) -> None:
    import shutil

    only_git = tmp_path / "bin"
    only_git.mkdir()
    (only_git / "git").symlink_to(shutil.which("git"))
    monkeypatch.setenv("PATH", str(only_git))  # a machine without bubblewrap
    tools_repo.project("proj")
    tool_id = service.create_tool("acme", {"name": "plain", "description": "d", "tags": {}}).id
    with pytest.raises(Exception, match="tools run only in a sandbox, and bubblewrap \\(bwrap\\) is not installed.*WORKBENCH_UNSANDBOXED=1"):
        service.publish_version("acme", tool_id, {"project_path": "proj", "bump_type": "major"})
    code, out, _ = run_cli("doctor", "--json")
    report = json.loads(out)
    assert report["sandboxed"] is False and "not installed" in report["sandbox"] and not any(g["holds"] for g in report["guarantees"])
    assert any("WORKBENCH_UNSANDBOXED=1" in fix for fix in report["fixes"])
    monkeypatch.setenv("WORKBENCH_UNSANDBOXED", "1")
    opted_in = ToolService(settings.model_copy(update={"unsandboxed": True}), clock=Clock())
    opted_in.publish_version("acme", tool_id, {"project_path": "proj", "bump_type": "major"})
    [result] = opted_in.invoke_version("acme", tool_id, "1.0.0", {"inputs": [{"input_parameters": {"name": "x"}, "invocation_mode": "regular"}]}).invocation_results
    assert result.succeeded and json.loads(result.output)["greeting"] == "hi x"
    code, out, _ = run_cli("doctor", "--json")
    report = json.loads(out)
    assert report["sandboxed"] is False and report["sandbox"].startswith("none: WORKBENCH_UNSANDBOXED=1")


def test_deprecating_a_version_stops_its_sandboxed_workers(service: ToolService, tools_repo, settings: Settings) -> None:
    from workbench.runtime.process import run_root

    tools_repo.project("proj")
    tool_id = service.create_tool("acme", {"name": "plain", "description": "d", "tags": {}}).id
    service.publish_version("acme", tool_id, {"project_path": "proj", "bump_type": "major"})
    inputs = [{"input_parameters": {"name": "x"}, "invocation_mode": mode} for mode in ("regular", "conversation-simulation")]
    assert all(r.succeeded for r in service.invoke_version("acme", tool_id, "1.0.0", {"inputs": inputs}).invocation_results)
    markers = (str(run_root(service.workspace.paths)), str(settings.paths().home))  # bubblewrap's command line names one of them
    assert any(processes_with(m) for m in markers)
    service.deprecate_versions("acme", tool_id, "==1.0.0")
    assert all(wait_until_gone(m) == [] for m in markers)
