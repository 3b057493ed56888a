"""The Docker runtime against a real daemon: builds, warm workers, limits, isolation, cleanup.

These run for real in CI. Elsewhere, without a daemon or the base image, they skip and say why.
"""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from workbench.core.service import ToolService
from workbench.errors import BadRequest
from workbench.runtime.docker_runner import home_key
from workbench.runtime.selection import inspect_runtime
from workbench.settings import Settings

BASE_IMAGE = os.environ.get("WORKBENCH_BASE_IMAGE", "workbench-base:bookworm")
SECRET = "docker-secret-VALUE-123"

TOOL = """
import os, time

COUNTER = 0

def run(params, ctx):
    global COUNTER
    COUNTER += 1
    action = params.get("action", "info")
    ctx.logger.info("token is %s", ctx.env.get("TOKEN"))
    if action == "info":
        interfaces = sorted(line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:])
        try:
            open("/opt/tool/project/scribble", "w").write("x")
            root_writable = True
        except OSError:
            root_writable = False
        return {"uid": os.getuid(), "interfaces": interfaces, "root_writable": root_writable, "counter": COUNTER,
                "mode": ctx.invocation_mode, "token_seen": ctx.env.get("TOKEN") == "SECRET_VALUE", "user": ctx.nonsensitive_user_variables}
    if action == "sleep":
        start = time.time()
        time.sleep(params["seconds"])
        return {"start": start, "end": time.time()}
    if action == "leak":
        return "the token is " + ctx.env["TOKEN"]
    if action == "memory":
        hog = bytearray(params["mb"] * 1024 * 1024)
        for i in range(0, len(hog), 4096):
            hog[i] = 1
        return "survived"
""".replace("SECRET_VALUE", SECRET)


def docker_problem() -> str | None:
    report, client = inspect_runtime(Settings(runtime="auto", base_image=BASE_IMAGE))
    if report.daemon is None:
        return f"no Docker daemon answers ({report.daemon_error}); as root, `workbench runtime prepare` starts one"
    if not report.base_image_present:
        return f"base image {BASE_IMAGE} is missing; as root, `workbench runtime prepare` makes it"
    return None


@pytest.fixture(scope="module", autouse=True)
def needs_docker() -> None:
    problem = docker_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Docker tests must run in CI: {problem}")
        pytest.skip(problem)


@pytest.fixture
def docker_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"runtime": "docker", "base_image": BASE_IMAGE, "worker_idle_seconds": 120, "invocation_timeout_seconds": 20})


@pytest.fixture
def dservice(docker_settings: Settings, clock):
    service = ToolService(docker_settings, clock=clock)
    yield service
    service.workspace.runtimes.default.purge()  # tests leave no containers, images or sockets behind


def labelled(service: ToolService, kind: str) -> list:
    import docker

    client = docker.from_env()
    label = f"workbench.home={home_key(service.workspace.paths)}"
    if kind == "containers":
        return client.containers.list(all=True, filters={"label": label})
    return client.images.list(filters={"label": label})


@pytest.fixture
def tool_id(dservice: ToolService, tools_repo) -> str:
    tools_repo.project("proj", code=TOOL, schema={"type": "object"}, secret_requires=("TOKEN",), checks=("python -c 'import tool'",))
    tool_id = dservice.create_tool("acme", {"name": "boxed", "description": "d", "tags": {}}).id
    dservice.modify_envvars("acme", tool_id, {"inserts": [{"name": "TOKEN", "value": SECRET, "is_secret": True}]})
    dservice.publish_version("acme", tool_id, {"project_path": "proj", "bump_type": "major"})
    return tool_id


def invoke(service: ToolService, tool_id: str, *params: dict, mode: str = "regular", version: str = "1.0.0"):
    inputs = [{"input_parameters": p, "invocation_mode": mode, "nonsensitive_user_variables": {"plan": "gold"}} for p in params]
    return service.invoke_version("acme", tool_id, version, {"inputs": inputs}).invocation_results


def test_publish_builds_a_labelled_image_and_a_rebuild_reuses_layers(dservice: ToolService, tools_repo) -> None:
    tools_repo.project("deps", dependencies=("humanize>=4",), code="import humanize\ndef run(p, c):\n    return humanize.intcomma(12345)\n")
    tool_id = dservice.create_tool("acme", {"name": "deps", "description": "d", "tags": {}}).id
    dservice.publish_version("acme", tool_id, {"project_path": "deps", "bump_type": "major"})
    [image] = [i for i in labelled(dservice, "images") if i.labels.get("workbench.tool") == tool_id]
    version = dservice.list_versions("acme", tool_id).tool_versions[0]
    assert image.labels["workbench.org"] == "acme" and image.labels["workbench.version"] == "1.0.0"
    assert image.labels["workbench.commit"] == version.tool_commit_hash
    assert invoke(dservice, tool_id, {"name": "x"})[0].output == "12,345"  # the dependency is installed
    dservice.publish_version("acme", tool_id, {"project_path": "deps", "bump_type": "patch"})
    with dservice.workspace.metadata.read() as view:
        builds = view.builds.all()
    assert max(b.details["cached_layers"] for b in builds) >= 3  # base, site-packages, shim, bin reused


def test_both_modes_run_isolated_as_non_root_on_a_read_only_root(dservice: ToolService, tool_id: str) -> None:
    regular = json.loads(invoke(dservice, tool_id, {"action": "info"})[0].output)
    simulation = json.loads(invoke(dservice, tool_id, {"action": "info"}, mode="conversation-simulation")[0].output)
    assert regular["uid"] != 0 and regular["root_writable"] is False
    assert regular["token_seen"] and regular["user"] == {"plan": "gold"} and regular["mode"] == "regular"
    assert "eth0" in regular["interfaces"]
    assert simulation["interfaces"] == ["lo"] and simulation["mode"] == "conversation-simulation"  # no network


def test_a_project_may_allow_network_in_simulation(dservice: ToolService, tools_repo) -> None:
    tools_repo.project("netsim", code=TOOL, schema={"type": "object"}, table_extra="simulation_network = true\n")
    tool_id = dservice.create_tool("acme", {"name": "netsim", "description": "d", "tags": {}}).id
    dservice.modify_envvars("acme", tool_id, {"inserts": [{"name": "TOKEN", "value": SECRET, "is_secret": True}]})
    dservice.publish_version("acme", tool_id, {"project_path": "netsim", "bump_type": "major"})
    info = json.loads(invoke(dservice, tool_id, {"action": "info"}, mode="conversation-simulation")[0].output)
    assert "eth0" in info["interfaces"]


def test_ten_inputs_run_in_parallel_and_no_state_survives(dservice: ToolService, tool_id: str) -> None:
    spans = [json.loads(r.output) for r in invoke(dservice, tool_id, *[{"action": "sleep", "seconds": 1.5}] * 10)]
    assert max(s["start"] for s in spans) < min(s["end"] for s in spans)
    counters = [json.loads(r.output)["counter"] for r in invoke(dservice, tool_id, *[{"action": "info"}] * 4)]
    assert counters == [1, 1, 1, 1]


def test_a_secret_is_masked_in_output_logs_and_records(dservice: ToolService, tool_id: str) -> None:
    [result] = invoke(dservice, tool_id, {"action": "leak"})
    assert result.output == "the token is ********"
    stored = "".join(p.read_text() for p in dservice.workspace.paths.invocations.glob("*.jsonl"))
    assert SECRET not in stored and "token is ********" in stored


def test_a_timeout_stops_the_invocation_and_the_worker_carries_on(docker_settings: Settings, clock, tool_id: str, dservice: ToolService) -> None:
    short = ToolService(docker_settings.model_copy(update={"invocation_timeout_seconds": 2}), clock=clock)
    started = time.perf_counter()
    [result] = invoke(short, tool_id, {"action": "sleep", "seconds": 60})
    assert not result.succeeded and result.exception_type == "TimeoutError"
    assert time.perf_counter() - started < 15
    assert invoke(short, tool_id, {"action": "info"})[0].succeeded
    stored = [json.loads(line) for p in dservice.workspace.paths.invocations.glob("*.jsonl") for line in p.read_text().splitlines()]
    assert any(r["invocation_status"].get("exception_type") == "TimeoutError" for r in stored)


def test_exceeding_the_memory_limit_fails_that_invocation(docker_settings: Settings, clock, tool_id: str) -> None:
    small = ToolService(docker_settings.model_copy(update={"container_memory": "96m"}), clock=clock)
    for container in labelled(small, "containers"):  # the publish's workers have the default limit
        container.remove(force=True)
    [result] = invoke(small, tool_id, {"action": "memory", "mb": 300})
    assert not result.succeeded and result.exception_type == "MemoryError" and "memory limit" in result.exception_message
    assert invoke(small, tool_id, {"action": "info"})[0].succeeded


def test_a_worker_killed_mid_run_is_replaced(dservice: ToolService, tool_id: str) -> None:
    invoke(dservice, tool_id, {"action": "info"})  # warm
    results = []
    runner = threading.Thread(target=lambda: results.extend(invoke(dservice, tool_id, {"action": "sleep", "seconds": 20})))
    runner.start()
    time.sleep(1.5)
    for container in labelled(dservice, "containers"):
        if container.name.endswith("-net-0") or container.name.endswith("-net-1"):
            container.kill()
    runner.join(30)
    [lost] = results
    assert not lost.succeeded and lost.exception_type == "SandboxError" and "replaced" in lost.exception_message
    assert invoke(dservice, tool_id, {"action": "info"})[0].succeeded  # a new worker took its place


def test_warm_workers_serve_other_processes(dservice: ToolService, docker_settings: Settings, tool_id: str, clock) -> None:
    invoke(dservice, tool_id, {"action": "info"}, {"action": "info"})
    before = {c.name for c in labelled(dservice, "containers")}
    other = ToolService(docker_settings, clock=clock)  # a second process would look exactly like this
    assert invoke(other, tool_id, {"action": "info"})[0].succeeded
    assert {c.name for c in labelled(dservice, "containers")} == before


def test_a_warm_worker_answers_without_the_daemon_being_asked_anything(dservice: ToolService, docker_settings: Settings, tool_id: str, clock, monkeypatch, tmp_path) -> None:
    invoke(dservice, tool_id, {"action": "info"}, {"action": "info"})  # both regular-mode workers warm
    nowhere = f"unix://{tmp_path}/no-daemon.sock"
    monkeypatch.setenv("DOCKER_HOST", nowhere)  # as if the daemon were down: a fresh command reaches its workers all the same
    assert all(r.succeeded for r in invoke(ToolService(docker_settings, clock=clock), tool_id, {"action": "info"}, {"action": "info"}))
    monkeypatch.delenv("DOCKER_HOST")
    for container in labelled(dservice, "containers"):
        container.remove(force=True)
    monkeypatch.setenv("DOCKER_HOST", nowhere)  # now a worker must be started, and no daemon answers
    with pytest.raises(BadRequest, match="the Docker runtime needs a Docker daemon, and none answers"):
        invoke(ToolService(docker_settings, clock=clock), tool_id, {"action": "info"})


def test_deprecation_stops_workers_and_prune_removes_images(dservice: ToolService, tool_id: str) -> None:
    invoke(dservice, tool_id, {"action": "info"}, mode="conversation-simulation")
    assert labelled(dservice, "containers")
    dservice.deprecate_versions("acme", tool_id, "==1.0.0")
    assert labelled(dservice, "containers") == []
    assert labelled(dservice, "images")
    assert dservice.prune_runtime().images == 1
    assert labelled(dservice, "images") == []


def test_a_failed_publish_leaves_nothing_running(dservice: ToolService, tools_repo) -> None:
    tools_repo.project("bad", checks=("python -c 'raise SystemExit(3)'",))
    tool_id = dservice.create_tool("acme", {"name": "bad", "description": "d", "tags": {}}).id
    with pytest.raises(Exception, match="checks failed"):
        dservice.publish_version("acme", tool_id, {"project_path": "bad", "bump_type": "major"})
    assert labelled(dservice, "containers") == [] and labelled(dservice, "images") == []


def test_test_from_a_branch_runs_in_a_container(dservice: ToolService, tools_repo) -> None:
    tools_repo.project("proj", code=TOOL, schema={"type": "object"}, secret_requires=("TOKEN",))
    response = dservice.test_tool("acme", {"inputs": [{"input_parameters": {"action": "info"}, "invocation_mode": "conversation-simulation"}], "commit_branch": "main", "project_path": "proj", "required_envvars": {}, "required_secret_envvars": {"TOKEN": SECRET}})
    info = json.loads(response.invocation_results[0].output)
    assert info["interfaces"] == ["lo"] and info["token_seen"] and info["uid"] != 0


def test_auto_picks_docker_only_with_the_base_image(settings: Settings) -> None:
    report, _ = inspect_runtime(settings.model_copy(update={"runtime": "auto", "base_image": BASE_IMAGE}))
    assert report.active == "docker" and report.daemon
    report, _ = inspect_runtime(settings.model_copy(update={"runtime": "auto", "base_image": "workbench-absent:none"}))
    assert report.active == "process" and "not present" in report.reason and report.fixes


def test_doctor_and_prune_from_the_command_line(run_cli, monkeypatch, dservice: ToolService, tool_id: str) -> None:
    monkeypatch.setenv("WORKBENCH_RUNTIME", "auto")
    monkeypatch.setenv("WORKBENCH_BASE_IMAGE", BASE_IMAGE)
    code, out, _ = run_cli("doctor", "--json")
    report = json.loads(out)
    assert report["active"] == "docker" and report["base_image_present"] is True
    code, out, _ = run_cli("deprecate", "boxed", "--versions", ">=1", "--org", "acme")
    assert code == 0 and labelled(dservice, "containers") == []
    code, out, _ = run_cli("runtime", "prune", "--json")
    assert json.loads(out)["images"] == 1 and labelled(dservice, "images") == []


def test_an_idle_worker_stops_by_itself(docker_settings: Settings, clock, tool_id: str, dservice: ToolService) -> None:
    for container in labelled(dservice, "containers"):  # the publish's workers idle for longer
        container.remove(force=True)
    brief = ToolService(docker_settings.model_copy(update={"worker_idle_seconds": 2}), clock=clock)
    assert invoke(brief, tool_id, {"action": "info"})[0].succeeded
    assert labelled(brief, "containers")
    deadline = time.monotonic() + 20
    while labelled(brief, "containers") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert labelled(brief, "containers") == []  # exited when idle, and removed
    assert invoke(brief, tool_id, {"action": "info"})[0].succeeded  # and started again on demand


def test_runtime_prepare_finds_everything_ready(run_cli, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_BASE_IMAGE", BASE_IMAGE)
    code, out, _ = run_cli("runtime", "prepare", "--json")
    steps = {step["name"]: step for step in json.loads(out)}
    assert code == 0 and set(steps) == {"bubblewrap", "docker daemon", "base image"}
    assert all(step["status"] in ("ok", "done") for step in steps.values()), steps


def test_the_base_image_is_made_from_the_mirror_apt_already_uses(tmp_path) -> None:
    from workbench.runtime.prepare import debian_mirror

    sources = tmp_path / "apt" / "sources.list.d"
    sources.mkdir(parents=True)
    (sources / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.invalid/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n"
        "Types: deb\nURIs: http://security.invalid/debian-security\nSuites: bookworm-security\nComponents: main\n"
    )
    assert debian_mirror("bookworm", tmp_path) == "http://mirror.invalid/debian"
    assert debian_mirror("bookworm-security", tmp_path) == "http://security.invalid/debian-security"
    (sources / "debian.sources").unlink()
    (tmp_path / "apt" / "sources.list").write_text("# a comment\ndeb http://old.invalid/debian trixie main\n")
    assert debian_mirror("trixie", tmp_path) == "http://old.invalid/debian" and debian_mirror("bookworm", tmp_path) is None
