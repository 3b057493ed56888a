"""Sealing one run inside a warm worker (Linux; standard library only, it runs in the sandbox).

Each run gets its own user, mount, PID and IPC namespaces, created by an unprivileged process:

* a fresh tmpfs on ``/tmp`` (the run's cwd, HOME and TMPDIR) and on ``/dev/shm``, gone with the
  run's mount namespace; the worker's own writable places (its socket directory, the message
  queue mount) are covered by an empty read-only tmpfs, so a run cannot leave anything there;
* PID namespace: the run's first process is PID 1 there, and when it exits the kernel kills
  every process left in the namespace: detached, double-forked and ``setsid`` children included;
* IPC namespace: System V and POSIX IPC objects die with the run;
* its own user namespace, so one run cannot ptrace or read ``/proc`` of another run or of the
  worker, and so the process-count limit counts this run's processes only;
* no capabilities and ``no_new_privs`` before any tool code runs; rlimits on address space,
  processes, CPU time and core dumps.

Nothing here is a secret: the rules are the same for every run and every tool.
"""

from __future__ import annotations

import ctypes
import math
import os
import resource

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV = 0x1, 0x2, 0x4
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
LINUX_CAPABILITY_VERSION_3 = 0x20080522

SCRATCH = "/tmp"
PRIVATE_TMPFS = ("/dev/shm",)  # writable and shared by the worker: each run gets its own
HIDDEN = ("/run/workbench", "/dev/mqueue")  # the worker's socket directory; the worker's queues

_libc = ctypes.CDLL(None, use_errno=True)


class SealError(Exception):
    """This kernel or container does not allow a run to be sealed (says which step failed)."""


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise SealError(f"{what}: {os.strerror(errno)}")


def _mount_tmpfs(target: str, options: str, flags: int = 0) -> None:
    _check(_libc.mount(b"tmpfs", target.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | flags, options.encode()), f"mount a tmpfs on {target}")


def enter_run_namespaces(scratch_bytes: int) -> None:
    """Move this (single-threaded) process into fresh namespaces with a fresh scratch; the next
    process it forks is PID 1 of the run."""
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC), "unshare user, mount, pid and ipc namespaces")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)
    _mount_tmpfs(SCRATCH, f"size={scratch_bytes},mode=0700")
    for path in PRIVATE_TMPFS:
        if os.path.isdir(path):
            _mount_tmpfs(path, f"size={scratch_bytes},mode=0700")
    for path in HIDDEN:
        if os.path.isdir(path):
            _mount_tmpfs(path, "size=4k,mode=0500", MS_RDONLY)


def die_with_parent() -> None:
    """Be killed when the parent dies (a cancelled run's supervisor is killed by the worker).
    Had the parent died before this call, the run still ends: the worker closes the request
    pipe of every spare it gives up, and a run that reads an empty request exits."""
    _check(_libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_privileges() -> None:
    """No capabilities (the run's own user namespace granted all of them), and no way back."""
    header = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")


def apply_limits(memory_bytes: int, processes: int, cpu_seconds: float) -> None:
    """rlimits of the run's processes (a fork inherits them): address space, process count (in
    the run's own user namespace), CPU seconds (a backstop behind the wall-clock timeout)."""
    cpu = max(1, math.ceil(cpu_seconds) + 1)
    for which, value in (
        (resource.RLIMIT_AS, memory_bytes),
        (resource.RLIMIT_NPROC, processes),
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_CORE, 0),
    ):
        if value > 0:
            resource.setrlimit(which, (value, value))
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")  # under memory pressure the kernel kills a run, never the worker
    except OSError:
        pass


def probe(scratch_bytes: int = 1 << 20) -> str | None:
    """Can a run be sealed here? None if so, else the step that failed."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        message = b""
        try:
            enter_run_namespaces(scratch_bytes)
            child = os.fork()
            if child == 0:
                drop_privileges()
                os._exit(0)
            _, status = os.waitpid(child, 0)
            if status != 0:
                message = b"could not drop capabilities in the run's namespace"
        except BaseException as error:
            message = str(error).encode()[:500]
        os.write(write_fd, message)
        os._exit(0)
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 4096):
        chunks.append(chunk)
    os.close(read_fd)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode(errors="replace") or None
