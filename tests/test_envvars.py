"""Environment variables: all-or-nothing changes, the spec's 400/409 rules, secrets kept apart."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from workbench.errors import BadRequest, Conflict, ValidationFailed
from workbench.core.service import ToolService

from conftest import seed_version, tool_environment

SECRET = "s3cr3t-VALUE-do-not-leak"


def insert(name: str, value: str = "v", secret: bool = False) -> dict:
    return {"name": name, "value": value, "is_secret": secret}


@pytest.fixture
def tool_id(make_tool) -> str:
    return make_tool("vars")


def state(service: ToolService, tool_id: str):
    return tool_environment(service, tool_id)


def test_insert_update_delete_in_one_request(service: ToolService, tool_id: str) -> None:
    service.modify_envvars("acme", tool_id, {"inserts": [insert("A", "1"), insert("B", "2"), insert("TOKEN", SECRET, True)]})
    tool = service.get_tool("acme", tool_id)
    assert tool.envvars == ["A", "B"] and tool.secret_envvars == ["TOKEN"]
    service.modify_envvars("acme", tool_id, {"updates": [{"name": "A", "value": "10"}, {"name": "TOKEN", "value": "new-secret"}], "deletes": [{"name": "B"}], "inserts": [insert("C", "3")]})
    assert state(service, tool_id) == ({"A": "10", "C": "3"}, {"TOKEN": "new-secret"})


@pytest.mark.parametrize("name", ["lower", "WITH-DASH", "DIGIT1", ""])
def test_names_must_be_upper_case_letters_and_underscores(service: ToolService, tool_id: str, name: str) -> None:
    with pytest.raises(ValidationFailed):
        service.modify_envvars("acme", tool_id, {"inserts": [insert(name)]})


def test_a_failing_request_changes_nothing(service: ToolService, tool_id: str) -> None:
    service.modify_envvars("acme", tool_id, {"inserts": [insert("KEEP", "1"), insert("TOKEN", SECRET, True)]})
    before = (state(service, tool_id), service.workspace.paths.metadata.read_bytes(), service.workspace.paths.secrets.read_bytes())
    with pytest.raises(BadRequest, match="MISSING"):
        service.modify_envvars("acme", tool_id, {"inserts": [insert("NEW", "x"), insert("NEW_SECRET", "y", True)], "updates": [{"name": "KEEP", "value": "2"}], "deletes": [{"name": "MISSING"}]})
    after = (state(service, tool_id), service.workspace.paths.metadata.read_bytes(), service.workspace.paths.secrets.read_bytes())
    assert after == before


def test_inserting_an_existing_name_is_409(service: ToolService, tool_id: str) -> None:
    service.modify_envvars("acme", tool_id, {"inserts": [insert("A")]})
    with pytest.raises(Conflict, match="A already exists") as error:
        service.modify_envvars("acme", tool_id, {"inserts": [insert("A")]})
    assert error.value.status == 409


def test_a_recently_deleted_name_is_reserved(service: ToolService, tool_id: str, clock) -> None:
    service.modify_envvars("acme", tool_id, {"inserts": [insert("A", secret=True)]})
    service.modify_envvars("acme", tool_id, {"deletes": [{"name": "A"}]})
    with pytest.raises(Conflict, match="deleted recently"):
        service.modify_envvars("acme", tool_id, {"inserts": [insert("A")]})
    clock.advance(days=7, seconds=1)  # past the default recovery window
    service.modify_envvars("acme", tool_id, {"inserts": [insert("A", "back")]})
    assert state(service, tool_id) == ({"A": "back"}, {})


@pytest.mark.parametrize("change", ["updates", "deletes"])
def test_updating_or_deleting_a_missing_name_is_400(service: ToolService, tool_id: str, change: str) -> None:
    item = {"name": "GHOST", "value": "x"} if change == "updates" else {"name": "GHOST"}
    with pytest.raises(BadRequest, match="GHOST does not exist") as error:
        service.modify_envvars("acme", tool_id, {change: [item]})
    assert error.value.status == 400


def test_a_name_twice_in_one_request_is_400(service: ToolService, tool_id: str) -> None:
    service.modify_envvars("acme", tool_id, {"inserts": [insert("A")]})
    with pytest.raises(BadRequest, match="more than once"):
        service.modify_envvars("acme", tool_id, {"updates": [{"name": "A", "value": "1"}], "deletes": [{"name": "A"}]})


def test_a_variable_required_by_a_live_version_cannot_be_deleted(service: ToolService, tool_id: str) -> None:
    service.modify_envvars("acme", tool_id, {"inserts": [insert("URL"), insert("TOKEN", SECRET, True)]})
    seed_version(service, tool_id, requires=["URL"], secret_requires=["TOKEN"])
    for name in ("URL", "TOKEN"):
        with pytest.raises(BadRequest, match=rf"{name} is required by version\(s\) 1.0.0"):
            service.modify_envvars("acme", tool_id, {"deletes": [{"name": name}]})
    infos = {i.name: i.required_by for i in service.list_envvars("acme", tool_id)}
    assert infos == {"TOKEN": ("1.0.0",), "URL": ("1.0.0",)}
    service.deprecate_versions("acme", tool_id, ">=0")
    service.modify_envvars("acme", tool_id, {"deletes": [{"name": "URL"}, {"name": "TOKEN"}]})
    assert service.get_tool("acme", tool_id).envvars == []


def test_listings_show_names_never_values(service: ToolService, tool_id: str) -> None:
    service.modify_envvars("acme", tool_id, {"inserts": [insert("PLAIN", "plain-value"), insert("TOKEN", SECRET, True)]})
    shown = json.dumps([service.get_tool("acme", tool_id).model_dump(mode="json"), service.list_tools("acme").model_dump(mode="json"), [vars(i) for i in service.list_envvars("acme", tool_id)]], default=str)
    assert "PLAIN" in shown and "TOKEN" in shown
    assert SECRET not in shown and "plain-value" not in shown


def test_secret_values_live_only_in_the_owner_only_secrets_file(service: ToolService, tool_id: str, home: Path) -> None:
    service.modify_envvars("acme", tool_id, {"inserts": [insert("TOKEN", SECRET, True)]})
    holders = [p for p in home.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    kept_copies = [g.path for g in service.workspace.secrets.generations.all()]  # for `workbench repair`
    assert sorted(holders) == sorted([service.workspace.paths.secrets, *kept_copies])
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in holders)


def test_replaced_and_deleted_secret_values_are_dropped(service: ToolService, tool_id: str) -> None:
    service.modify_envvars("acme", tool_id, {"inserts": [insert("TOKEN", "first-secret", True), insert("OTHER", "other-secret", True)]})
    service.modify_envvars("acme", tool_id, {"updates": [{"name": "TOKEN", "value": "second-secret"}], "deletes": [{"name": "OTHER"}]})
    stored = service.workspace.paths.secrets.read_text()
    assert "second-secret" in stored
    assert "first-secret" not in stored and "other-secret" not in stored
    kept_copies = "".join(g.path.read_text() for g in service.workspace.secrets.generations.all())
    assert "first-secret" not in kept_copies and "other-secret" not in kept_copies


def test_a_secret_value_is_never_echoed_in_a_validation_error(service: ToolService, tool_id: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        service.modify_envvars("acme", tool_id, {"inserts": [{"name": "bad", "value": SECRET, "is_secret": True}]})
    assert SECRET not in error.value.message and SECRET not in json.dumps(error.value.to_body())
