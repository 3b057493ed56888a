"""Start bubblewrap as an unprivileged user when the workbench runs as root (standard library only;
run as ``python -I -S sandbox_launch.py SPEC``, where SPEC is JSON).

bubblewrap run by root keeps the sandbox's processes root outside it, and the kernel does not
count root's processes against RLIMIT_NPROC, so a fork bomb would be unbounded. So bubblewrap runs
as an unprivileged user (nobody), unprivileged user namespaces doing its work. That user cannot
reach the data directory (mode 0700) or a Python under root's home, so this launcher first makes a
private mount namespace in which each source directory is bind-mounted under ``stage`` (a tmpfs),
then drops to the user and execs bubblewrap, which binds the staged directories into the sandbox.
The staging exists only in this process's mount namespace: nothing changes on the host.

SPEC: {"stage": DIR, "sources": [DIR, ...], "uid": N, "gid": N, "argv": [bwrap, ...]}; source i
appears at ``stage/i``.
"""

import ctypes
import json
import os
import sys

CLONE_NEWNS = 0x00020000
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 1 << 18


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        sys.stderr.write(f"sandbox launcher: {what}: {os.strerror(errno)}\n")
        os._exit(70)


def main() -> None:
    """Stage the sources, drop to the user, exec bubblewrap (never returns)."""
    spec = json.loads(sys.argv[1])
    libc = ctypes.CDLL(None, use_errno=True)
    stage = spec["stage"]
    _check(libc.unshare(CLONE_NEWNS), "unshare the mount namespace")
    _check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make mounts private")
    _check(libc.mount(b"tmpfs", stage.encode(), b"tmpfs", 0, b"mode=0755,size=64k"), f"mount a tmpfs on {stage}")
    for index, source in enumerate(spec["sources"]):
        target = f"{stage}/{index}"
        os.mkdir(target)
        _check(libc.mount(source.encode(), target.encode(), None, MS_BIND | MS_REC, None), f"bind {source}")
    os.setgroups([])
    os.setgid(spec["gid"])
    os.setuid(spec["uid"])
    os.execv(spec["argv"][0], spec["argv"])


if __name__ == "__main__":
    main()
