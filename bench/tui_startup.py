"""TUI start-up with 100,000 invocations stored, as a user sees it: `workbench` started in a
terminal (a pseudo-terminal of 120x36 here), timed until its tools are on the screen, then F3
until the first page of history says "100 of 100,000"; and, in the same rounds, a minimal Textual
app that shows a table, timed until its rows are on the screen (the design's target: the first
screen at most 1.5x that).

`workbench` is measured as people run it, on the command server (see ``workbench.launcher``),
and in its own process (``WORKBENCH_COMMAND_SERVER=0``: the first start, or the server turned
off); with ``--before REV`` that revision's app (``git archive`` into a temp dir) takes part in
the same rounds. Each figure is the median of ``--runs`` rounds after a warm-up round (bytecode
caches, the page cache, the command server). Every process is started outside this checkout.

    .venv/bin/python bench/tui_startup.py [--invocations 100000] [--runs 7] [--before REV]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from measure import extract_revision

ROOT = Path(__file__).resolve().parent.parent
ROWS, COLUMNS = 36, 120
F3 = b"\x1bOR"
CTRL_Q = b"\x11"

MINIMAL = r"""
from textual.app import App
from textual.widgets import DataTable, Footer, Header

class Minimal(App):
    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("Name", "Versions", "Description")
        for i in range(6):
            table.add_row(f"tool_{i}", "1", "a tool")

Minimal().run()
"""


def in_terminal(command: list[str], env: dict[str, str], cwd: Path, steps: list[tuple[bytes, bytes | None]], limit: float = 120.0) -> list[float]:
    """Start ``command`` in a fresh pseudo-terminal; for each (text, keys) step, the milliseconds
    until ``text`` is on the screen, then type ``keys``. The command is then quit with ctrl+q."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env={**env, "TERM": "xterm-256color"},
        start_new_session=True, preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    os.close(slave)
    shown, times, pending = b"", [], list(steps)
    try:
        while time.perf_counter() - started < limit and proc.poll() is None:  # read on until it quits: a full terminal blocks it
            if select.select([master], [], [], 0.02)[0]:
                shown += os.read(master, 1 << 16)
                if pending and pending[0][0] in shown:
                    times.append((time.perf_counter() - started) * 1000)
                    shown = b""
                    keys = pending.pop(0)[1]
                    os.write(master, keys if pending and keys else CTRL_Q)
    except OSError:
        pass  # the terminal closed as the command quit
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    if pending:
        raise SystemExit(f"{' '.join(command)}: {pending[0][0]!r} never appeared on the screen")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invocations", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--before", metavar="REV", help="also start this revision's app in the same rounds")
    args = parser.parse_args()
    from workbench.core.service import ToolService
    from workbench.settings import Settings
    from workbench.synthetic import TOOLS, generate_invocations

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "data"
        service = ToolService(Settings(home=home, runtime="process"))
        generate_invocations(service, "bench", args.invocations)
        service.workspace.catalog.sync()  # as the background indexer keeps it in a running workbench
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH") and not k.startswith(("WORKBENCH_", "TEXTUAL_"))}
        env.update(WORKBENCH_HOME=str(home), WORKBENCH_CONFIG_HOME=str(Path(tmp) / "config"), WORKBENCH_RUNTIME="process")
        app = [sys.executable, "-m", "workbench", "--org", "bench"]
        steps = [(TOOLS[0].encode(), F3), (f"100 of {args.invocations:,}".encode(), None)]
        cases = {
            "workbench, on the command server": (app, env, steps),
            "workbench, in its own process": (app, {**env, "WORKBENCH_COMMAND_SERVER": "0"}, steps),
        }
        if args.before:
            before = extract_revision(ROOT, args.before, Path(tmp) / "before", "workbench")
            cases[f"before ({args.before})"] = (app, {**env, "PYTHONPATH": str(before)}, steps)
        cases["a minimal Textual app with a table"] = ([sys.executable, "-c", MINIMAL], env, [(b"tool_5", None)])
        figures: dict[str, list[list[float]]] = {name: [] for name in cases}
        for round_ in range(args.runs + 1):  # interleaved, so all see the same machine load; the first round warms up
            for name, (command, case_env, case_steps) in cases.items():
                times = in_terminal(command, case_env, Path(tmp), case_steps)
                if round_:
                    figures[name].append(times)
            if not round_:
                time.sleep(5)  # the command server the first round started finishes its imports
        _stop_server(env)
    base = statistics.median(row[0] for row in figures.pop("a minimal Textual app with a table"))
    print(f"TUI start-up in a {COLUMNS}x{ROWS} terminal, {args.invocations:,} invocations stored ({args.runs} rounds; medians)")
    print(f"  a minimal Textual app, its table on the screen:     {base:6.0f} ms")
    for name, rows in figures.items():
        listed, history = (statistics.median(column) for column in zip(*rows))
        print(f"  {name}:")
        print(f"    the first screen, its tools listed:               {listed:6.0f} ms   {listed / base:5.2f}x the minimal app   (target <= 1.5x)")
        print(f"    then F3 to the first page of history:            +{history - listed:6.0f} ms")


def _stop_server(env: dict[str, str]) -> None:
    """Stop the command server this benchmark's commands used (one per state of the code)."""
    code = (
        "import os, socket, struct\n"
        "from workbench.launcher import fingerprint, socket_path\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "s.connect(socket_path(fingerprint()))\n"
        "os.kill(struct.unpack('3i', s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0], 15)\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, cwd=tempfile.gettempdir())


if __name__ == "__main__":
    main()
