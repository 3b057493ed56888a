"""`workbench export`: recorded invocations as a fixture file for the tool's repository; and how
`workbench test --fixtures` reports a check of them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from workbench.cli.common import Env, command_options, fail, parse_bool, print_json
from workbench.core.insight_text import describe_change

if TYPE_CHECKING:
    from workbench.core.insight_models import FixtureReport


@click.command("export")
@click.argument("tool")
@click.option("--version", default=None, metavar="CONSTRAINT", help="Only invocations of these versions.")
@click.option("--succeeded", type=click.Choice(["true", "false"]), default=None, help="Only successful (or failed) invocations.")
@click.option("--limit", type=int, default=50, show_default=True, help="At most this many distinct inputs, newest first (1 to 1,000).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "pytest"]), required=True, help="JSON lines for `workbench test --fixtures` and publish, or a pytest module.")
@click.option("--output", "-o", "output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write to FILE (default: standard output).")
@command_options
def export(env: Env, tool: str, version: str | None, succeeded: str | None, limit: int, fmt: str, output: Path | None) -> None:
    """Write TOOL's recorded inputs with their outputs as test fixtures, secrets masked."""
    exported = env.service.export_fixtures(env.org, env.tool_id(tool), {"version": version, "succeeded": parse_bool(succeeded), "limit": limit, "format": fmt})
    if env.as_json:
        print_json(exported)
        return
    if output is None:
        click.echo(exported.content, nl=False)
    else:
        try:
            output.write_text(exported.content, encoding="utf-8")
        except OSError as error:
            fail(f"cannot write {output}: {error.strerror}")
        click.echo(f"wrote {exported.count} fixture(s) to {output}", err=True)
    for note in exported.notes:
        click.echo(f"note: {note}", err=True)


def print_fixture_report(report: FixtureReport) -> None:
    """Each fixture passed or failed, a failure with its diff; then the count."""
    from rich.console import Console
    from rich.text import Text

    out = Console(highlight=False)
    for result in report.results:
        if result.passed:
            out.print(Text.assemble(("✓ ", "green"), result.name))
            continue
        out.print(Text.assemble(("✗ ", "bold red"), result.name, ": ", (result.problem or "", "red")))
        for change in result.changes[:20]:
            out.print(Text("    " + describe_change(change), style="yellow"))
    style = "bold red" if report.failed else "bold green"
    out.print(Text(f"{report.passed} passed, {report.failed} failed", style=style))
