"""Damaged files and bad stored values, tried as a user would: the real `workbench` command in a
subprocess, the service, and the HTTP API. No traceback reaches the user, no 500, nothing already
stored is lost, and each case ends in a clear refusal or a repaired, healthy data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from workbench.core.service import ToolService
from workbench.errors import BadRequest, DataDamaged, ServiceUnavailable
from workbench.settings import Settings
from workbench.store.directory import DataDirectory
from workbench.store.health import check
from workbench.synthetic import generate_invocations

from conftest import tool_environment


def workbench(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess; no run may show the user a traceback."""
    env = {**os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_RUNTIME": "process", "WORKBENCH_ORG": "acme"}
    result = subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, env=env, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr  # (stdout may list recorded stack traces)
    return result


def fresh(home: Path) -> ToolService:
    """A service as a new process would make it."""
    return ToolService(Settings(home=home, runtime="process"))


def healthy(home: Path) -> bool:
    report = check(DataDirectory.at(Settings(home=home).paths()))
    assert report.healthy, [f.to_dict() for f in report.problems]
    return True


def tool_names(service: ToolService) -> list[str]:
    return sorted(t.name for t in service.list_all_tools("acme"))


def with_tools_and_secret(home: Path) -> ToolService:
    service = fresh(home)
    for name in ("alpha", "beta", "gamma"):
        service.create_tool("acme", {"name": name, "description": f"the {name} tool", "tags": {}})
    tool_id = service.find_tool("acme", "alpha").id
    service.modify_envvars("acme", tool_id, {"inserts": [{"name": "TOKEN", "value": "s3cret-value", "is_secret": True}, {"name": "PLAIN", "value": "p", "is_secret": False}]})
    return service


DAMAGE = {
    "emptied": lambda path: path.write_bytes(b""),
    "cut short": lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),
    "garbage": lambda path: path.write_bytes(os.urandom(300)),
    "wrong shape": lambda path: path.write_bytes(b"[1, 2]"),
    "deleted": lambda path: path.unlink(),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_metadata_file_is_never_written_over_and_repair_restores_it(home: Path, damage: str) -> None:
    with_tools_and_secret(home)
    metadata = home / "metadata.json"
    DAMAGE[damage](metadata)
    damaged = metadata.read_bytes() if metadata.exists() else None

    refused = workbench(home, "tool", "create", "delta", "--description", "d")
    assert refused.returncode == 1
    assert "metadata.json is damaged" in refused.stderr and "workbench repair" in refused.stderr
    assert (metadata.read_bytes() if metadata.exists() else None) == damaged  # nothing written over it
    assert workbench(home, "tool", "list").returncode == 1

    doctor = workbench(home, "doctor")
    assert "NEEDS REPAIR" in doctor.stdout and "restore the copy saved" in doctor.stdout and "3 tools" in doctor.stdout

    repaired = workbench(home, "repair", "--yes")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "restored metadata.json, which was damaged" in repaired.stdout and "from the copy saved" in repaired.stdout and "3 tools, 0 versions, 2 variables (1 secret)" in repaired.stdout
    if damaged is not None:
        kept = next((home / "quarantine").glob("metadata.json.damaged-*"))
        assert kept.read_bytes() == damaged and f"kept as quarantine/{kept.name}" in repaired.stdout
    assert "the data directory is healthy" in repaired.stdout and healthy(home)
    service = fresh(home)
    assert tool_names(service) == ["alpha", "beta", "gamma"]
    plain, secret = tool_environment(service, service.find_tool("acme", "alpha").id)
    assert plain == {"PLAIN": "p"} and secret == {"TOKEN": "s3cret-value"}
    assert workbench(home, "tool", "create", "delta", "--description", "d").returncode == 0


def test_a_brand_new_data_directory_needs_no_file(home: Path) -> None:
    assert workbench(home, "tool", "list", "--json").returncode == 0
    assert workbench(home, "tool", "create", "first", "--description", "d").returncode == 0
    assert healthy(home)


@pytest.mark.parametrize("damage", ["cut short", "garbage"])
def test_damaged_secrets_refuse_a_change_before_any_part_is_saved(home: Path, damage: str) -> None:
    with_tools_and_secret(home)
    secrets, metadata = home / "secrets.json", home / "metadata.json"
    DAMAGE[damage](secrets)
    before = metadata.read_bytes()

    refused = workbench(home, "env", "set", "alpha", "OTHER=1")  # a plain variable: no secret in it
    assert refused.returncode == 1 and "secrets.json is damaged" in refused.stderr
    assert metadata.read_bytes() == before  # all or nothing: the plain variable was not saved either
    assert workbench(home, "tool", "list").returncode == 0  # what needs no secret still works

    repaired = workbench(home, "repair", "--yes")
    assert repaired.returncode == 0 and "restored secrets.json" in repaired.stdout and "1 secret value" in repaired.stdout
    assert healthy(home)
    assert (secrets.stat().st_mode & 0o777) == 0o600
    service = fresh(home)
    assert tool_environment(service, service.find_tool("acme", "alpha").id)[1] == {"TOKEN": "s3cret-value"}
    assert workbench(home, "env", "set", "alpha", "OTHER=1").returncode == 0


def test_kept_copies_are_bounded_owner_only_and_never_ahead_of_the_live_file(home: Path) -> None:
    service = fresh(home)
    for index in range(14):
        service.create_tool("acme", {"name": f"t_{index}", "description": "d", "tags": {}})
    kept = service.workspace.metadata.store.generations.all()
    assert len(kept) == 10 and [g.number for g in kept] == list(range(14, 4, -1))
    assert kept[0].path.read_bytes() == (home / "metadata.json").read_bytes()
    service.modify_envvars("acme", service.find_tool("acme", "t_0").id, {"inserts": [{"name": "K", "value": "v", "is_secret": True}]})
    assert all((g.path.stat().st_mode & 0o777) == 0o600 for g in service.workspace.secrets.generations.all())


def catalog_history(home: Path, count: int) -> ToolService:
    service = fresh(home)
    generate_invocations(service, "acme", count, days=5)
    assert service.count_invocations("acme") == count
    service.workspace.catalog.close()
    return service


@pytest.mark.parametrize("damage", ["cut short", "garbage", "emptied"])
def test_a_damaged_catalog_is_rebuilt_from_the_log(home: Path, damage: str) -> None:
    catalog_history(home, 2000)
    DAMAGE[damage](home / "index" / "catalog.sqlite")
    listed = workbench(home, "history", "--limit", "3")
    assert listed.returncode == 0 and "of 2,000" in listed.stdout
    assert healthy(home)


def cut_last_segment(home: Path, count: int = 100) -> Path:
    segment = sorted((home / "invocations").glob("*.jsonl"))[-1]
    with segment.open("r+b") as handle:
        handle.truncate(segment.stat().st_size - count)
    return segment


def test_a_cut_tail_keeps_history_and_search_working_and_repair_ends_the_line(home: Path) -> None:
    service = catalog_history(home, 400)
    service.rebuild_index()
    newest = service.list_invocations("acme", {"limit": 1}).tool_invocations[0]
    cut_last_segment(home)

    listed = workbench(home, "history", "--json", "--limit", "100")
    assert listed.returncode == 0, listed.stderr
    ids = [inv["id"] for inv in json.loads(listed.stdout)["tool_invocations"]]
    assert len(ids) == 100 and newest.id not in ids  # the cut record is gone; the rest are listed
    assert "of 399" in workbench(home, "history", "--limit", "1").stdout
    found = workbench(home, "search", "order")
    assert found.returncode == 0 and "hit(s)" in found.stdout

    report = check(DataDirectory.at(Settings(home=home).paths()))
    assert [f.action for f in report.problems] == ["end_torn_line"]
    assert workbench(home, "repair", "--yes").returncode == 0 and healthy(home)
    after = fresh(home)
    after.workspace.invocations.append({**newest.model_dump(mode="json"), "id": "f" * 24}, datetime.now(UTC))
    assert after.count_invocations("acme") == 400  # the next record starts on a fresh line
    fragment = after.workspace.invocations.quarantine.lines()
    assert len(fragment) == 1 and "unfinished line" in fragment[0]["reason"]


def test_garbage_lines_are_skipped_reported_and_kept_aside(home: Path) -> None:
    catalog_history(home, 600)
    segments = sorted((home / "invocations").glob("*.jsonl"))
    wrecked, total = segments[1], 600
    lost = sum(1 for _ in wrecked.open("rb"))
    wrecked.write_bytes(os.urandom(20_000) + b"\n")
    with segments[-1].open("ab") as handle:
        handle.write(b"[1,2]\n" + b'{"id": "no other fields"}\n')

    listed = workbench(home, "history", "--limit", "100")
    assert listed.returncode == 0 and f"of {total - lost:,}" in listed.stdout
    assert workbench(home, "search", "status").returncode == 0
    kept = DataDirectory.at(Settings(home=home).paths()).quarantine.lines()
    reasons = " | ".join(entry["reason"] for entry in kept)
    assert "list, not a record" in reasons and "org_id is missing" in reasons
    assert "not UTF-8" in reasons or "not valid JSON" in reasons
    assert {entry["segment"] for entry in kept} == {wrecked.name, segments[-1].name}
    doctor = workbench(home, "doctor")
    assert "kept aside" in doctor.stdout and "data directory health: healthy" in doctor.stdout


def test_a_line_changed_in_place_unseen_by_the_sync_rebuilds_the_catalog(home: Path) -> None:
    service = catalog_history(home, 300)
    segment = sorted((home / "invocations").glob("*.jsonl"))[0]
    stat = segment.stat()
    data = segment.read_bytes()
    first = data.index(b"\n")
    segment.write_bytes(b"#" * first + data[first:])  # same size, and the mtime put back below
    os.utime(segment, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(ServiceUnavailable, match="rebuilt from the log"):
        for token in range(0, 300, 100):
            service.list_invocations("acme", {"limit": 100, "continuation_token": token})
    assert service.count_invocations("acme") == 299
    assert len(service.list_invocations("acme", {"limit": 100, "continuation_token": 200}).tool_invocations) == 99
    assert healthy(home)


def test_a_missing_metadata_file_with_kept_copies_is_damage_not_a_new_start(home: Path) -> None:
    service = with_tools_and_secret(home)
    (home / "metadata.json").unlink()
    with pytest.raises(DataDamaged, match="it is missing, yet copies of it are kept"):
        service.create_tool("acme", {"name": "delta", "description": "d", "tags": {}})
    assert not (home / "metadata.json").exists()


def test_repair_asks_first_and_json_without_yes_only_plans(home: Path) -> None:
    with_tools_and_secret(home)
    DAMAGE["emptied"](home / "metadata.json")
    declined = subprocess.run([sys.executable, "-m", "workbench", "repair"], input="n\n", capture_output=True, text=True, env={**os.environ, "WORKBENCH_HOME": str(home)})
    assert declined.returncode == 1 and "Repair now?" in declined.stdout and "aborted" in declined.stderr
    planned = workbench(home, "repair", "--json")
    assert planned.returncode == 1 and [step["part"] for step in json.loads(planned.stdout)["plan"]] == ["metadata.json"]
    assert (home / "metadata.json").read_bytes() == b""  # neither changed anything
    done = json.loads(workbench(home, "repair", "--json", "--yes").stdout)
    assert done["after"]["healthy"] and done["left"] == [] and done["done"][0].startswith("restored metadata.json")
    assert workbench(home, "repair").stdout.strip() == "the data directory is healthy; nothing to repair"


def test_repair_killed_at_any_moment_is_finished_by_the_next_one(home: Path) -> None:
    import random
    import signal
    import time

    service = with_tools_and_secret(home)
    generate_invocations(service, "acme", 20_000, days=3)
    assert service.count_invocations("acme") == 20_000
    service.workspace.catalog.close()
    expected_tools = tool_names(service)
    metadata, secrets = home / "metadata.json", home / "secrets.json"
    DAMAGE["garbage"](metadata)
    DAMAGE["emptied"](secrets)
    DAMAGE["garbage"](home / "index" / "catalog.sqlite")
    cut_last_segment(home)
    damaged = {metadata: metadata.read_bytes(), secrets: b""}
    env = {**os.environ, "WORKBENCH_HOME": str(home)}
    rng = random.Random(11)
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, "-m", "workbench", "repair", "--yes"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.6 + rng.random() * 2.4)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for path, before in damaged.items():  # each file is the damaged one or a whole restored one
            data = path.read_bytes()
            assert data == before or isinstance(json.loads(data), dict)
    final = workbench(home, "repair", "--yes")
    assert final.returncode == 0, final.stdout + final.stderr
    assert healthy(home)
    service = fresh(home)
    assert tool_names(service) == expected_tools
    assert tool_environment(service, service.find_tool("acme", "alpha").id)[1] == {"TOKEN": "s3cret-value"}
    assert service.count_invocations("acme") == 19_999  # only the record that was cut is gone
    assert len(list((home / "quarantine").glob("metadata.json.damaged-*"))) == 1


# -- bad values stored before the door refused them, read back through every face ---------------

from test_server import api, client  # noqa: E402,F401  (the real-HTTP fixtures)

SURROGATE, NUL = "odd\ud800one", "nul\x00here"


def store_bad_values(service: ToolService) -> str:
    """A tool, a variable and an invocation holding a lone surrogate and a NUL, written straight
    into the stores as an older workbench (without the door's check) would have."""
    from tinydb import Query

    tool_id = service.create_tool("acme", {"name": "odd", "description": "fine", "tags": {}}).id
    with service.workspace.metadata.store.write() as db:  # raw: as an older workbench wrote it
        db.table("tools").update({"description": f"{SURROGATE} {NUL}"}, Query().id == tool_id)
        stamp = service.workspace.clock().isoformat()
        db.table("envvars").insert({"org_id": "acme", "tool_id": tool_id, "name": "ODD", "is_secret": False, "created_at": stamp, "updated_at": stamp, "deleted_at": None, "value": f"{SURROGATE}{NUL}", "secret_ref": None})
    generate_invocations(service, "acme", 3, days=1)
    record = next(iter(service.workspace.invocations))
    record = {
        **record,
        "id": "0" * 24,
        "tool_id": tool_id,
        "inputs": {**record["inputs"], "input_parameters": {"name": SURROGATE}},
        "invocation_status": {"succeeded": True, "output": f"quixotic {SURROGATE} {NUL}"},
        "logs": [f"INFO {SURROGATE}"],
    }
    service.workspace.invocations.append(record, datetime.now(UTC))
    return tool_id


def test_stored_lone_surrogates_and_nuls_read_back_through_service_cli_and_http(service: ToolService, client, home: Path) -> None:
    import time

    tool_id = store_bad_values(service)
    replaced = "odd\ufffdone"

    listed = service.list_invocations("acme", {"tool_id": [tool_id], "version": ["*"]}).tool_invocations
    assert listed[0].inputs["input_parameters"] == {"name": replaced} and NUL in listed[0].invocation_status.output
    listed[0].model_dump_json()  # serializable: no surrogate left
    assert service.get_tool("acme", tool_id).description == f"{replaced} {NUL}"
    assert [v.name for v in service.list_envvars("acme", tool_id)] == ["ODD"]
    with service.workspace.metadata.read() as view:
        assert [v.value for v in view.envvars.live("acme", tool_id)] == [f"{replaced}{NUL}"]
    with pytest.raises(BadRequest, match="ODD of this tool hold a NUL character.*set them again"):
        tool_environment(service, tool_id)  # what a run would get: refused, named, with the way out

    response = client.get("/v1/acme/tool/invocation", params=[("tool_id", tool_id), ("version", "*")])
    assert response.status_code == 200 and response.json()["tool_invocations"][0]["inputs"]["input_parameters"]["name"] == replaced
    tools = client.get("/v1/acme/tool/", params={"limit": 20})
    assert tools.status_code == 200 and {t["id"]: t["description"] for t in tools.json()["tools"]}[tool_id] == f"{replaced} {NUL}"
    found = None
    for _ in range(60):  # indexed in the background within moments
        found = client.get("/v1/acme/tool/invocation/search", params={"query": "quixotic", "query_against": "invocation_status.output"})
        if found.status_code == 200 and found.json()["tool_invocations"]:
            break
        time.sleep(0.1)
    assert found.status_code == 200 and found.json()["tool_invocations"][0]["id"] == "0" * 24

    for args in (["history"], ["history", "--json"], ["search", "*"], ["search", "quixotic"], ["tool", "list"], ["env", "list", "odd"], ["doctor"]):
        result = workbench(home, *args)
        assert result.returncode == 0, (args, result.stderr)
    assert replaced in workbench(home, "search", "quixotic").stdout
    assert healthy(home)


def test_damaged_metadata_is_a_503_over_http_that_names_the_way_out(service: ToolService, client, home: Path) -> None:
    service.create_tool("acme", {"name": "kept", "description": "d", "tags": {}})
    DAMAGE["cut short"](home / "metadata.json")
    for response in (client.get("/v1/acme/tool/"), client.post("/v1/acme/tool/", json={"name": "lost", "description": "d", "tags": {}})):
        assert response.status_code == 503, response.text
        body = response.json()
        assert body["code"] == "data_damaged" and "metadata.json is damaged" in body["detail"] and "workbench repair" in body["detail"]
        assert "Retry-After" not in response.headers


def test_a_secret_value_missing_from_a_readable_file_comes_back_from_a_kept_copy_or_is_left_to_the_user(home: Path) -> None:
    with_tools_and_secret(home)
    (home / "secrets.json").write_text("{}")  # loads, but the value the variable refers to is gone
    os.chmod(home / "secrets.json", 0o644)
    doctor = workbench(home, "doctor")
    assert "variable TOKEN of tool alpha refers to a secret value that is missing" in doctor.stdout and "mode 644" in doctor.stdout
    repaired = workbench(home, "repair", "--yes")
    assert repaired.returncode == 0 and "restored 1 missing secret value(s)" in repaired.stdout and healthy(home)
    service = fresh(home)
    assert tool_environment(service, service.find_tool("acme", "alpha").id)[1] == {"TOKEN": "s3cret-value"}

    (home / "secrets.json").write_text("{}")
    for copy in service.workspace.secrets.generations.all():
        copy.path.unlink()
    left = workbench(home, "repair", "--yes")
    assert left.returncode == 1 and "left for you" in left.stdout
    assert "workbench env set alpha TOKEN --secret --org acme" in left.stdout
    env = {**os.environ, "WORKBENCH_HOME": str(home)}
    again = subprocess.run([sys.executable, "-m", "workbench", "env", "set", "alpha", "TOKEN", "--secret", "--org", "acme"], input="new-value\n", capture_output=True, text=True, env=env)
    assert again.returncode == 0 and healthy(home)  # what the user was told to do makes it whole


def test_a_record_check_given_to_the_log_decides_for_catalog_readers_and_health_alike(home: Path) -> None:
    from workbench.core.context import invocation_problem  # the check the service passes: its own model
    from workbench.core.models import ToolInvocationInstance
    from workbench.store.catalog import InvocationCatalog

    service = fresh(home)
    generate_invocations(service, "acme", 20, days=1)
    with service.workspace.invocations.segments()[-1].open("ab") as handle:
        handle.write(json.dumps({"id": "a" * 24, "org_id": "acme", "created_at": "2026-01-01T00:00:00Z", "tool_id": "b" * 24}).encode() + b"\n")
    directory = DataDirectory.at(service.workspace.paths, record_check=invocation_problem)
    catalog = InvocationCatalog(directory.catalog_path, directory.log)
    catalog.sync()
    assert catalog.count() == 20
    records = catalog.read([row[1:] for row in catalog.rows_after(0, 100)])
    assert all(ToolInvocationInstance.model_validate(r) for r in records)
    kept = directory.quarantine.lines()
    assert len(kept) == 1 and "it is not a valid invocation (updated_at: Field required)" in kept[0]["reason"]
    report = check(directory)
    assert report.healthy, [f.to_dict() for f in report.problems]
