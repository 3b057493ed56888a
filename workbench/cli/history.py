"""`workbench history`, `workbench search` and `workbench index rebuild|status`."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import click

from workbench.cli.common import Env, command_options, parse_bool, print_fields, print_json, print_table
from workbench.names import INVOCATION_SOURCE_TYPES, QUERY_AGAINST_FIELDS

if TYPE_CHECKING:
    from rich.console import Console

    from workbench.core.models import ToolInvocationInstance

SOURCE_CHOICES = click.Choice(INVOCATION_SOURCE_TYPES)


def filter_options(func):
    for option in reversed(
        [
            click.option("--tool", "tools", multiple=True, help="A tool (name or id); repeatable."),
            click.option("--source-type", "source_types", multiple=True, type=SOURCE_CHOICES, help="Repeatable. The workbench's own runs are regular conversations (or simulations, in conversation-simulation mode); SOURCE shows cli/app/api for them."),
            click.option("--conversation-id", "conversation_ids", multiple=True, help="Repeatable."),
            click.option("--run-id", "run_ids", multiple=True, help="A simulation unit test set run id; repeatable."),
            click.option("--succeeded", type=click.Choice(["true", "false"]), default=None),
        ]
    ):
        func = option(func)
    return func


def filters(env: Env, tools, source_types, conversation_ids, run_ids, succeeded) -> dict:
    return {
        "tool_id": [env.tool_id(t) for t in tools],
        "invocation_source_type": list(source_types),
        "conversation_id": list(conversation_ids),
        "simulation_unit_test_set_run_id": list(run_ids),
        "succeeded": parse_bool(succeeded),
    }


def _tool_names(env: Env) -> dict[str, str]:
    return {t.id: t.name for t in env.service.list_all_tools(env.org)}


def _summary(inv: ToolInvocationInstance) -> str:
    status = inv.invocation_status
    text = status.output if status.succeeded else f"{status.exception_type}: {status.exception_message}"
    return " ".join(text.split())[:80]


def _source(inv: ToolInvocationInstance) -> str:
    """The source type, and for the workbench's own runs which face ran them."""
    from workbench.core.models import invocation_origin

    origin = invocation_origin(inv.invocation_source)
    return f"{inv.invocation_source.type} ({origin})" if origin else inv.invocation_source.type


@click.command("history")
@filter_options
@click.option("--version", "versions", multiple=True, metavar="CONSTRAINT", help="Pairs with --tool by position.")
@click.option("--sort-by", "sort_by", multiple=True, metavar="[+|-]FIELD", help="created_at, version.major, version.minor, version.patch, tool_id, invocation_source.type, invocation_status.succeeded.")
@click.option("--limit", type=int, default=100, show_default=True, help="0 to 100.")
@click.option("--continuation-token", "continuation_token", type=int, default=0)
@click.option("--since", default=None, metavar="WHEN", help="Created at or after: an ISO date or time (UTC), or 30m, 6h, 7d, 2w back from now.")
@click.option("--until", default=None, metavar="WHEN", help="Created before, as --since.")
@click.option("--exception-type", "exception_types", multiple=True, help="Failed with this exception type; repeatable.")
@command_options
def history(env: Env, tools, source_types, conversation_ids, run_ids, succeeded, versions, sort_by, limit, continuation_token, since, until, exception_types) -> None:
    """List recorded invocations, newest first."""
    query = {
        **filters(env, tools, source_types, conversation_ids, run_ids, succeeded),
        **({"created_after": since} if since else {}),
        **({"created_before": until} if until else {}),
        **({"exception_type": list(exception_types)} if exception_types else {}),
        "version": list(versions) if versions else [""] * len(tools),
        "sort_by": list(sort_by),
        "limit": limit,
        "continuation_token": continuation_token,
    }
    response = env.service.list_invocations(env.org, query)
    if env.as_json:
        print_json(response)
        return
    total = env.service.count_invocations(env.org, {**query, "limit": 0, "continuation_token": 0, "sort_by": []})
    names = _tool_names(env)
    shown = len(response.tool_invocations)
    print_table(
        f"Invocations of {env.org}: {continuation_token + 1 if shown else 0}-{continuation_token + shown} of {total:,}",
        ["CREATED", "ID", "TOOL", "VERSION", "SOURCE", "OK", "MS", "OUTPUT / ERROR"],
        (
            [
                f"{inv.created_at:%Y-%m-%d %H:%M:%S}",
                inv.id,
                names.get(inv.tool_id, inv.tool_id),
                str(inv.tool_version),
                _source(inv),
                "yes" if inv.invocation_status.succeeded else "no",
                inv.duration_ms,
                _summary(inv),
            ]
            for inv in response.tool_invocations
        ),
    )
    if response.has_more:
        click.echo(f"more: --continuation-token {response.continuation_token}")


def rebuild_progress(console: Console):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    progress = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console, transient=False)
    task = progress.add_task("indexing invocations", total=None)

    def update(done: int, total: int) -> None:
        if not progress.live.is_started:
            progress.start()
        progress.update(task, completed=done, total=total or 1)

    return progress, update


@click.command("search")
@click.argument("query")
@click.option("--field", "fields", multiple=True, type=click.Choice(QUERY_AGAINST_FIELDS), help="Search only these fields; repeatable.")
@filter_options
@click.option("--order", type=click.Choice(["newest", "relevance"]), default="newest", show_default=True)
@click.option("--limit", type=int, default=20, show_default=True, help="1 to 100.")
@command_options
def search(env: Env, query, fields, tools, source_types, conversation_ids, run_ids, succeeded, order, limit) -> None:
    """Full-text search of invocations: words, "phrases", field:value, wild*cards, AND/OR/NOT."""
    from rich.console import Console
    from rich.text import Text

    from workbench.core.results import snippet_pieces

    request = {"query": query, "query_against": list(fields), "order": order, "limit": limit, **filters(env, tools, source_types, conversation_ids, run_ids, succeeded)}
    console = Console(stderr=True)
    progress, update = rebuild_progress(console)
    try:
        page = env.service.search_page(env.org, request, on_rebuild=update)
    finally:
        if progress.live.is_started:
            progress.stop()
    if env.as_json:
        print_json({"tool_invocations": [hit.invocation.model_dump(mode="json") for hit in page.hits], "has_more": page.has_more})
        return
    out = Console(highlight=False)
    names = _tool_names(env)
    more = " (more match: raise --limit or narrow the query)" if page.has_more else ""
    out.print(f"{len(page.hits)} hit(s) for {query!r} ({order} first){more}", markup=False)
    if page.read_literally:
        out.print(f"searched as written: {page.read_literally}", markup=False)
    for hit in page.hits:
        inv = hit.invocation
        state = "[green]ok[/]" if inv.invocation_status.succeeded else "[red]failed[/]"
        out.print(f"\n[bold]{inv.created_at:%Y-%m-%d %H:%M:%S}[/] {names.get(inv.tool_id, inv.tool_id)} {inv.tool_version} {state} [dim]{inv.id}[/]")
        for field, fragment in hit.snippets.items():
            text = Text(f"  {field}: ")
            for piece, is_match in snippet_pieces(fragment):
                text.append(piece, style="bold yellow reverse" if is_match else "")
            out.print(text)


@click.group("index")
def index_group() -> None:
    """The full-text search index (derived from the invocation log)."""


@index_group.command("rebuild")
@command_options
def rebuild(env: Env) -> None:
    """Rebuild the search index from the invocation log, with a progress bar."""
    from rich.console import Console

    console = Console(stderr=True)
    progress, update = rebuild_progress(console)
    try:
        count = env.service.rebuild_index(progress=update)
    finally:
        if progress.live.is_started:
            progress.stop()
    if env.as_json:
        print_json({"indexed": count})
    else:
        click.echo(f"indexed {count:,} invocation(s)")


@index_group.command("status")
@command_options
def status(env: Env) -> None:
    """How far the search index has caught up with the log."""
    state = dataclasses.asdict(env.service.index_status())
    if env.as_json:
        print_json(state)
    else:
        print_fields([(k, v) for k, v in state.items()])
