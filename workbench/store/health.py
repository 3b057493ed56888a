"""The health of a data directory: does every file load, does the catalog agree with the log, does
every secret reference resolve, and what would ``workbench repair`` do about what does not.

Checking changes nothing (it reads; it does not even keep damaged lines aside). Each finding
names the part, says what was found, and for a problem either names the repair step that fixes
it (``action``, carried out by :mod:`workbench.store.repair`) or says what only the user can do.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import DataDamaged
from workbench.store import documents
from workbench.store.catalog import SCHEMA_VERSION
from workbench.store.directory import DataDirectory
from workbench.store.generations import Generations
from workbench.store.invocations import InvocationLog
from workbench.store.locks import LockBusy

MODE_OWNER_ONLY = 0o600


@dataclass
class Finding:
    """One thing the check found. ``action`` (with ``params``) is the repair step for a problem;
    a problem without one is for the user (``repair`` says what to do)."""

    part: str
    healthy: bool
    found: str
    repair: str | None = None
    action: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"part": self.part, "healthy": self.healthy, "found": self.found, "repair": self.repair}


@dataclass
class HealthReport:
    """Everything the check found, in the order repair would act on it."""

    home: Path
    findings: list[Finding]

    @property
    def healthy(self) -> bool:
        return all(finding.healthy for finding in self.findings)

    @property
    def problems(self) -> list[Finding]:
        return [finding for finding in self.findings if not finding.healthy]

    def to_dict(self) -> dict[str, Any]:
        return {"home": str(self.home), "healthy": self.healthy, "findings": [f.to_dict() for f in self.findings]}


def describe_tables(tables: dict[str, Any]) -> str:
    """"3 tools, 2 versions, 4 variables (1 secret)" for a metadata document."""
    variables = [v for v in (tables.get("envvars") or {}).values() if v.get("deleted_at") is None]
    secret = sum(1 for v in variables if v.get("is_secret"))
    return f"{len(tables.get('tools') or {})} tools, {len(tables.get('versions') or {})} versions, {len(variables)} variables ({secret} secret)"


def describe_values(values: dict[str, str]) -> str:
    return f"{len(values)} secret value{'' if len(values) == 1 else 's'}"


def _check_document(d: DataDirectory, generations: Generations, check: documents.Check, describe: Any, findings: list[Finding]) -> Any | None:
    """Check one generational file; returns its document as it is, or as repair would restore it."""
    part = d.relative(generations.live)
    try:
        value = generations.load_live(check)
    except DataDamaged as damage:
        candidate = generations.newest_good(check)
        keep = f"keep the damaged file aside in {d.relative(d.quarantine.directory)}/" if generations.live.exists() else "nothing to keep aside"
        if candidate is None:
            repair = f"no kept copy loads: {keep} and start {part} empty (what it held must be entered again)"
            findings.append(Finding(part, False, f"damaged: {damage.problem}", repair, "restore", {"file": part}))
            return {}
        generation, restored = candidate
        repair = f"restore the copy saved {generation.saved_at:%Y-%m-%d %H:%M:%S} UTC (generation {generation.number}: {describe(restored)}); {keep}"
        findings.append(Finding(part, False, f"damaged: {damage.problem}", repair, "restore", {"file": part}))
        return restored
    if value is None:
        findings.append(Finding(part, True, "not created yet"))
        return None
    copies = generations.all()
    good = sum(1 for copy in copies if _loads(copy.path, check))
    findings.append(Finding(part, True, f"loads: {describe(value)}; {len(copies)} cop{'y' if len(copies) == 1 else 'ies'} kept for repair ({good} load)"))
    return value


def _loads(path: Path, check: documents.Check) -> bool:
    try:
        return documents.load(path, check) is not None
    except DataDamaged:
        return False


def _check_secrets_mode(d: DataDirectory, findings: list[Finding]) -> None:
    path = d.secrets.path
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        return
    if mode != MODE_OWNER_ONLY:
        findings.append(Finding(d.relative(path), False, f"readable beyond its owner (mode {mode:o})", "make it owner-only (mode 600)", "chmod", {"file": d.relative(path)}))


def _check_references(d: DataDirectory, tables: dict[str, Any] | None, values: dict[str, str] | None, findings: list[Finding]) -> None:
    """Every live secret variable's reference must have a value."""
    tables, values = tables or {}, values or {}
    missing = [
        v for v in (tables.get("envvars") or {}).values()
        if v.get("deleted_at") is None and v.get("secret_ref") and v["secret_ref"] not in values
    ]
    if not missing:
        return
    kept = d.secrets.kept_values(v["secret_ref"] for v in missing)
    for variable in missing:
        tool = next((t for t in (tables.get("tools") or {}).values() if t.get("id") == variable.get("tool_id")), {})
        label = f"variable {variable.get('name')} of tool {tool.get('name', variable.get('tool_id'))}"
        if variable["secret_ref"] in kept:
            findings.append(Finding("secrets.json", False, f"{label} refers to a secret value that is missing", "restore the value from a kept copy of secrets.json", "restore_secret", {"ref": variable["secret_ref"]}))
        else:
            command = f"workbench env set {tool.get('name', '<tool>')} {variable.get('name')} --secret --org {tool.get('org_id', '<org>')}"
            findings.append(Finding("secrets.json", False, f"{label} refers to a secret value that is missing, and no kept copy holds it", f"only you can: set it again with `{command}` (it asks for the value)"))


@dataclass
class _LogScan:
    """What the log holds: per segment, the id of each valid record line by (offset, length)."""

    records: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)


def _check_log(d: DataDirectory, findings: list[Finding]) -> _LogScan:
    log: InvocationLog = d.log
    scan = _LogScan()
    known = d.quarantine.keys()
    per_segment: list[Finding] = []
    totals: Counter[str] = Counter()
    for segment in log.segments():
        lines: dict[tuple[int, int], str] = {}
        fresh: list[tuple[int, bytes, str]] = []
        end = 0
        for line in log.scan(segment):
            problem = line.problem or log.problem(line.record)
            if problem:
                if d.quarantine.key(segment.name, line.offset, line.raw) in known:
                    totals["kept"] += 1
                else:
                    fresh.append((line.offset, line.raw, problem))
            else:
                lines[(line.offset, len(line.raw))] = line.record["id"]  # type: ignore[index]
            end = line.end
        scan.records[segment.name] = lines
        size = scan.sizes[segment.name] = segment.stat().st_size
        totals["records"] += len(lines)
        part = d.relative(segment)
        if fresh:
            first = fresh[0]
            per_segment.append(Finding(part, False, f"{len(fresh)} damaged line(s), first at byte {first[0]:,}: {first[2]}", f"keep them aside in {d.relative(d.quarantine.lines_path)} (readers skip them; the log is not changed)", "keep_lines", {"segment": segment.name}))
        if size > end and not _being_written(log):
            per_segment.append(Finding(part, False, f"ends in an unfinished line of {size - end:,} bytes at byte {end:,} (a writer was killed, or the file was cut)", "keep the fragment aside and end its line, so the next record starts on a fresh one", "end_torn_line", {"segment": segment.name, "offset": end}))
    summary = f"{len(scan.records)} segments, {totals['records']:,} records"
    if totals["kept"]:
        summary += f"; {totals['kept']} damaged line(s) skipped, kept aside in {d.relative(d.quarantine.lines_path)}"
    findings.append(Finding(d.relative(log.directory) + "/", True, summary))
    findings.extend(per_segment)
    return scan


def _being_written(log: InvocationLog) -> bool:
    try:
        with log.append_lock(blocking=False):
            return False
    except LockBusy:
        return True


def _check_catalog(d: DataDirectory, scan: _LogScan, findings: list[Finding]) -> None:
    part = d.relative(d.catalog_path)
    if not d.catalog_path.exists():
        findings.append(Finding(part, True, "not built yet; the next read builds it from the log"))
        return
    rebuild = "rebuild it from the log (the search index follows)"
    try:
        conn = sqlite3.connect(d.catalog_path, timeout=10)
        try:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise sqlite3.DatabaseError(verdict)
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            synced = dict(conn.execute("SELECT name, synced FROM segments").fetchall())
            rows = conn.execute("SELECT segment, offset, length, id FROM invocations").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        findings.append(Finding(part, False, f"damaged: {error}", rebuild, "replace_catalog"))
        return
    if meta.get("schema") != str(SCHEMA_VERSION):
        findings.append(Finding(part, False, f"schema {meta.get('schema')}, this workbench uses {SCHEMA_VERSION}", rebuild, "replace_catalog"))
        return
    wrong = [(segment, offset) for segment, offset, length, id_ in rows if scan.records.get(segment, {}).get((offset, length)) != id_]
    cataloged = {id_ for *_, id_ in rows}
    pending = 0
    for name, lines in scan.records.items():
        upto = synced.get(name, 0)
        if upto > scan.sizes[name]:
            wrong.append((name, upto))
        for (offset, _), id_ in lines.items():
            if offset >= upto:
                pending += 1
            elif id_ not in cataloged:
                wrong.append((name, offset))
    wrong += [(name, 0) for name in synced if name not in scan.records]
    note = meta.get("rebuilt")
    if wrong:
        segment, offset = sorted(wrong)[0]
        findings.append(Finding(part, False, f"does not match the log at {len(wrong)} place(s), first {segment} at byte {offset:,}", rebuild, "rebuild_catalog"))
        return
    found = f"agrees with the log: {len(rows):,} records"
    if pending:
        found += f", {pending:,} more not cataloged yet (the next read adds them)"
    if note:
        found += f"; last rebuilt by itself: {_rebuild_note(note)}"
    findings.append(Finding(part, True, found))


def _rebuild_note(note: str) -> str:
    try:
        value = json.loads(note)
        return f"{value['at'][:19].replace('T', ' ')} UTC, because {value['reason']}"
    except (ValueError, KeyError, TypeError):
        return note


def _check_quarantine(d: DataDirectory, findings: list[Finding]) -> None:
    lines, files = d.quarantine.lines(), d.quarantine.kept_files()
    if lines or files:
        what = [f"{len(lines)} damaged log line(s)"] if lines else []
        what += [f"{len(files)} damaged file(s) ({', '.join(p.name for p in files)})"] if files else []
        findings.append(Finding(d.relative(d.quarantine.directory) + "/", True, f"kept aside: {'; '.join(what)}; delete them once you no longer need them"))


def check(d: DataDirectory) -> HealthReport:
    """Check the whole data directory; changes nothing."""
    findings: list[Finding] = []
    tables = _check_document(d, d.metadata.generations, documents.check_tables, describe_tables, findings)
    values = _check_document(d, d.secrets.generations, documents.check_string_map, describe_values, findings)
    _check_secrets_mode(d, findings)
    _check_references(d, tables, values, findings)
    scan = _check_log(d, findings)
    _check_catalog(d, scan, findings)
    _check_quarantine(d, findings)
    return HealthReport(d.home, findings)
