"""`workbench stats`: a tool's versions as a whole, as a table, as pictures in the terminal
(--plot), as a self-contained HTML page (--html FILE) or as JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from workbench.cli.common import Env, command_options, fail, print_json, print_table
from workbench.core.insight_text import number, percent, size_histogram, sparkline
from workbench.names import INVOCATION_SOURCE_TYPES

if TYPE_CHECKING:
    from rich.console import Console

    from workbench.core.insight_models import ToolStats, VersionStats

SOURCE_CHOICES = click.Choice(INVOCATION_SOURCE_TYPES)


def console() -> Console:
    from rich.console import Console

    out = Console(highlight=False)
    return out if out.is_terminal else Console(highlight=False, width=200)


@click.command("stats")
@click.argument("tool")
@click.option("--version", "version", default=None, metavar="CONSTRAINT", help="Only these versions (a PEP 440 constraint or an exact version).")
@click.option("--since", default=None, metavar="WHEN", help="From: an ISO date or time (UTC), or a span back from now: 30m, 6h, 7d, 2w.")
@click.option("--until", default=None, metavar="WHEN", help="Until (exclusive), as --since.")
@click.option("--source-type", "source_types", multiple=True, type=SOURCE_CHOICES, help="Only these sources; repeatable.")
@click.option("--mode", "modes", multiple=True, type=click.Choice(["regular", "conversation-simulation"]), help="Only these modes; repeatable.")
@click.option("--bucket", type=click.Choice(["auto", "hour", "day", "none"]), default="auto", show_default=True, help="The time series' step.")
@click.option("--top", "top", type=int, default=5, show_default=True, help="How many exception types per version (0 to 50).")
@click.option("--plot", is_flag=True, help="Draw latency, failure rate and output sizes in the terminal.")
@click.option("--html", "html_file", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write a self-contained HTML report with charts to FILE.")
@command_options
def stats(env: Env, tool: str, version, since, until, source_types, modes, bucket, top, plot: bool, html_file: Path | None) -> None:
    """Statistics per version of TOOL: invocations, success rate, latency p50/p95/p99, output
    sizes against the 5,000-character persistence threshold and the 20,000-character limit, the
    most frequent exceptions, first and last seen, per source, over time."""
    query = {
        "version": version,
        "since": since,
        "until": until,
        "invocation_source_type": list(source_types),
        "invocation_mode": list(modes),
        "bucket": bucket if (plot or html_file or env.as_json) else "none",
        "top_exceptions": top,
    }
    result = env.service.tool_stats(env.org, env.tool_id(tool), query)
    if html_file is not None:
        from workbench.core.insight_report import stats_report_html

        try:
            html_file.write_text(stats_report_html(result, datetime.now(UTC)), encoding="utf-8")
        except OSError as error:
            fail(f"cannot write the report to {html_file}: {error.strerror}")
        click.echo(f"wrote {html_file} ({len(result.versions)} version(s), {result.count:,} invocations)", err=env.as_json)
    if env.as_json:
        print_json(result)
    elif plot:
        print_plots(result)
    elif html_file is None:
        print_stats(result)


def _window(result: ToolStats) -> str:
    since = f"{result.since:%Y-%m-%d %H:%M}" if result.since else "the first invocation"
    until = f"{result.until:%Y-%m-%d %H:%M}" if result.until else "now"
    return f"{since} to {until} UTC"


def print_stats(result: ToolStats) -> None:
    """The numbers, one row per version, then exceptions and sources."""
    threshold, limit = result.persistence_threshold, result.output_limit
    print_table(
        f"{result.tool_name}: {result.count:,} invocations, {_window(result)}",
        ["VERSION", "CALLS", "OK", "P50 MS", "P95 MS", "P99 MS", "OUT P50", "OUT P95", "OUT MAX", f">={threshold:,}", f">{limit:,}", "FIRST SEEN", "LAST SEEN"],
        (
            [
                v.version, number(v.count), percent(v.success_rate), number(v.latency_ms.p50), number(v.latency_ms.p95), number(v.latency_ms.p99),
                number(v.output_chars.p50), number(v.output_chars.p95), number(v.output_chars.max),
                percent(v.output_chars.share_at_or_over_threshold), percent(v.output_chars.share_over_limit),
                f"{v.first_seen:%Y-%m-%d %H:%M}" if v.first_seen else "-", f"{v.last_seen:%Y-%m-%d %H:%M}" if v.last_seen else "-",
            ]
            for v in result.versions
        ),
    )
    if not result.versions:
        click.echo("no invocations in this window")
    for v in result.versions:
        if v.exceptions:
            click.echo(f"{v.version} exceptions: " + ", ".join(f"{e.exception_type} {e.count:,} ({percent(e.share)})" for e in v.exceptions))
    for v in result.versions:
        click.echo(f"{v.version} sources: " + ", ".join(f"{s.source_type} {s.count:,} ({percent(s.succeeded / s.count if s.count else None)} ok)" for s in v.by_source))


def print_plots(result: ToolStats) -> None:
    """Per version: latency and failure rate over time as sparklines, the output-size
    histogram with the threshold and the limit marked, and the top exceptions."""
    from rich.text import Text

    out = console()
    out.print(Text(f"{result.tool_name}: {result.count:,} invocations, {_window(result)}", style="bold"))
    if not result.versions:
        out.print("no invocations in this window")
    for v in result.versions:
        out.print()
        out.print(Text.assemble((v.version, "bold"), f"  {v.count:,} invocations, {percent(v.success_rate)} ok, p50 {number(v.latency_ms.p50)} ms, p95 {number(v.latency_ms.p95)} ms, p99 {number(v.latency_ms.p99)} ms"))
        print_series(out, v, result)
        print_histogram(out, v, result)
        for e in v.exceptions:
            out.print(Text.assemble("  ", (e.exception_type, "red"), f"  {e.count:,} ({percent(e.share)} of failures)"))


def print_series(out: Console, v: VersionStats, result: ToolStats) -> None:
    from rich.text import Text

    if not v.series:
        return
    step = result.bucket or "step"
    first, last = v.series[0].start, v.series[-1].start
    span = f"{first:%m-%d %H:%M} .. {last:%m-%d %H:%M} UTC, one mark per {step}"
    top_ms = max((p.mean_ms or 0 for p in v.series), default=0)
    out.print(Text.assemble("  mean latency ", (sparkline([p.mean_ms for p in v.series]), "cyan"), f"  up to {number(top_ms)} ms"))
    out.print(Text.assemble("  failure rate ", (sparkline([p.failure_rate for p in v.series], top=1.0), "red"), "  of 100%"))
    out.print(Text.assemble("  invocations  ", (sparkline([p.count for p in v.series]), "green"), f"  {span}"))


def print_histogram(out: Console, v: VersionStats, result: ToolStats) -> None:
    from rich.text import Text

    sizes = v.output_chars
    if not sizes.measured:
        out.print("  output sizes: none measured (no successful invocation)")
        return
    drawn = size_histogram(sizes, result.persistence_threshold, result.output_limit)
    out.print(
        f"  output sizes ({sizes.measured:,}; p50 {number(sizes.p50)}, p95 {number(sizes.p95)}, max {number(sizes.max)}; "
        f"{percent(sizes.share_at_or_over_threshold)} at or over {result.persistence_threshold:,}, {percent(sizes.share_over_limit)} over {result.output_limit:,})"
    )
    for line in drawn.lines:
        text = Text("  " + line, style="blue")
        for column in drawn.marker_columns:
            text.stylize("bold red", column + 2, column + 3)
        out.print(text)
    out.print("  " + drawn.axis + "  characters", style="dim")
