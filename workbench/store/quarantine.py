"""Where damaged data is kept aside, never dropped: ``quarantine/`` in the data directory.

* Damaged invocation-log lines (a line that is not a record: garbage, cut short and closed by a
  later append, a JSON value of the wrong shape) are copied, byte for byte, with their segment,
  offset and the reason, into ``quarantine/invocation-lines.jsonl``. The log itself is never
  rewritten; readers skip the line and the copy says what was skipped.
* Damaged files that ``workbench repair`` replaces are moved here first, under their name plus
  ``.damaged-<UTC time>``.

Everything here may hold what the data directory holds (inputs, secret values), so files are
created with mode 0600.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.store.atomic import append_lines
from workbench.store.locks import FileLock

LINES_FILE = "invocation-lines.jsonl"


def stamp(moment: datetime | None = None) -> str:
    """A UTC time usable in a file name, e.g. 20260504T120000Z."""
    return (moment or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


class Quarantine:
    """The kept-aside damaged lines and files of one data directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.lines_path = directory / LINES_FILE
        self._lock_path = directory / ".lock"

    def keep_lines(self, segment: str, damaged: list[tuple[int, bytes, str]]) -> int:
        """Copy damaged log lines, given as (offset, bytes, reason), here unless they already
        are; returns how many were new."""
        if not damaged:
            return 0
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with FileLock(self._lock_path):
            known = self.keys()
            entries = []
            for offset, raw, reason in damaged:
                key = self.key(segment, offset, raw)
                if key in known:
                    continue
                known.add(key)
                entries.append(
                    {
                        "segment": segment,
                        "offset": offset,
                        "length": len(raw),
                        "reason": reason,
                        "kept_at": datetime.now(UTC).isoformat(),
                        "sha256": key[2],
                        "preview": raw[:200].decode("utf-8", "replace"),
                        "raw_base64": base64.b64encode(raw).decode(),
                    }
                )
            if entries:
                append_lines(self.lines_path, b"".join(json.dumps(e, sort_keys=True).encode() + b"\n" for e in entries))
        return len(entries)

    @staticmethod
    def key(segment: str, offset: int, raw: bytes) -> tuple[str, int, str]:
        """What tells one kept line from another: where it was, and its bytes."""
        return segment, offset, hashlib.sha256(raw).hexdigest()

    def keys(self) -> set[tuple[str, int, str]]:
        """The keys of every kept line."""
        return {(e.get("segment"), e.get("offset"), e.get("sha256")) for e in self.lines()}  # type: ignore[misc]

    def lines(self) -> list[dict[str, Any]]:
        """The kept-aside lines, oldest first (an unreadable entry here is passed over)."""
        entries = []
        try:
            with self.lines_path.open("rb") as handle:
                for raw in handle:
                    try:
                        entry = json.loads(raw)
                    except ValueError:
                        continue
                    if isinstance(entry, dict):
                        entries.append(entry)
        except FileNotFoundError:
            pass
        return entries

    def keep_file(self, path: Path) -> Path:
        """Move a damaged file here (a hard link, then the caller replaces the original
        atomically, so the original name never goes missing); returns where it is kept."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        for existing in self.directory.glob(f"{path.name}.damaged-*"):
            if path.exists() and os.path.samefile(existing, path):
                return existing  # a repair killed after keeping it aside: kept already
        kept = self.directory / f"{path.name}.damaged-{stamp()}"
        serial = 1
        while kept.exists():
            serial += 1
            kept = self.directory / f"{path.name}.damaged-{stamp()}-{serial}"
        if path.is_dir():  # nothing can be restored over a directory: move it aside whole
            os.rename(path, kept)
            return kept
        try:
            os.link(path, kept)
        except OSError:  # a file system without hard links
            shutil.copy2(path, kept)
        return kept

    def kept_files(self) -> list[Path]:
        """Damaged files kept aside, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.iterdir() if ".damaged-" in p.name)
