"""`workbench replay` and `workbench compare`: recorded or given inputs run again, and set beside
what they gave before or on another version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from workbench.cli.common import Env, command_options, fail, print_json
from workbench.cli.run import parse_pairs
from workbench.core.insight_text import describe_change, number, ratio

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from workbench.core.insight_models import (
        Change,
        Comparison,
        ReplayResult,
        RunOutcome,
    )

VERDICT_STYLES = {"same": "green", "changed": "yellow", "newly failing": "bold red", "newly fixed": "bold green"}
SHOWN_CHANGES = 20


def console() -> Console:
    from rich.console import Console

    out = Console(highlight=False)
    return out if out.is_terminal else Console(highlight=False, width=200)


def outcome_text(run: RunOutcome, limit: int = 2000) -> Text:
    """One run for people: how it ended, how long it took, its output (JSON indented) or its
    exception with the stack trace's last lines."""
    from rich.text import Text

    recorded = f" · {run.invocation_id}" if run.invocation_id else ""
    if run.succeeded:
        head = Text.assemble(("succeeded", "green"), f" in {run.duration_ms:,} ms · {run.version}{recorded}\n")
        try:
            body = json.dumps(json.loads(run.output or ""), indent=2, ensure_ascii=False)
        except ValueError:
            body = run.output or ""
        return head + Text(body if len(body) <= limit else body[:limit] + f"\n… ({len(body):,} characters in all)")
    head = Text.assemble(("failed", "red"), f" in {run.duration_ms:,} ms · {run.version}{recorded}\n", (f"{run.exception_type}", "bold red"), f": {run.exception_message}")
    trace = run.exception_stack_trace[-6:]
    return head + Text(("\n" + "\n".join(trace)) if trace else "", style="dim")


def print_changes(out: Console, changes: list[Change], indent: str = "  ") -> None:
    from rich.text import Text

    for change in changes[:SHOWN_CHANGES]:
        style = {"added": "green", "removed": "red"}.get(change.kind, "yellow")
        out.print(Text(indent + describe_change(change), style=style))
    if len(changes) > SHOWN_CHANGES:
        out.print(f"{indent}… {len(changes) - SHOWN_CHANGES} more (--json shows all)")


@click.command("replay")
@click.argument("invocation_id")
@click.option("--version", default=None, metavar="VERSION", help="Run on this version (exact or a constraint); default: the original's.")
@click.option("--secret-var", "secret_vars", multiple=True, metavar="NAME=VALUE", help="A value for a sensitive user variable that was masked when recorded.")
@command_options
def replay(env: Env, invocation_id: str, version: str | None, secret_vars: tuple[str, ...]) -> None:
    """Run a recorded invocation's input again (same mode and variables) and show the result
    beside the original. The replay is recorded too."""
    request = {"version": version, "sensitive_user_variables": parse_pairs(secret_vars, "--secret-var")}
    result = env.service.replay_invocation(env.org, invocation_id, request)
    if env.as_json:
        print_json(result)
    else:
        print_replay(result)


def print_replay(result: ReplayResult) -> None:
    from rich.table import Table
    from rich.text import Text

    out = console()
    table = Table(show_lines=False, header_style="bold", expand=True)
    table.add_column("original", ratio=1, overflow="fold")
    table.add_column("replay", ratio=1, overflow="fold")
    table.add_row(outcome_text(result.original), outcome_text(result.replay))
    out.print(table)
    out.print(Text.assemble("verdict: ", (result.verdict, VERDICT_STYLES[result.verdict]), f" · duration {ratio(result.duration_ratio)} of the original"))
    print_changes(out, result.changes)
    for note in result.notes:
        out.print(Text(f"note: {note}", style="dim"))


def read_inputs(path: Path, mode: str) -> list[dict[str, Any]]:
    """Inputs from a file: a JSON list, or one JSON object per line; each an input (with
    ``input_parameters``) or just its parameters (run in ``mode``)."""
    try:
        text = path.read_text()
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")
    try:
        value = json.loads(text)
        items = value if isinstance(value, list) else [value]
    except ValueError:
        try:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as error:
            fail(f"{path} is neither a JSON list nor one JSON object per line: {error}")
    if not items or not all(isinstance(i, dict) for i in items):
        fail(f"{path} must hold JSON objects: inputs, or their input parameters")
    return [i if "input_parameters" in i else {"input_parameters": i, "invocation_mode": mode} for i in items]


@click.command("compare")
@click.argument("tool")
@click.argument("version_a")
@click.argument("version_b")
@click.option("--from-history", "from_history", type=int, default=None, metavar="N", help="The tool's N most recent distinct recorded inputs (1 to 100).")
@click.option("--inputs", "inputs_file", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Inputs from a file (a JSON list or JSON lines).")
@click.option("--mode", type=click.Choice(["regular", "conversation-simulation"]), default="regular", show_default=True, help="For inputs given as bare parameters.")
@command_options
def compare(env: Env, tool: str, version_a: str, version_b: str, from_history: int | None, inputs_file: Path | None, mode: str) -> None:
    """Run the same inputs on VERSION_A and VERSION_B in parallel and show, per input, both
    outcomes, how the output changed and the duration ratio; then a summary. Every run is
    recorded."""
    if (from_history is None) == (inputs_file is None):
        fail("give --from-history N or --inputs FILE (one of them)", 2)
    request: dict[str, Any] = {"version_a": version_a, "version_b": version_b}
    if inputs_file is not None:
        request["inputs"] = read_inputs(inputs_file, mode)
    else:
        request["from_history"] = from_history
    result = env.service.compare_versions(env.org, env.tool_id(tool), request)
    if env.as_json:
        print_json(result)
    else:
        print_comparison(result)


def _brief(run: RunOutcome) -> Text:
    from rich.text import Text

    if run.succeeded:
        return Text.assemble(("ok", "green"), f" {run.duration_ms:,} ms · {len(run.output or ''):,} ch")
    return Text.assemble((run.exception_type or "failed", "red"), f" {run.duration_ms:,} ms")


def print_comparison(result: Comparison) -> None:
    from rich.table import Table
    from rich.text import Text

    out = console()
    table = Table(title=f"{result.version_a} → {result.version_b}: {len(result.inputs)} input(s)", title_justify="left", header_style="bold")
    for column in ("#", "INPUT", result.version_a, result.version_b, "VERDICT", "RATIO"):
        table.add_column(column, overflow="fold")
    for pair in result.inputs:
        summary = json.dumps(pair.input.get("input_parameters"), ensure_ascii=False)
        table.add_row(str(pair.index), summary[:60], _brief(pair.a), _brief(pair.b), Text(pair.verdict, style=VERDICT_STYLES[pair.verdict]), ratio(pair.duration_ratio))
    out.print(table)
    for pair in result.inputs:
        if pair.verdict != "same":
            out.print(Text(f"#{pair.index} {pair.verdict}:", style=VERDICT_STYLES[pair.verdict]))
            if pair.verdict != "changed":
                for side, run in ((result.version_a, pair.a), (result.version_b, pair.b)):
                    if not run.succeeded:
                        out.print(Text(f"  {side}: {run.exception_type}: {run.exception_message}", style="red"))
            print_changes(out, pair.changes, "    ")
    s = result.summary
    out.print(
        Text.assemble(
            ("summary: ", "bold"),
            (f"{s.same} same", "green"), " · ", (f"{s.changed} changed", "yellow"), " · ", (f"{s.newly_failing} newly failing", "red"), " · ",
            (f"{s.newly_fixed} newly fixed", "green"),
            f" · p50 {number(s.p50_a_ms)} ms → {number(s.p50_b_ms)} ms ({ratio(s.p50_ratio)}) · {result.wall_ms:,} ms in all",
        )
    )
    for note in result.notes:
        out.print(Text(f"note: {note}", style="dim"))
