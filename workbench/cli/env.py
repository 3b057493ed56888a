"""`workbench env ...`: set, unset and list a tool's environment variables (never their values)."""

from __future__ import annotations

import sys

import click

from workbench.cli.common import Env, command_options, fail, print_json, print_table


def _read_value(name: str, secret: bool) -> str:
    """A value not given on the command line: prompted for (hidden if secret) or read from stdin."""
    if sys.stdin.isatty():
        return click.prompt(f"value of {name}", hide_input=secret)
    return sys.stdin.readline().rstrip("\n")


@click.group("env")
def env_group() -> None:
    """Manage a tool's environment variables and secrets."""


@env_group.command("set")
@click.argument("tool")
@click.argument("assignments", nargs=-1, required=True, metavar="NAME=VALUE...")
@click.option("--secret", is_flag=True, help="Store as a secret (kept apart, never displayed).")
@command_options
def set_vars(env: Env, tool: str, assignments: tuple[str, ...], secret: bool) -> None:
    """Insert or update variables. Give NAME alone to type the value at a hidden prompt (or stdin)."""
    tool_id = env.tool_id(tool)
    existing = {info.name: info for info in env.service.list_envvars(env.org, tool_id)}
    inserts, updates = [], []
    for raw in assignments:
        name, sep, value = raw.partition("=")
        if not sep:
            value = _read_value(name, secret)
        current = existing.get(name)
        if current is None:
            inserts.append({"name": name, "value": value, "is_secret": secret})
            continue
        if current.is_secret != secret:
            kind = "a secret" if current.is_secret else "a plain variable"
            flag = "with" if current.is_secret else "without"
            fail(f"{name} exists as {kind}; set it {flag} --secret, or unset it first")
        updates.append({"name": name, "value": value})
    env.service.modify_envvars(env.org, tool_id, {"inserts": inserts, "updates": updates})
    if not env.as_json:
        names = ", ".join(raw.partition("=")[0] for raw in assignments)
        click.echo(f"set {'secret ' if secret else ''}{names} on tool {tool}")


@env_group.command("unset")
@click.argument("tool")
@click.argument("names", nargs=-1, required=True)
@command_options
def unset(env: Env, tool: str, names: tuple[str, ...]) -> None:
    """Delete variables (refused while a non-deprecated version requires them)."""
    env.service.modify_envvars(env.org, env.tool_id(tool), {"deletes": [{"name": n} for n in names]})
    if not env.as_json:
        click.echo(f"unset {', '.join(names)} on tool {tool}")


@env_group.command("list")
@click.argument("tool")
@command_options
def list_vars(env: Env, tool: str) -> None:
    """List a tool's variables: names, kinds and the versions that need them. Never values."""
    infos = env.service.list_envvars(env.org, env.tool_id(tool))
    if env.as_json:
        print_json(infos)
        return
    print_table(
        f"Environment variables of {tool}",
        ["NAME", "KIND", "REQUIRED BY", "UPDATED"],
        ([i.name, "secret" if i.is_secret else "plain", ", ".join(i.required_by), f"{i.updated_at:%Y-%m-%d %H:%M:%S}"] for i in infos),
    )
