"""Listing and deprecating versions: constraints, creators, sort keys, pages, the 404 on invoke."""

from __future__ import annotations

import pytest

from workbench.core.service import ToolService
from workbench.errors import NotFound, ValidationFailed

INPUT = {"inputs": [{"input_parameters": {"name": "x"}, "invocation_mode": "regular"}]}


@pytest.fixture
def tool_id(service: ToolService, tools_repo, make_tool) -> str:
    """A tool with versions 1.0.0 (by ada, deprecated), 1.0.1, 1.1.0 (by bob) and 2.0.0."""
    tools_repo.project("proj")
    tool_id = make_tool("ver")
    for bump, user in (("major", "ada"), ("patch", "ada"), ("minor", "bob")):
        service.publish_version("acme", tool_id, {"project_path": "proj", "bump_type": bump}, user_id=user)
    service.deprecate_versions("acme", tool_id, "==1.0.0")
    service.publish_version("acme", tool_id, {"project_path": "proj", "bump_type": "major"}, user_id="bob")
    return tool_id


def labels(response) -> list[str]:
    return [str(v.version) for v in response.tool_versions]


def test_filters(service: ToolService, tool_id: str) -> None:
    assert labels(service.list_versions("acme", tool_id)) == ["1.0.0", "1.0.1", "1.1.0", "2.0.0"]
    assert labels(service.list_versions("acme", tool_id, {"deprecated": True})) == ["1.0.0"]
    assert labels(service.list_versions("acme", tool_id, {"versions": ">=1.0.1,<2"})) == ["1.0.1", "1.1.0"]
    assert labels(service.list_versions("acme", tool_id, {"version_constraint": "~=1.0.0"})) == ["1.0.0", "1.0.1"]
    assert labels(service.list_versions("acme", tool_id, {"versions": "2.0.0"})) == ["2.0.0"]
    assert labels(service.list_versions("acme", tool_id, {"creator": ["acme,bob"]})) == ["1.1.0", "2.0.0"]
    assert labels(service.list_versions("acme", tool_id, {"creator": ["acme,ada", "acme,bob"]})) == ["1.0.0", "1.0.1", "1.1.0", "2.0.0"]


def test_filter_values_list_the_creators_on_the_first_page(service: ToolService, tool_id: str) -> None:
    first = service.list_versions("acme", tool_id, {"limit": 1})
    assert [(c.user_id, c.user_org_id) for c in first.filter_values.creators] == [("ada", "acme"), ("bob", "acme")]
    assert service.list_versions("acme", tool_id, {"limit": 1, "continuation_token": 1}).filter_values is None


def test_sort_and_pages(service: ToolService, tool_id: str) -> None:
    assert labels(service.list_versions("acme", tool_id, {"sort_by": ["-created_at"]})) == ["2.0.0", "1.1.0", "1.0.1", "1.0.0"]
    assert labels(service.list_versions("acme", tool_id, {"sort_by": ["-version.minor", "+version.patch"]})) == ["1.1.0", "1.0.0", "2.0.0", "1.0.1"]
    assert labels(service.list_versions("acme", tool_id, {"sort_by": ["+deprecated", "-version.major"]})) == ["2.0.0", "1.0.1", "1.1.0", "1.0.0"]
    page = service.list_versions("acme", tool_id, {"limit": 3})
    assert labels(page) == ["1.0.0", "1.0.1", "1.1.0"] and page.has_more and page.continuation_token == 3
    rest = service.list_versions("acme", tool_id, {"limit": 3, "continuation_token": 3})
    assert labels(rest) == ["2.0.0"] and not rest.has_more and rest.continuation_token is None
    empty = service.list_versions("acme", tool_id, {"limit": 0})
    assert labels(empty) == [] and not empty.has_more and empty.continuation_token is None  # a client following tokens stops


@pytest.mark.parametrize(
    "query",
    [{"limit": 51}, {"limit": -1}, {"versions": "not a constraint"}, {"sort_by": ["+name"]}, {"creator": ["no-comma"]}],
)
def test_bad_queries_are_422(service: ToolService, tool_id: str, query) -> None:
    with pytest.raises(ValidationFailed):
        service.list_versions("acme", tool_id, query)


def test_deprecate_by_constraint_and_what_it_would_match(service: ToolService, tool_id: str) -> None:
    assert [str(v.version) for v in service.matching_versions("acme", tool_id, ">=1.0.1,<2")] == ["1.0.1", "1.1.0"]
    assert service.deprecate_versions("acme", tool_id, ">=1.0.1,<2") == ["1.0.1", "1.1.0"]
    assert labels(service.list_versions("acme", tool_id, {"deprecated": False})) == ["2.0.0"]
    assert service.deprecate_versions("acme", tool_id, "<2") == []  # already deprecated: nothing to do
    with pytest.raises(ValidationFailed, match="PEP 440"):
        service.deprecate_versions("acme", tool_id, "whatever")
    with pytest.raises(NotFound):
        service.deprecate_versions("acme", "f" * 24, ">=1")


def test_a_deprecated_version_cannot_be_invoked(service: ToolService, tool_id: str) -> None:
    with pytest.raises(NotFound, match="1.0.0 of tool ver is deprecated") as error:
        service.invoke_version("acme", tool_id, "1.0.0", INPUT)
    assert error.value.status == 404
    with pytest.raises(NotFound, match=r"no active version matching '3.0.0' \(active versions: 1.0.1, 1.1.0, 2.0.0\)"):
        service.invoke_version("acme", tool_id, "3.0.0", INPUT)


def test_a_constraint_invokes_the_highest_active_match(service: ToolService, tool_id: str) -> None:
    for constraint, runs in (("<2", "1.1.0"), (">=1", "2.0.0")):
        service.invoke_version("acme", tool_id, constraint, INPUT)
        assert str(service.list_invocations("acme", {"limit": 1}).tool_invocations[0].tool_version) == runs
    service.deprecate_tool("acme", tool_id)
    with pytest.raises(NotFound):
        service.invoke_version("acme", tool_id, ">=1", INPUT)
