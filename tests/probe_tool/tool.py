"""A tool written to misbehave. Each action tries one way out of a sealed run and reports, as
JSON, what it managed; the tests assert that every attempt failed (tests/test_sandbox.py)."""

import json
import os
import socket
import sys
import time

MARK = "original code"
WRITABLE_PLACES = ("cwd", "HOME", "TMPDIR", "/tmp", "/dev/shm", "/var/tmp", "/run/workbench", "/opt/tool", "/")


def _place(where: str) -> str:
    return {"cwd": os.getcwd(), "HOME": os.environ.get("HOME", "/nonexistent"), "TMPDIR": os.environ.get("TMPDIR", "/nonexistent")}.get(where, where)


def _attempt(action) -> str:
    try:
        result = action()
        return "ok" if result is None else str(result)
    except BaseException as error:  # the point is to report, not to fail
        return type(error).__name__


def whoami(arg, ctx):
    status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\t" in line)
    interfaces = sorted(line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:])
    return {
        "mark": MARK, "uid": os.getuid(), "caps": status.get("CapEff", "").strip(), "cwd": os.getcwd(),
        "home": os.environ.get("HOME"), "tmpdir": os.environ.get("TMPDIR"), "cwd_entries": sorted(os.listdir(".")),
        "root_entries": sorted(os.listdir("/")), "interfaces": interfaces, "pid": os.getpid(),
        "secret_matches": os.environ.get("PROBE_SECRET") == arg, "mode": ctx.invocation_mode,
    }


def rewrite(arg, ctx):
    """Change its own code and environment, so that the next run would run something else."""
    targets = [__file__, os.path.join(os.path.dirname(__file__), "planted.py"), os.path.join(sys.prefix, "planted.pth")]
    targets += [os.path.join(path, "planted.py") for path in sys.path if path and os.path.isdir(path)]
    return {path: _attempt(lambda p=path: open(p, "a").write("\nMARK = 'tampered'\n") and None) for path in targets}


def leave(arg, ctx):
    """Leave a file in every writable place it can find, and a POSIX shared memory segment."""
    results = {where: _attempt(lambda w=where: open(os.path.join(_place(w), arg), "w").write("left behind") and None) for where in WRITABLE_PLACES}
    from multiprocessing import shared_memory

    def shm():
        segment = shared_memory.SharedMemory(name=arg + '-shm', create=True, size=4096)
        segment.buf[:4] = b"left"
        segment.close()  # not unlinked: it would outlive a process
        from multiprocessing import resource_tracker
        resource_tracker.unregister(segment._name, "shared_memory")

    results["shared memory"] = _attempt(shm)
    return results


def look(arg, ctx):
    """What is left of an earlier run's files?"""
    found = [where for where in WRITABLE_PLACES if os.path.exists(os.path.join(_place(where), arg))]
    from multiprocessing import shared_memory

    try:
        shared_memory.SharedMemory(name=arg + '-shm').close()
        found.append("shared memory")
    except (FileNotFoundError, OSError):
        pass
    return {"found": found, "cwd_entries": sorted(os.listdir("."))}


def read(arg, ctx):
    """Read what it must never see: each path's first bytes, or the error."""
    def first_bytes(path):
        if os.path.isdir(path):
            return "listed " + ",".join(sorted(os.listdir(path))[:5])
        with open(path, "rb") as handle:
            return "read " + handle.read(60).decode(errors="replace")
    return {path: _attempt(lambda p=path: first_bytes(p)) for path in arg}


def connect(arg, ctx):
    host, port = arg
    def go():
        with socket.create_connection((host, port), timeout=2) as conn:
            conn.sendall(b"hello from the sandbox\n")
            return "connected"
    return _attempt(go)


def fork_bomb(arg, ctx):
    """Fork sleeping children until the system says no."""
    forked, error = 0, None
    while forked < 5000:
        try:
            pid = os.fork()
        except OSError as failure:
            error = type(failure).__name__
            break
        if pid == 0:
            try:
                os.execv("/bin/sleep", ["sleep", arg])
            finally:
                os._exit(1)
        forked += 1
    return {"forked": forked, "error": error}


def hog(arg, ctx):
    block = bytearray(arg * 1024 * 1024)
    for index in range(0, len(block), 4096):
        block[index] = 1
    return "survived"


def spin(arg, ctx):
    while True:
        pass


def flood(arg, ctx):
    for _ in range(arg // 1000):
        print("x" * 999)
    os.write(1, b"y" * arg)  # straight to the file descriptor, around the shim
    return "printed"


def big(arg, ctx):
    return "z" * arg


def detach(arg, ctx):
    """Start a sleep that leaves the run's session and process tree (double fork + setsid)."""
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", arg])
        os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(0.2)
    return "detached"


ACTIONS = {f.__name__: f for f in (whoami, rewrite, leave, look, read, connect, fork_bomb, hog, spin, flood, big, detach)}


def run(params, ctx):
    return json.dumps(ACTIONS[params["action"]](params.get("arg"), ctx))
