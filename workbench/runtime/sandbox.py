"""The process runtime's sandbox: bubblewrap (Linux), on the host side.

A sandbox sees only the system's programs and libraries (read-only), the Python runtime
(read-only), the build's code, environment and shim (read-only), a tmpfs ``/tmp``, a fresh
``/proc`` and ``/dev``, and its worker's socket directory; never the data directory, the
workbench's repository or another build. It has its own user, mount, PID, IPC, UTS and cgroup
namespaces, and a network namespace without any network unless the worker serves regular
invocations. Its processes have no capabilities and, when the workbench runs as root, run as
``nobody`` (see :mod:`sandbox_launch`). Inside, the worker seals every run again
(:mod:`shim_seal`).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from workbench.runtime.base import TOOL_ROOT, copy_shim

LAUNCHER = Path(__file__).with_name("sandbox_launch.py")
NOBODY = 65534
ROOT_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")  # symlinks into /usr on merged-/usr systems
ETC_FILES = (  # what programs need from /etc to run and, with network, to resolve names and verify TLS
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "nsswitch.conf", "host.conf",
    "gai.conf", "hosts", "resolv.conf", "protocols", "services", "ssl", "ca-certificates", "mime.types",
)


def sandbox_problem() -> str | None:
    """Why tools cannot be sandboxed here, without running anything; None if bubblewrap is there."""
    if not sys.platform.startswith("linux"):
        return f"the process sandbox needs Linux and bubblewrap; this is {sys.platform}"
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    return None


def sandbox_user() -> tuple[int, int]:
    """Who a sandbox's processes are: the workbench's own user, or nobody when that is root."""
    return (NOBODY, NOBODY) if os.getuid() == 0 else (os.getuid(), os.getgid())


@dataclass(frozen=True)
class Mount:
    """A host directory that appears in the sandbox at ``target``."""

    source: Path
    target: str
    writable: bool = False


def python_mounts(prefix: str) -> list[Mount]:
    """The Python runtime a build's environment was made from, unless /usr already holds it."""
    real = os.path.realpath(prefix)
    return [] if (real + "/").startswith("/usr/") else [Mount(Path(real), real)]


def write_identity(directory: Path) -> Path:
    """passwd and group files naming the sandbox's user (programs ask who they are)."""
    uid, gid = sandbox_user()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "passwd").write_text(f"root:x:0:0:root:/root:/usr/sbin/nologin\ntool:x:{uid}:{gid}:tool:/tmp:/usr/sbin/nologin\n")
    (directory / "group").write_text(f"root:x:0:\ntool:x:{gid}:\n")
    return directory


class Bubblewrap:
    """Builds and starts bubblewrap command lines for one data directory's sandboxes."""

    def __init__(self, stage: Path) -> None:
        self.executable = shutil.which("bwrap") or "bwrap"
        self.stage = stage  # an empty directory the root launcher mounts its staging tmpfs on

    def arguments(self, mounts: list[Mount], identity: Path, network: bool, chdir: str) -> tuple[list[str], list[Path]]:
        """bubblewrap's options, and the host directories they name (staged when run as root)."""
        uid, gid = sandbox_user()
        sources: list[Path] = []
        staged = os.getuid() == 0

        def source(path: Path) -> str:
            if not staged:
                return str(path)
            sources.append(path)
            return f"{self.stage}/{len(sources) - 1}"

        args = ["--unshare-all", "--new-session", "--as-pid-1", "--uid", str(uid), "--gid", str(gid)]
        if network:
            args.append("--share-net")
        args += ["--ro-bind", "/usr", "/usr"]
        for link in ROOT_LINKS:
            if os.path.islink(link):
                args += ["--symlink", os.readlink(link), link]
            elif os.path.isdir(link):
                args += ["--ro-bind", link, link]
        for name in ETC_FILES:
            if os.path.exists(f"/etc/{name}"):
                args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
        for name in ("passwd", "group"):
            args += ["--ro-bind", f"{source(identity)}/{name}", f"/etc/{name}"]
        for mount in mounts:
            args += ["--bind" if mount.writable else "--ro-bind", source(mount.source), mount.target]
        args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--remount-ro", "/", "--chdir", chdir]
        return args, sources

    def command(self, args: list[str], sources: list[Path], program: list[str], info_fd: int | None = None) -> list[str]:
        """The command that starts the sandbox (through the launcher when the workbench is root);
        bubblewrap writes the host pid of the sandbox's PID 1 to ``info_fd``."""
        argv = [self.executable, *(["--info-fd", str(info_fd)] if info_fd is not None else []), *args, "--", *program]
        if os.getuid() != 0:
            return argv
        self.stage.mkdir(parents=True, exist_ok=True)
        uid, gid = sandbox_user()
        spec = {"stage": str(self.stage), "sources": [str(s) for s in sources], "uid": uid, "gid": gid, "argv": argv}
        return [sys.executable, "-I", "-S", str(LAUNCHER), json.dumps(spec)]

    def start(self, args: list[str], sources: list[Path], program: list[str], env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], int | None]:
        """Start a long-lived sandbox in its own session (it outlives this process, as a warm
        container does); returns it and the host pid of its PID 1, if bubblewrap said."""
        info_r, info_w = os.pipe()
        argv = self.command(args, sources, program, info_w)
        with open(log, "wb") as log_file:
            process = subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, start_new_session=True, pass_fds=(info_w,)
            )
        os.close(info_w)
        info = b""
        deadline = time.monotonic() + 15
        while select.select([info_r], [], [], max(0.0, deadline - time.monotonic()))[0]:
            chunk = os.read(info_r, 4096)
            if not chunk:
                break
            info += chunk
        os.close(info_r)
        try:
            return process, int(json.loads(info)["child-pid"])
        except (ValueError, KeyError):
            return process, None

    def run(self, argv: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
        """Run a short-lived sandbox to completion (the doctor's probe)."""
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@dataclass(frozen=True)
class ProbeResult:
    """What a probe found: does a sandbox start, can a run be sealed in it, and if not, why."""

    sandbox: bool
    sealed: bool
    problem: str | None = None


def probe(python_prefix: str = sys.base_prefix) -> ProbeResult:
    """Start a real sandbox and seal a run inside it (everything it needs lives in a temp dir)."""
    problem = sandbox_problem()
    if problem:
        return ProbeResult(False, False, problem)
    with tempfile.TemporaryDirectory(prefix="workbench-probe-") as tmp:
        shim = Path(tmp) / "shim"
        copy_shim(shim)
        os.chmod(tmp, 0o755)
        identity = write_identity(Path(tmp) / "etc")
        bwrap = Bubblewrap(Path(tmp) / "stage")
        mounts = [*python_mounts(python_prefix), Mount(shim, f"{TOOL_ROOT}/shim")]
        args, sources = bwrap.arguments(mounts, identity, network=False, chdir="/")
        code = f"import sys; sys.path.insert(0, '{TOOL_ROOT}/shim'); import _workbench_seal as s; print(s.probe() or 'sealed')"
        python = os.path.join(python_prefix, "bin", "python3")
        try:
            result = bwrap.run(bwrap.command(args, sources, [python, "-I", "-c", code]), {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, 30)
        except subprocess.TimeoutExpired:
            return ProbeResult(False, False, "the sandbox did not answer within 30 s")
    if result.returncode != 0:
        return ProbeResult(False, False, (result.stderr.strip().splitlines() or [f"bubblewrap exited with code {result.returncode}"])[-1][:300])
    said = result.stdout.strip()
    return ProbeResult(True, True) if said == "sealed" else ProbeResult(True, False, f"a run cannot be sealed inside the sandbox: {said[:300]}")
