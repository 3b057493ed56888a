"""`workbench invocation show ID`: one invocation in full, its JSON formatted and highlighted."""

from __future__ import annotations

import json
from typing import Any

import click

from workbench.cli.common import Env, command_options, print_json


def _highlighted(text: str, lexer: str) -> Any:
    from rich.syntax import Syntax  # pygments: loaded only when something is shown

    return Syntax(text, lexer, word_wrap=True, background_color="default")


def _json(value: Any) -> Any:
    return _highlighted(json.dumps(value, indent=2, ensure_ascii=False), "json")


@click.group("invocation")
def invocation_group() -> None:
    """Recorded invocations, one at a time."""


@invocation_group.command("show")
@click.argument("invocation_id")
@command_options
def show(env: Env, invocation_id: str) -> None:
    """Show an invocation: its source, input, output (or exception and stack trace) and logs."""
    from rich.console import Console
    from rich.text import Text

    inv = env.service.get_invocation(env.org, invocation_id)
    if env.as_json:
        print_json(inv)
        return
    names = {t.id: t.name for t in env.service.list_all_tools(env.org)}
    out = Console(highlight=False)
    status = inv.invocation_status
    outcome = ("succeeded", "bold green") if status.succeeded else ("failed", "bold red")
    out.print(Text.assemble((f"{names.get(inv.tool_id, inv.tool_id)} {inv.tool_version}", "bold"), "  ", outcome, f"  {inv.duration_ms:,} ms  {inv.created_at:%Y-%m-%d %H:%M:%S} UTC  {inv.id}"))
    out.print(Text("source", style="bold"))
    out.print(_json(inv.invocation_source.model_dump(mode="json")))
    out.print(Text("input", style="bold"))
    out.print(_json(inv.inputs))
    if status.succeeded:
        out.print(Text(f"output ({len(status.output):,} characters)", style="bold"))
        try:
            out.print(_json(json.loads(status.output)))
        except ValueError:
            out.print(status.output, markup=False)
    else:
        out.print(Text.assemble(("exception ", "bold"), (status.exception_type, "bold red"), ": ", status.exception_message))
        out.print(Text("stack trace", style="bold"))
        out.print(_highlighted("\n".join(status.exception_stack_trace), "pytb") if status.exception_stack_trace else "(none)")
    out.print(Text(f"logs ({len(inv.logs)} lines)", style="bold"))
    for line in inv.logs:
        out.print(line, markup=False)
