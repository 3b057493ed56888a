"""`workbench` as a whole command, a fresh process each time, as a user runs it: `--help`,
`tool --help`, and a warm `invoke` (its worker already running) with 100,000 invocations stored,
on the command server and in its own process (``WORKBENCH_COMMAND_SERVER=0``: the first command,
or the server turned off); beside them, in the same rounds, `python -c "import click"` (the
design's yardstick: `--help` at most 1.5x it, a warm invoke at most 2x) and `python -c pass`.
With ``--before REV`` the same commands of that revision (``git archive`` into a temp dir, run
with the same interpreter) take part in the same rounds, so before and after see the same machine.

Every command runs as ``python -m workbench ...`` (the same for both trees). Each figure is the
median of ``--runs`` rounds, after one warm-up round (which also writes the bytecode caches a
normal install has, and starts the command server): wall time, and CPU time (user + system) of
the command's process and its children, plus, for a served command, the process the server
forked for it (read from the server's reaped-children times, at the kernel's clock-tick grain).

    .venv/bin/python bench/cli_startup.py [--invocations 100000] [--runs 15] [--runtime docker|process] [--before REV]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import extract_revision

ROOT = Path(__file__).resolve().parent.parent
ORG = "bench"
INPUT = '{"order_id": "A-1001"}'
TICK = os.sysconf("SC_CLK_TCK")


def prepare(home: Path, repo: Path, runtime: str, invocations: int) -> None:
    """A data directory with order_status 1.0.0 published and ``invocations`` stored, indexed."""
    from workbench.core.service import ToolService
    from workbench.repo.samples import build_sample_repository
    from workbench.settings import Settings
    from workbench.synthetic import generate_invocations

    service = ToolService(Settings(home=home, tools_repo=repo, runtime=runtime))
    build_sample_repository(repo)
    tool_id = service.create_tool(ORG, {"name": "order_status", "description": "d", "tags": {}}).id
    service.modify_envvars(ORG, tool_id, {"inserts": [{"name": "ORDER_REGION", "value": "eu", "is_secret": False}]})
    service.publish_version(ORG, tool_id, {"project_path": "order_status", "bump_type": "major"})
    generate_invocations(service, ORG, invocations)
    service.catch_up_index()


class CommandServer:
    """The command server the commands of this tree use: its pid, and the CPU its reaped
    children (the served commands) have used."""

    def __init__(self, env: dict[str, str]) -> None:
        code = "from workbench.launcher import fingerprint, socket_path; print(socket_path(fingerprint()))"
        self.path = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=tempfile.gettempdir()).stdout.strip()
        self.pid: int | None = None

    def wait_until_up(self, limit: float = 120.0) -> None:
        deadline = time.monotonic() + limit
        while self.pid is None and time.monotonic() < deadline:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(self.path)
                self.pid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))[0]
            except OSError:
                time.sleep(0.2)
            finally:
                sock.close()
        if self.pid is None:
            raise SystemExit(f"no command server came up at {self.path}")
        self.children_cpu()

    def children_cpu(self, limit: float = 5.0) -> float:
        """Milliseconds of CPU the server's finished children used, once none is left running."""
        assert self.pid is not None
        deadline = time.monotonic() + limit
        while Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split() and time.monotonic() < deadline:
            time.sleep(0.01)
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[13]) + int(fields[14])) * 1000 / TICK  # cutime + cstime

    def stop(self) -> None:
        if self.pid is not None:
            try:
                os.kill(self.pid, 15)
            except ProcessLookupError:
                pass


def run(command: list[str], env: dict[str, str], server: CommandServer | None, cwd: Path) -> tuple[float, float, str]:
    """Wall and CPU milliseconds of one command (its process, its children, the process the
    server forked for it)."""
    served_before = server.children_cpu() if server else 0.0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=cwd)  # not this checkout: -m would import it first
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    if server:
        cpu += server.children_cpu() - served_before
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return wall, cpu, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invocations", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--runtime", choices=["docker", "process"], default="docker")
    parser.add_argument("--before", metavar="REV", help="also run this revision's commands in the same rounds")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="workbench-cli-bench-"))
    home, repo = tmp / "data", tmp / "repo"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH") and not k.startswith("WORKBENCH_")}
    env.update(WORKBENCH_HOME=str(home), WORKBENCH_TOOLS_REPO=str(repo), WORKBENCH_RUNTIME=args.runtime, WORKBENCH_ORG=ORG)
    if "WORKBENCH_BASE_IMAGE" in os.environ:
        env["WORKBENCH_BASE_IMAGE"] = os.environ["WORKBENCH_BASE_IMAGE"]
    workbench = [sys.executable, "-m", "workbench"]
    invoke = [*workbench, "invoke", "order_status", "1.0.0", "--input", INPUT]
    server = CommandServer(env)
    cases: dict[str, tuple[list[str], dict[str, str], CommandServer | None]] = {
        'python -c "import click"': ([sys.executable, "-c", "import click"], env, None),
        "python -c pass": ([sys.executable, "-c", "pass"], env, None),
        "workbench --help": ([*workbench, "--help"], env, None),
        "workbench tool --help": ([*workbench, "tool", "--help"], env, None),
        "workbench invoke (warm, served)": (invoke, env, server),
        "workbench invoke (warm, own process)": (invoke, {**env, "WORKBENCH_COMMAND_SERVER": "0"}, None),
    }
    try:
        if args.before:
            before = extract_revision(ROOT, args.before, tmp / "before", "workbench")
            old = {**env, "PYTHONPATH": str(before)}
            cases.update({
                "before: workbench --help": ([*workbench, "--help"], old, None),
                "before: workbench tool --help": ([*workbench, "tool", "--help"], old, None),
                "before: workbench invoke (warm)": (invoke, old, None),
            })
        print(f"preparing: order_status published on {args.runtime}, {args.invocations:,} invocations stored ...", file=sys.stderr)
        prepare(home, repo, args.runtime, args.invocations)
        walls: dict[str, list[float]] = {name: [] for name in cases}
        cpus: dict[str, list[float]] = {name: [] for name in cases}
        for round_ in range(args.runs + 1):  # the first round warms up: bytecode, the worker, the command server
            for name, (command, case_env, case_server) in cases.items():
                wall, cpu, out = run(command, case_env, case_server if round_ else None, tmp)
                if "invoke" in name:
                    assert "succeeded" in out, out
                if round_:
                    walls[name].append(wall)
                    cpus[name].append(cpu)
            if not round_:
                server.wait_until_up()
    finally:
        server.stop()
        _stop_workers(home, args.runtime)
        shutil.rmtree(tmp, ignore_errors=True)
    click_wall, click_cpu = statistics.median(walls['python -c "import click"']), statistics.median(cpus['python -c "import click"'])
    print(f"workbench commands, a fresh process each, {args.runs} rounds, {args.invocations:,} invocations stored, {args.runtime} runtime")
    print(f"{'command':38} {'wall ms':>8} {'x click':>8} {'cpu ms':>8} {'x click':>8}")
    for name in cases:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        print(f"{name:38} {wall:8.0f} {wall / click_wall:7.2f}x {cpu:8.0f} {cpu / click_cpu:7.2f}x")
    print("targets: `workbench --help` <= 1.5x `import click`; `workbench invoke` (warm) <= 2x")


def _stop_workers(home: Path, runtime: str) -> None:
    """Stop this data directory's warm workers (containers or sandboxed processes)."""
    from workbench.core.service import ToolService
    from workbench.settings import Settings

    try:
        ToolService(Settings(home=home, runtime=runtime)).workspace.runtimes.named(runtime).purge()  # type: ignore[attr-defined]
    except Exception as error:  # noqa: BLE001 - a benchmark's cleanup: say it, carry on
        print(f"could not stop the workers: {error}", file=sys.stderr)


if __name__ == "__main__":
    main()
