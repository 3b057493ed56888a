"""The command server runs the quick commands people repeat in a child it forks: the command sees
the user's arguments, environment, working directory and terminal, prints and exits as it would
have in its own process, and Ctrl-C stops it. Where no server answers (none yet, or one that
died), the command runs in its own process and a server starts for the next one.

A command the server ran leaves its launcher without click loaded: that is how these tests tell
it was served (each command runs in a fresh interpreter that writes the modules it loaded)."""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from launching import LAUNCH, Run, launch

from workbench.core.service import ToolService


def server_socket(env: dict[str, str]) -> str:
    """Where the launcher looks for its server (asked of an interpreter like the launcher's)."""
    code = "from workbench.launcher import fingerprint, socket_path; print(socket_path(fingerprint()))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout.strip()


def server_pid(path: str) -> int | None:
    """The pid of the server listening at ``path``, or None if none answers."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
        pid, _, _ = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
        return int(pid)
    except OSError:
        return None
    finally:
        sock.close()


def wait_for_server(path: str, other_than: int | None = None, timeout: float = 90.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = server_pid(path)
        if pid is not None and pid != other_than:
            return pid
        time.sleep(0.1)
    raise AssertionError(f"no command server answered at {path} within {timeout:g} s")


def served(run: Run) -> bool:
    return "click" not in run.modules


@pytest.fixture
def env(home: Path, repo_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    return {**base, "WORKBENCH_HOME": str(home), "WORKBENCH_TOOLS_REPO": str(repo_path), "WORKBENCH_RUNTIME": "process", "WORKBENCH_ORG": "acme"}


@pytest.fixture
def server(env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """A command server for this code (started by a first served command, which runs in its own
    process meanwhile); stopped at the end."""
    path = server_socket(env)
    first = launch(["tool", "list"], env, tmp_path)
    assert first.code == 0, first.err
    pid = wait_for_server(path)
    yield path
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def test_a_served_command_sees_the_users_arguments_environment_directory_and_streams(server: str, service: ToolService, tools_repo, env: dict[str, str], tmp_path: Path) -> None:
    created = launch(["tool", "create", "alpha", "--description", "first tool", "--org", "north"], env, tmp_path)
    assert served(created) and created.code == 0, created.err
    assert created.out == f"created tool alpha ({service.find_tool('north', 'alpha').id}) in organization north\n"

    listed = launch(["tool", "list", "--json"], {**env, "WORKBENCH_ORG": "north"}, tmp_path)  # the org from this command's environment
    assert served(listed) and [t["name"] for t in json.loads(listed.out)["tools"]] == ["alpha"]
    assert json.loads(launch(["tool", "list", "--json"], env, tmp_path).out)["tools"] == []  # acme: the server kept nothing of the last command

    tools_repo.project("proj", code="def run(p, c):\n    return 'echo ' + p['name']\n")
    tool_id = service.create_tool("acme", {"name": "echo", "description": "d", "tags": {}}).id
    service.publish_version("acme", tool_id, {"project_path": "proj", "bump_type": "major"})
    (tmp_path / "input.json").write_text('{"name": "from a file"}')
    invoked = launch(["invoke", "echo", "1.0.0", "--input", "@input.json"], env, tmp_path, cwd=tmp_path)  # relative to the command's directory
    assert served(invoked) and invoked.code == 0, invoked.err
    assert "#0 succeeded" in invoked.out and "echo from a file" in invoked.out

    refused = launch(["invoke", "echo", "1.0.0", "--input", '{"name": 5}'], env, tmp_path)
    assert served(refused) and refused.code == 1 and refused.out == ""
    assert refused.err.startswith("error: input parameters do not conform") and "Traceback" not in refused.err

    in_process = launch(["invoke", "echo", "1.0.0", "--input", '{"name": 5}'], {**env, "WORKBENCH_COMMAND_SERVER": "0"}, tmp_path)
    assert not served(in_process) and (in_process.code, in_process.out, in_process.err) == (refused.code, refused.out, refused.err)


def test_ctrl_c_stops_a_served_command(server: str, service: ToolService, tools_repo, env: dict[str, str], tmp_path: Path) -> None:
    tools_repo.project("proj", code="import time\ndef run(p, c):\n    time.sleep(8)\n    return 'late'\n")
    tool_id = service.create_tool("acme", {"name": "slow", "description": "d", "tags": {}}).id
    service.publish_version("acme", tool_id, {"project_path": "proj", "bump_type": "major"})
    command = [sys.executable, "-m", "workbench", "invoke", "slow", "1.0.0", "--input", '{"name": "x"}']
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2)  # the command is waiting for the tool
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and err.strip().endswith("error: aborted"), err
    assert "late" not in out and "succeeded" not in out


def test_a_dead_server_is_replaced_and_its_command_runs_meanwhile(server: str, env: dict[str, str], tmp_path: Path) -> None:
    pid = wait_for_server(server)
    os.kill(pid, signal.SIGKILL)  # its socket stays behind, answering nobody
    time.sleep(0.2)
    run = launch(["tool", "list"], env, tmp_path)
    assert run.code == 0 and not served(run), run.err
    replacement = wait_for_server(server, other_than=pid)
    assert replacement != pid
    again = launch(["tool", "list"], env, tmp_path)
    assert again.code == 0 and served(again)


def test_the_app_help_and_commands_that_may_prompt_never_go_to_the_server(server: str, env: dict[str, str], tmp_path: Path) -> None:
    for args in (["--help"], ["tool", "list", "--help"], ["env", "list", "nothing"], ["publish", "--help"]):
        run = launch(args, env, tmp_path)
        assert not served(run), args


def test_the_app_runs_on_the_server_in_the_users_terminal(server: str, service: ToolService, env: dict[str, str], tmp_path: Path) -> None:
    import fcntl
    import select
    import termios

    service.create_tool("acme", {"name": "okapi_lookup", "description": "finds okapis", "tags": {}})
    modules_file = tmp_path / "app-modules.json"
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    before = termios.tcgetattr(slave)
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, str(modules_file)], stdin=slave, stdout=slave, stderr=slave, env={**env, "TERM": "xterm-256color"},
        start_new_session=True, preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    shown = b""

    def until(text: bytes, limit: float = 60.0) -> bool:
        nonlocal shown
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if text in shown:
                shown = b""
                return True
            if select.select([master], [], [], 0.05)[0]:
                shown += os.read(master, 1 << 16)
        return False

    def quiet(for_seconds: float = 1.5, limit: float = 30.0) -> None:
        """Read until the app has drawn nothing for a while."""
        deadline, last = time.monotonic() + limit, time.monotonic()
        while time.monotonic() - last < for_seconds and time.monotonic() < deadline:
            if select.select([master], [], [], 0.05)[0]:
                os.read(master, 1 << 16)
                last = time.monotonic()

    try:
        assert until(b"okapi_lookup"), "the app never listed the tool"
        quiet()  # all it had to draw is drawn: what comes next is the answer to the resize
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))  # the terminal grows: the launcher is told, and tells the app
        assert until(b"okapi_lookup", 10.0), "the app did not redraw at the new size"
        os.write(master, b"\x11")  # ctrl+q
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.05)[0]:
                os.read(master, 1 << 16)  # keep the terminal read, or a full one blocks the app
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert termios.tcgetattr(slave) == before  # the terminal as it was
    os.close(master)
    os.close(slave)
    assert "textual" not in json.loads(modules_file.read_text())  # it ran on the server, not in the launcher
