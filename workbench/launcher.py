"""The `workbench` command's entry point: a quick command, and the app, run in a warm command
server when one is up, else here.

Python spends most of a short command importing (click, pydantic and its models, jsonschema, the
store, Textual): a warm `workbench invoke` did its own work in a few milliseconds and its imports
in a few hundred, and the app drew its first screen after most of a second. So the commands
people repeat (invoke, history, search, listing tools and versions) and the app run in a child
forked from a *command server* that has imported all that once
(:mod:`workbench.cli.command_server`), the way Mercurial's ``chg`` runs ``hg``: this process
imports nothing but the standard library's basics, hands the server its arguments, environment,
working directory and its standard input, output and error themselves (file descriptors passed
over a Unix socket), forwards the signals it gets (Ctrl-C; a resized terminal, which the app
redraws for) and exits with the command's status. The child runs the very same code as this
process would, in the user's environment and terminal, so its output, exit status, files and
errors are the same.

When no server answers, the command runs here (as fast as its imports allow) and a server is
started in the background for the next command; it stops after ten idle minutes. A server
belongs to one user, one interpreter and one state of the code: its socket's name is a
fingerprint of them, so an edited or upgraded workbench gets a fresh server. Commands that may
ask for a secret at a hidden prompt (``env set``), run for long (publish, serve, simulate) or are
asked for help always run here. ``WORKBENCH_COMMAND_SERVER=0`` turns the server off.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    import socket
    from typing import BinaryIO

# Only os and sys above: a command that runs here (`--help`, for one) pays for nothing more.
# What talking to a server needs is imported when there is a server to talk to.

SERVED_COMMANDS = frozenset({"invoke", "tool", "versions", "deprecate", "history", "search", "paths"})
"""Quick, non-interactive commands people repeat: these run on the command server (the app too,
in a terminal)."""
ROOT_OPTIONS_WITH_VALUES = frozenset({"--home", "--org", "--remote"})
STARTUP_ENVIRONMENT = frozenset({"ESCDELAY", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONUTF8", "PYTHONHASHSEED"})
SWITCH_OFF = frozenset({"0", "false", "no", "off"})
ANSWER_SECONDS = 10.0  # how long a server may take to fork the command's child before it is given up on
MAX_SOCKET_PATH = 100  # bytes; a Unix socket's path holds at most 107


def served_command(argv: list[str]) -> str | None:
    """The command if the server may run it (``"app"`` for the app): a served command, no
    request for help; the app only in a terminal."""
    if os.environ.get("WORKBENCH_COMMAND_SERVER", "").strip().lower() in SWITCH_OFF:
        return None
    if any(arg in ("-h", "--help", "--version") for arg in argv):
        return None
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ROOT_OPTIONS_WITH_VALUES:
            skip = True
        elif not arg.startswith("-"):
            return arg if arg in SERVED_COMMANDS else None
    return "app" if all(os.isatty(fd) for fd in (0, 1, 2)) else None


def fingerprint() -> str:
    """What a command server must share with this process to run its commands: the user, the
    interpreter, where modules come from, and every source file of the workbench as it is now."""
    package = os.path.dirname(os.path.abspath(__file__))
    # sys.path less its first entry (the script's directory, or the current one), which the
    # server, started with -P, does not have
    parts = [str(os.getuid()), sys.executable, sys.version, *(sys.path if sys.flags.safe_path else sys.path[1:])]
    # read once, as the interpreter starts (the locale) or Textual is imported (before any command)
    parts += sorted(f"{name}={value}" for name, value in os.environ.items() if name.startswith("TEXTUAL_") or name in STARTUP_ENVIRONMENT)
    pending = [package]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        pending.append(entry.path)
                elif entry.name.endswith(".py"):
                    stat = entry.stat()
                    parts.append(f"{entry.path}:{stat.st_mtime_ns}:{stat.st_size}")
    parts.sort()
    import zlib

    text = "\n".join(parts).encode()
    return f"{zlib.crc32(text):08x}{zlib.adler32(text):08x}"


def socket_path(key: str) -> str:
    """Where the server for ``key`` listens: in this user's directory of the temp dir."""
    base = next((os.environ[name] for name in ("TMPDIR", "TEMP", "TMP") if os.path.isdir(os.environ.get(name, ""))), "/tmp")
    return os.path.join(base, f"workbench-commands-{os.getuid()}", f"{key}.sock")


def run_on_server(path: str, key: str, argv: list[str]) -> int | None:
    """Run the command in a child of the server at ``path``; its exit status, or None if no
    server took it (then nothing of it ran)."""
    import json
    import socket
    import struct

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(ANSWER_SECONDS)
        sock.connect(path)
        if not same_user(sock):
            raise ConnectionRefusedError("never hand this terminal and environment to another user's process")
        request = json.dumps({"key": key, "argv": ["workbench", *argv], "env": dict(os.environ), "cwd": os.getcwd(), "umask": _umask()}).encode()
        socket.send_fds(sock, [struct.pack("!I", len(request))], [0, 1, 2])
        sock.sendall(request)
        answers = sock.makefile("rb")
        first = answers.readline().split()
        if len(first) != 2 or first[0] != b"pid":
            raise ConnectionRefusedError("refused (another state of the code) or gone")
        child = int(first[1])
        sock.settimeout(None)
        sock.sendall(b"go\n")  # only now does the child run the command
    except (OSError, ValueError):
        sock.close()
        return None
    return _wait(sock, answers, child)


def _wait(sock: socket.socket, answers: BinaryIO, child: int) -> int:
    """Forward signals to the child until it says how it ended."""
    import signal

    received: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        received.append(signum)
        try:
            os.kill(child, signum)
        except OSError:
            pass

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGWINCH):  # SIGWINCH: the app redraws
        signal.signal(signum, forward)
    try:
        for line in answers:
            words = line.split()
            if len(words) == 2 and words[0] == b"exit":
                return int(words[1])
    finally:
        sock.close()
    ended = [signum for signum in received if signum != signal.SIGWINCH]
    return 128 + ended[-1] if ended else 1  # the child died without saying: killed


def start_server(path: str, key: str) -> None:
    """Start a command server in the background, for the next command (this one does not wait)."""
    import subprocess

    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}  # a command's settings come with it
    subprocess.Popen(
        [sys.executable, "-P", "-m", "workbench.cli.command_server", path, key],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
        env=env,
        cwd="/",
    )


def run_in_terminal(path: str, key: str, argv: list[str]) -> int | None:
    """The app on the server: the terminal's settings are put back as they were however the
    app ends (it changes them while it runs, and restores them itself when it can)."""
    import termios

    try:
        saved = termios.tcgetattr(0)
    except termios.error:
        return None
    try:
        return run_on_server(path, key, argv)
    finally:
        try:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
        except termios.error:
            pass


def same_user(sock: socket.socket) -> bool:
    """Whether the process at the other end of the socket runs as this user."""
    import socket
    import struct

    _pid, uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    return bool(uid == os.getuid())


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def main() -> None:
    """Run `workbench ARGS`: on the command server when it may and one answers, else here. Ctrl-C
    at any moment, even while the command is still being loaded, ends it as `error: aborted`."""
    try:
        _main(sys.argv[1:])
    except KeyboardInterrupt:
        sys.stderr.write("error: aborted\n")
        sys.exit(1)


def _main(argv: list[str]) -> None:
    if served_command(argv):
        key = fingerprint()
        path = socket_path(key)
        if len(path.encode()) <= MAX_SOCKET_PATH:
            code = run_in_terminal(path, key, argv) if served_command(argv) == "app" else run_on_server(path, key, argv)
            if code is not None:
                sys.exit(code)
            try:
                start_server(path, key)
            except OSError:
                pass  # no server this time: the command runs here all the same
    from workbench.cli import main as run_here

    run_here(argv)
