"""Dependencies for a container image, resolved on the host: the container never needs network.

The image's Python (version, implementation, glibc, machine) is probed once per image. Wheels that
match it are downloaded into the wheelhouse, then installed with ``pip --target`` into a
site-packages folder cached by (dependencies, image Python): the same dependencies give the same
folder, byte for byte, so Docker's layer cache reuses the layer that copies it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import StageFailed

PROBE = (
    "import json, platform, sys, sysconfig;"
    "print(json.dumps({'version': '%d.%d' % sys.version_info[:2], 'impl': sys.implementation.name,"
    " 'libc': platform.libc_ver()[1], 'machine': platform.machine()}))"
)


@dataclass(frozen=True)
class ImagePython:
    """What a wheel must match to run in the image."""

    version: str  # "3.11"
    impl: str  # "cpython"
    libc: str  # glibc version, "2.36"
    machine: str  # "x86_64"

    @property
    def tag(self) -> str:
        return f"{self.impl}{self.version}-{self.machine}-glibc{self.libc}"

    def pip_target_args(self) -> list[str]:
        """pip options that select wheels for this Python instead of the host's."""
        major, minor = (int(p) for p in self.libc.split(".")[:2]) if self.libc else (2, 17)
        platforms = [f"manylinux_{major}_{m}_{self.machine}" for m in range(minor, 4, -1)]
        platforms += [f"manylinux2014_{self.machine}", f"manylinux2010_{self.machine}", f"manylinux1_{self.machine}"]
        args = ["--only-binary=:all:", "--python-version", self.version, "--implementation", "cp" if self.impl == "cpython" else "py"]
        for platform in platforms:
            args += ["--platform", platform]
        return args


def parse_probe(output: str) -> ImagePython:
    data = json.loads(output.strip().splitlines()[-1])
    return ImagePython(data["version"], data["impl"], data["libc"], data["machine"])


def install_for_image(
    dependencies: list[str], python: ImagePython, wheelhouse: Path, cache: Path, log: Callable[[str], None]
) -> Path:
    """A site-packages folder with ``dependencies`` for ``python``; built once, then reused."""
    key = hashlib.sha256(json.dumps([sorted(dependencies), python.tag]).encode()).hexdigest()[:20]
    target = cache / key / "site-packages"
    if target.is_dir():
        log(f"dependencies for {python.tag} reused from the cache")
        return target
    wheelhouse.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    staging = cache / f"{key}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    install = [*pip, "install", "--quiet", "--no-compile", "--no-index", "--find-links", str(wheelhouse), "--target", str(staging), *python.pip_target_args(), *dependencies]
    if subprocess.run(install, capture_output=True, text=True).returncode != 0:
        log(f"downloading wheels of {', '.join(dependencies)} for {python.tag}")
        download = subprocess.run([*pip, "download", "--quiet", "--dest", str(wheelhouse), *python.pip_target_args(), *dependencies], capture_output=True, text=True)
        if download.returncode != 0:
            raise StageFailed(
                "build",
                f"could not fetch wheels of {', '.join(dependencies)} for the image's Python ({python.tag}); "
                "the Docker runtime installs binary wheels only",
                download.stdout + download.stderr,
            )
        shutil.rmtree(staging, ignore_errors=True)
        second = subprocess.run(install, capture_output=True, text=True)
        if second.returncode != 0:
            raise StageFailed("build", f"could not install {', '.join(dependencies)}", second.stdout + second.stderr)
    staging.mkdir(parents=True, exist_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging.rename(target)
    log(f"installed {', '.join(dependencies)} for {python.tag}")
    return target
