"""`workbench new`: a complete tool project that passes its own checks.

The scaffold's identity is a hash of its template files; every project made from it records the
hash in ``[tool.workbench] scaffold``, and every version published from it carries that hash as
``amigo_scaffold_commit_hash``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from string import Template

from workbench.errors import BadRequest, Conflict
from workbench.names import TOOL_NAME_PATTERN

TEMPLATE = Path(__file__).with_name("scaffold_template")
NAME = re.compile(TOOL_NAME_PATTERN)


def template_files() -> list[Path]:
    return sorted(p for p in TEMPLATE.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def scaffold_hash() -> str:
    """A 40-hex identity of the current scaffold, like a commit hash."""
    digest = hashlib.sha1()
    for path in template_files():
        digest.update(path.relative_to(TEMPLATE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def create_project(name: str, destination: Path, description: str | None = None) -> Path:
    """Write a new tool project named ``name`` at ``destination`` (which must not exist yet)."""
    if not NAME.match(name):
        raise BadRequest(f"invalid tool name {name!r}: use lowercase letters, digits and _ (^[a-z0-9_]+$)")
    if destination.exists() and any(destination.iterdir()):
        raise Conflict(f"{destination} already exists and is not empty; choose another --path")
    values = {
        "name": name,
        "description": description or f"The {name} tool.",
        "scaffold": scaffold_hash(),
    }
    for path in template_files():
        target = destination / path.relative_to(TEMPLATE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(Template(path.read_text()).safe_substitute(values))
    return destination


def scaffold_archive(name: str = "my_tool") -> bytes:
    """A fresh project from the scaffold, as a .tar.gz with the project as its top folder."""
    import io
    import tarfile
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        project = create_project(name, Path(tmp) / name)
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            archive.add(project, arcname=name)
    return buffer.getvalue()
