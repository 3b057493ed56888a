"""Make this machine able to run tools sealed: `workbench runtime prepare` (and `doctor --fix`).

Three steps, each skipped when already done: bubblewrap (the process runtime's sandbox), a Docker
daemon, and the base image. As root on Debian/Ubuntu it installs what is missing from the
distribution's packages (``apt-get``), starts ``dockerd``, and makes the default base image from
Debian packages (debootstrap into a folder, then ``docker import``), so no container registry is
needed. Otherwise each step says what to do.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workbench.settings import DEFAULT_BASE_IMAGE, Settings

Say = Callable[[str], None]


@dataclass
class Step:
    """One preparation step: ``ok`` (already so), ``done`` (made so now), or ``failed``/``skipped``
    with what to do instead."""

    name: str
    status: str
    detail: str


def _root() -> bool:
    return os.getuid() == 0


def _apt_install(packages: list[str], say: Say) -> str | None:
    """Install Debian packages; None if that worked, else why not."""
    if not _root():
        return f"run as root, or: sudo apt-get install {' '.join(packages)}"
    if shutil.which("apt-get") is None:
        return f"install {' '.join(packages)} with this system's package manager"
    say(f"installing {' '.join(packages)} (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        result = subprocess.run(command, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            return f"{' '.join(command)} failed: {(result.stderr.strip().splitlines() or ['?'])[-1]}"
    return None


# Kernel switches that keep unprivileged user namespaces (which bubblewrap and sealed runs use)
# off: Debian's, and Ubuntu's AppArmor restriction. The value that lets them work.
USERNS_SWITCHES = {
    "/proc/sys/kernel/unprivileged_userns_clone": "1",
    "/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "0",
}


def _allow_user_namespaces(say: Say) -> str | None:
    """Turn on unprivileged user namespaces where a kernel switch keeps them off (root only)."""
    for path, allowed in USERNS_SWITCHES.items():
        switch = Path(path)
        if not switch.exists() or switch.read_text().strip() == allowed:
            continue
        if not _root():
            return f"unprivileged user namespaces are off: as root, sysctl -w {switch.name}={allowed}"
        say(f"allowing unprivileged user namespaces (sysctl {switch.name}={allowed})")
        switch.write_text(allowed)
    return None


def ensure_bubblewrap(say: Say) -> Step:
    """bubblewrap, the process runtime's sandbox: installed if missing (root, apt), with the user
    namespaces it needs allowed."""
    installed = bool(shutil.which("bwrap"))
    problem = None if installed else _apt_install(["bubblewrap"], say)
    problem = problem or _allow_user_namespaces(say)
    if problem:
        return Step("bubblewrap", "failed", problem)
    return Step("bubblewrap", "ok" if installed else "done", shutil.which("bwrap") or "installed")


def _daemon_answers() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0 if shutil.which("docker") else False


def ensure_docker(say: Say, wait: float = 60.0) -> Step:
    """A Docker daemon that answers: installed and started if missing (root, apt)."""
    if _daemon_answers():
        return Step("docker daemon", "ok", "answers")
    if not _root():
        return Step("docker daemon", "failed", "start Docker (sudo systemctl start docker), or run this as root to install and start it")
    if shutil.which("dockerd") is None:
        problem = _apt_install(["docker.io"], say)
        if problem:
            return Step("docker daemon", "failed", problem)
    log = Path(tempfile.gettempdir()) / "workbench-dockerd.log"
    say(f"starting dockerd (log: {log})")
    with open(log, "ab") as handle:
        subprocess.Popen(["dockerd"], stdout=handle, stderr=handle, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if _daemon_answers():
            return Step("docker daemon", "done", "started dockerd")
        time.sleep(1)
    tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
    return Step("docker daemon", "failed", f"dockerd did not answer within {wait:g} s" + (f": {tail[0][:200]}" if tail else ""))


def _image_present(image: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0


def debian_mirror(suite: str, etc: Path = Path("/etc")) -> str | None:
    """The Debian mirror this machine's apt uses for ``suite`` (deb822 or one-line sources)."""
    deb822 = etc / "apt/sources.list.d/debian.sources"
    if deb822.exists():
        for stanza in deb822.read_text().split("\n\n"):
            fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
            if suite in fields.get("Suites", "").split() and fields.get("URIs"):
                return fields["URIs"].split()[0]
    listing = etc / "apt/sources.list"
    if listing.exists():
        for line in listing.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and not parts[1].startswith("[") and parts[2] == suite:
                return parts[1]
    return None


def build_base_image(image: str, say: Say, suite: str = "bookworm") -> Step:
    """A minimal Debian with python3, from Debian packages: debootstrap, then docker import."""
    if shutil.which("debootstrap") is None:
        problem = _apt_install(["debootstrap"], say)
        if problem:
            return Step("base image", "failed", problem)
    mirror = os.environ.get("WORKBENCH_DEBIAN_MIRROR") or debian_mirror(suite)
    if not mirror:
        return Step("base image", "failed", f"no apt source for {suite} found; set WORKBENCH_DEBIAN_MIRROR to a Debian mirror")
    say(f"making {image}: debootstrap {suite} with python3 (about half a minute)")
    with tempfile.TemporaryDirectory(prefix="workbench-base-") as root:
        result = subprocess.run(["debootstrap", "--variant=minbase", "--include=python3", suite, root, mirror], capture_output=True, text=True)
        if result.returncode != 0:
            return Step("base image", "failed", "debootstrap failed: " + " | ".join(result.stdout.strip().splitlines()[-3:]))
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in Path(root, leftover).glob("*"):
                if path.is_file():
                    path.unlink()
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            ["docker", "import", "--change", "ENV PATH=/usr/local/bin:/usr/bin:/bin", "--change", 'CMD ["python3"]', "-", image],
            stdin=tar.stdout, capture_output=True, text=True,
        )
        tar.wait()
    if imported.returncode != 0:
        return Step("base image", "failed", f"docker import failed: {imported.stderr.strip()[:200]}")
    return Step("base image", "done", f"made {image} from Debian {suite}")


def ensure_base_image(image: str, say: Say) -> Step:
    """The base image: made from Debian packages (the default) or pulled (any other)."""
    if _image_present(image):
        return Step("base image", "ok", f"{image} is present")
    if image.startswith("workbench-base:") or image == DEFAULT_BASE_IMAGE:
        if not _root():
            return Step("base image", "failed", f"run `workbench runtime prepare` as root to make {image} from Debian packages")
        return build_base_image(image, say, suite=image.split(":", 1)[1] if ":" in image else "bookworm")
    say(f"pulling {image}")
    pulled = subprocess.run(["docker", "pull", image], capture_output=True, text=True)
    if pulled.returncode != 0:
        return Step("base image", "failed", f"docker pull {image} failed; use the default {DEFAULT_BASE_IMAGE} (made here) or an image you have")
    return Step("base image", "done", f"pulled {image}")


def prepare(settings: Settings, say: Say = lambda _: None, docker: bool = True) -> list[Step]:
    """Every step, in order; Docker's steps are skipped when ``docker`` is False."""
    steps = [ensure_bubblewrap(say)]
    if not docker:
        return [*steps, Step("docker daemon", "skipped", "not asked for"), Step("base image", "skipped", "not asked for")]
    daemon = ensure_docker(say)
    steps.append(daemon)
    if daemon.status == "failed":
        steps.append(Step("base image", "skipped", "needs a Docker daemon"))
    else:
        steps.append(ensure_base_image(settings.base_image, say))
    return steps
