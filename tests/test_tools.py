"""Tool rules from the spec: create, list (filters, sort, pages), modify, deprecate, org scoping."""

from __future__ import annotations

import re

import pytest

from workbench.errors import Conflict, NotFound, ValidationFailed
from workbench.core.service import ToolService

from conftest import seed_version


def names(response) -> list[str]:
    return [tool.name for tool in response.tools]


class TestCreate:
    def test_returns_a_24_hex_id_and_stores_the_tool(self, service: ToolService) -> None:
        created = service.create_tool("acme", {"name": "lookup_1", "description": "  Looks up.  ", "tags": {"team": "core", "pii": None}})
        assert re.fullmatch(r"[a-f0-9]{24}", created.id)
        tool = service.get_tool("acme", created.id)
        assert (tool.name, tool.description, tool.org_id, tool.deprecated) == ("lookup_1", "Looks up.", "acme", False)
        assert [(t.key, t.value) for t in tool.tags] == [("team", "core"), ("pii", None)]
        assert tool.envvars == [] and tool.secret_envvars == []
        assert tool.creator.org_id == "acme" and tool.creator == tool.updated_by

    @pytest.mark.parametrize("name", ["Hello", "with-dash", "spa ce", "ünï"])
    def test_name_must_match_the_pattern(self, service: ToolService, name: str) -> None:
        with pytest.raises(ValidationFailed, match=r"\^\[a-z0-9_\]\+\$") as error:
            service.create_tool("acme", {"name": name, "description": "d", "tags": {}})
        assert error.value.status == 422 and repr(name) in error.value.message

    def test_name_must_not_be_empty(self, service: ToolService) -> None:
        with pytest.raises(ValidationFailed, match="name: String should have at least 1 character"):
            service.create_tool("acme", {"name": "  ", "description": "d", "tags": {}})

    def test_description_must_not_be_blank(self, service: ToolService) -> None:
        with pytest.raises(ValidationFailed, match="description"):
            service.create_tool("acme", {"name": "x", "description": "   ", "tags": {}})

    @pytest.mark.parametrize("tags", [{"bad:key": "v"}, {"k": "bad-value!"}, {f"k{i}": "v" for i in range(21)}, {" ": "v"}])
    def test_tags_must_be_word_characters_and_at_most_20(self, service: ToolService, tags) -> None:
        with pytest.raises(ValidationFailed, match="tags"):
            service.create_tool("acme", {"name": "x", "description": "d", "tags": tags})

    def test_name_is_unique_among_non_deprecated_tools_of_the_org(self, service: ToolService, make_tool) -> None:
        first = make_tool("dup")
        with pytest.raises(Conflict, match="dup") as error:
            make_tool("dup")
        assert error.value.status == 409
        make_tool("dup", org="other")  # another org may use the name
        service.deprecate_tool("acme", first)
        second = make_tool("dup")  # the name is free again once the tool is deprecated
        assert second != first

    def test_unknown_fields_are_ignored_as_the_hosted_api_does_and_bad_orgs_are_422(self, service: ToolService) -> None:
        created = service.create_tool("acme", {"name": "x", "description": "d", "tags": {}, "colour": "red"})
        assert "colour" not in service.get_tool("acme", created.id).model_dump()
        with pytest.raises(ValidationFailed, match="organization"):
            service.create_tool("../etc", {"name": "x", "description": "d", "tags": {}})


class TestList:
    @pytest.fixture
    def catalog(self, service: ToolService, make_tool) -> dict[str, str]:
        ids = {
            "alpha": make_tool("alpha", tags={"team": "core", "tier": "gold"}),
            "bravo": make_tool("bravo", tags={"team": "edge", "pii": None}),
            "charlie": make_tool("charlie", tags={"team": "core"}),
            "delta": make_tool("delta"),
        }
        service.deprecate_tool("acme", ids["bravo"])
        make_tool("elsewhere", org="other", tags={"team": "core"})
        return ids

    def test_default_lists_the_orgs_tools_in_creation_order(self, service: ToolService, catalog) -> None:
        response = service.list_tools("acme")
        assert names(response) == ["alpha", "bravo", "charlie", "delta"]
        assert response.has_more is False and response.continuation_token is None

    def test_filter_by_ids_and_deprecated(self, service: ToolService, catalog) -> None:
        assert names(service.list_tools("acme", {"id": [catalog["delta"], catalog["alpha"]]})) == ["alpha", "delta"]
        assert names(service.list_tools("acme", {"deprecated": True})) == ["bravo"]
        assert names(service.list_tools("acme", {"deprecated": False})) == ["alpha", "charlie", "delta"]

    def test_invalid_id_is_422(self, service: ToolService, catalog) -> None:
        with pytest.raises(ValidationFailed):
            service.list_tools("acme", {"id": ["not-an-id"]})

    def test_tag_filters(self, service: ToolService, catalog) -> None:
        assert names(service.list_tools("acme", {"tag": ["team:core"]})) == ["alpha", "charlie"]
        assert names(service.list_tools("acme", {"tag": ["team:*"]})) == ["alpha", "bravo", "charlie"]
        assert names(service.list_tools("acme", {"tag": ["pii:"]})) == ["bravo"]  # empty value matches null
        assert names(service.list_tools("acme", {"tag": ["team:core", "tier:gold"]})) == ["alpha"]  # all must match
        assert names(service.list_tools("acme", {"tag": ["team:nobody"]})) == []
        with pytest.raises(ValidationFailed, match="key:value"):
            service.list_tools("acme", {"tag": ["no_colon"]})

    def test_sort_by_one_or_several_keys(self, service: ToolService, catalog) -> None:
        assert names(service.list_tools("acme", {"sort_by": ["-name"]})) == ["delta", "charlie", "bravo", "alpha"]
        assert names(service.list_tools("acme", {"sort_by": ["+deprecated", "-name"]})) == ["delta", "charlie", "alpha", "bravo"]
        assert names(service.list_tools("acme", {"sort_by": ["-deprecated", "+name"]})) == ["bravo", "alpha", "charlie", "delta"]
        with pytest.raises(ValidationFailed, match=r"\+name"):
            service.list_tools("acme", {"sort_by": ["+created"]})

    @pytest.mark.parametrize("limit", [0, 21, -1])
    def test_limit_is_1_to_20(self, service: ToolService, limit: int) -> None:
        with pytest.raises(ValidationFailed, match="limit"):
            service.list_tools("acme", {"limit": limit})

    def test_pages_with_continuation_tokens(self, service: ToolService, catalog) -> None:
        first = service.list_tools("acme", {"limit": 3, "sort_by": ["+name"]})
        assert names(first) == ["alpha", "bravo", "charlie"]
        assert first.has_more and first.continuation_token == 3
        assert first.filter_values is not None
        second = service.list_tools("acme", {"limit": 3, "sort_by": ["+name"], "continuation_token": first.continuation_token})
        assert names(second) == ["delta"] and not second.has_more and second.continuation_token is None
        assert second.filter_values is None  # only the first page carries filter values
        assert names(service.list_tools("acme", {"continuation_token": 99})) == []
        assert names(service.list_tools("acme", {"continuation_token": -1, "sort_by": ["+name"], "limit": 3})) == names(first)  # reads as the start

    def test_filter_values_list_every_tag_of_the_org(self, service: ToolService, catalog) -> None:
        values = service.list_tools("acme", {"tag": ["team:core"]}).filter_values
        assert values.tags == ["pii:", "team:core", "team:edge", "tier:gold"]

    def test_a_listing_never_shows_another_orgs_tools(self, service: ToolService, catalog) -> None:
        assert names(service.list_tools("other")) == ["elsewhere"]
        assert names(service.list_tools("nobody")) == []


class TestModify:
    def test_null_fields_are_left_unchanged(self, service: ToolService, make_tool, clock) -> None:
        tool_id = make_tool("m", tags={"a": "1"})
        before = service.get_tool("acme", tool_id)
        service.modify_tool("acme", tool_id, {"description": "new words", "tags": None}, user_id="bob")
        after = service.get_tool("acme", tool_id)
        assert after.description == "new words" and after.tags == before.tags
        assert after.updated_by.user_id == "bob" and after.updated_at > before.updated_at
        service.modify_tool("acme", tool_id, {"tags": {"b": None}})
        final = service.get_tool("acme", tool_id)
        assert final.description == "new words" and [(t.key, t.value) for t in final.tags] == [("b", None)]

    def test_bad_body_and_unknown_tool(self, service: ToolService, make_tool) -> None:
        tool_id = make_tool("m")
        with pytest.raises(ValidationFailed, match="description"):
            service.modify_tool("acme", tool_id, {"description": ""})
        with pytest.raises(NotFound, match="c" * 24):
            service.modify_tool("acme", "c" * 24, {"description": "x"})
        with pytest.raises(ValidationFailed, match="24 lowercase hex"):
            service.modify_tool("acme", "nope", {"description": "x"})


class TestDeprecate:
    def test_deprecates_the_tool_and_all_its_versions(self, service: ToolService, make_tool) -> None:
        tool_id = make_tool("old")
        for patch in (0, 1):  # versions arrive with publishing; seed two here
            seed_version(service, tool_id, patch)
        assert service.deprecate_tool("acme", tool_id) == ["1.0.0", "1.0.1"]
        assert service.get_tool("acme", tool_id).deprecated is True
        assert all(v.deprecated for v in service.list_versions("acme", tool_id).tool_versions)
        assert service.deprecate_tool("acme", tool_id) == []  # again: nothing left to do, no error

    def test_unknown_tool_is_404(self, service: ToolService) -> None:
        with pytest.raises(NotFound):
            service.deprecate_tool("acme", "d" * 24)

    def test_a_deprecate_while_another_runs_on_the_same_tool_is_409(self, service: ToolService, make_tool) -> None:
        tool_id = make_tool("busy")
        with service.workspace.locks.hold(tool_id):
            with pytest.raises(Conflict, match="in progress"):
                service.deprecate_tool("acme", tool_id)
        service.deprecate_tool("acme", tool_id)


class TestOrgScoping:
    def test_one_org_never_sees_or_changes_anothers_tool(self, service: ToolService, make_tool) -> None:
        tool_id = make_tool("private", org="acme")
        with pytest.raises(NotFound):
            service.get_tool("rival", tool_id)
        with pytest.raises(NotFound):
            service.modify_tool("rival", tool_id, {"description": "mine now"})
        with pytest.raises(NotFound):
            service.deprecate_tool("rival", tool_id)
        with pytest.raises(NotFound):
            service.modify_envvars("rival", tool_id, {"inserts": [{"name": "X", "value": "1", "is_secret": False}]})
        with pytest.raises(NotFound):
            service.find_tool("rival", "private")
        tool = service.get_tool("acme", tool_id)
        assert tool.description == "the private tool" and not tool.deprecated and tool.envvars == []

    def test_find_tool_by_name_or_id(self, service: ToolService, make_tool) -> None:
        old = make_tool("same")
        service.deprecate_tool("acme", old)
        new = make_tool("same")
        assert service.find_tool("acme", "same").id == new
        assert service.find_tool("acme", old).id == old
        service.deprecate_tool("acme", new)
        assert service.find_tool("acme", "same").id == new  # the newest deprecated one
