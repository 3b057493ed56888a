"""`workbench tool ...`: create, list, show, update and deprecate tools."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from workbench.cli.common import (
    Env,
    command_options,
    parse_bool,
    print_fields,
    print_json,
    print_table,
)

if TYPE_CHECKING:
    from workbench.core.models import ToolInstance


def parse_tags(values: tuple[str, ...]) -> dict[str, str | None]:
    """``KEY=VALUE`` pairs; ``KEY`` or ``KEY=`` gives the tag a null value."""
    tags: dict[str, str | None] = {}
    for raw in values:
        key, _, value = raw.partition("=")
        tags[key.strip()] = value.strip() or None
    return tags


def format_tags(tool: ToolInstance) -> str:
    return ", ".join(f"{t.key}={t.value}" if t.value is not None else t.key for t in tool.tags)


@click.group("tool")
def tool_group() -> None:
    """Create, list, show, update and deprecate tools."""


@tool_group.command("create")
@click.argument("name")
@click.option("--description", required=True, help="What the tool does (shown to the LLM).")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="A tag; repeatable.")
@command_options
def create(env: Env, name: str, description: str, tags: tuple[str, ...]) -> None:
    """Create a tool named NAME (lowercase letters, digits and _)."""
    response = env.service.create_tool(
        env.org, {"name": name, "description": description, "tags": parse_tags(tags)}
    )
    if env.as_json:
        print_json(response)
    else:
        click.echo(f"created tool {name} ({response.id}) in organization {env.org}")


@tool_group.command("list")
@click.option("--id", "ids", multiple=True, help="Only this tool id; repeatable.")
@click.option("--tag", "tags", multiple=True, metavar="KEY:VALUE", help="KEY:VALUE, KEY:* or KEY:; repeatable.")
@click.option("--deprecated", type=click.Choice(["true", "false"]), default=None)
@click.option("--sort-by", "sort_by", multiple=True, metavar="[+|-]FIELD", help="+name, -name, +deprecated, -deprecated.")
@click.option("--limit", type=int, default=10, show_default=True, help="1 to 20.")
@click.option("--continuation-token", "continuation_token", type=int, default=0)
@command_options
def list_tools(
    env: Env,
    ids: tuple[str, ...],
    tags: tuple[str, ...],
    deprecated: str | None,
    sort_by: tuple[str, ...],
    limit: int,
    continuation_token: int,
) -> None:
    """List the organization's tools."""
    response = env.service.list_tools(
        env.org,
        {
            "id": list(ids),
            "tag": list(tags),
            "deprecated": parse_bool(deprecated),
            "sort_by": list(sort_by),
            "limit": limit,
            "continuation_token": continuation_token,
        },
    )
    if env.as_json:
        print_json(response)
        return
    print_table(
        f"Tools of {env.org}",
        ["NAME", "ID", "DEPRECATED", "TAGS", "ENV VARS", "DESCRIPTION"],
        (
            [
                tool.name,
                tool.id,
                "yes" if tool.deprecated else "",
                format_tags(tool),
                ", ".join([*tool.envvars, *(f"{n} (secret)" for n in tool.secret_envvars)]),
                tool.description,
            ]
            for tool in response.tools
        ),
    )
    if response.has_more:
        click.echo(f"more: --continuation-token {response.continuation_token}")


@tool_group.command("show")
@click.argument("tool")
@command_options
def show(env: Env, tool: str) -> None:
    """Show one tool (TOOL is a name or an id)."""
    found = env.service.find_tool(env.org, tool)
    if env.as_json:
        print_json(found)
        return
    print_fields(
        [
            ("name", found.name),
            ("id", found.id),
            ("organization", found.org_id),
            ("description", found.description),
            ("tags", format_tags(found)),
            ("deprecated", "yes" if found.deprecated else "no"),
            ("env vars", ", ".join(found.envvars)),
            ("secret env vars", ", ".join(found.secret_envvars)),
            ("created", f"{found.created_at:%Y-%m-%d %H:%M} by {found.creator.user_id}"),
            ("updated", f"{found.updated_at:%Y-%m-%d %H:%M} by {found.updated_by.user_id}"),
        ]
    )


@tool_group.command("update")
@click.argument("tool")
@click.option("--description", default=None, help="New description.")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Replaces all tags; repeatable.")
@click.option("--clear-tags", is_flag=True, help="Remove every tag.")
@command_options
def update(env: Env, tool: str, description: str | None, tags: tuple[str, ...], clear_tags: bool) -> None:
    """Change a tool's description and/or tags; what is not given stays as it is."""
    new_tags = {} if clear_tags else (parse_tags(tags) if tags else None)
    env.service.modify_tool(env.org, env.tool_id(tool), {"description": description, "tags": new_tags})
    if not env.as_json:
        click.echo(f"updated tool {tool}")


@tool_group.command("deprecate")
@click.argument("tool")
@command_options
def deprecate(env: Env, tool: str) -> None:
    """Deprecate a tool and all its versions; its name becomes free again."""
    tool_id = env.tool_id(tool)
    env.service.deprecate_tool(env.org, tool_id)
    if not env.as_json:
        click.echo(f"deprecated tool {tool} ({tool_id}) and all its versions")
