"""The `workbench` command line. Thin: it parses arguments, calls the service, prints results.

It starts at once: this package imports only click. Each command lives in a module that is
imported when the command runs (or its help is shown), and a command imports the service,
pydantic models, rich and the rest only when it needs them; ``tests/test_startup.py`` checks that
`workbench --help` imports none of them.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from workbench import __version__
from workbench.cli.common import (
    Env,
    accept_context_options,
    command_options,
    context_options,
    fail,
    print_fields,
    print_json,
)
from workbench.errors import WorkbenchError

COMMANDS: dict[str, tuple[str, str]] = {
    "tool": ("tools", "tool_group"),
    "env": ("env", "env_group"),
    "new": ("run", "new"),
    "test": ("run", "test"),
    "publish": ("versions", "publish"),
    "versions": ("versions", "versions"),
    "deprecate": ("versions", "deprecate"),
    "invoke": ("run", "invoke"),
    "history": ("history", "history"),
    "search": ("history", "search"),
    "index": ("history", "index_group"),
    "serve": ("server", "serve"),
    "apikey": ("server", "apikey_group"),
    "doctor": ("runtime", "doctor"),
    "runtime": ("runtime", "runtime_group"),
    "repair": ("data", "repair"),
    "graph": ("simulate", "graph_group"),
    "simulate": ("simulate", "simulate"),
    "stats": ("stats", "stats"),
    "replay": ("reruns", "replay"),
    "compare": ("reruns", "compare"),
    "export": ("fixtures", "export"),
    "invocation": ("invocation", "invocation_group"),
}
"""Every command but the two defined here: its module in this package and its name there."""


class LazyCommands(click.Group):
    """A group whose commands are imported from their modules when first looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            module, name = COMMANDS[cmd_name]
            command = getattr(importlib.import_module(f"workbench.cli.{module}"), name)
            self.add_command(accept_context_options(command) if isinstance(command, click.Group) else command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyCommands, context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.version_option(__version__, prog_name="workbench")
@context_options
@click.pass_context
def cli(ctx: click.Context, home: Path | None, org: str | None, remote: str | None) -> None:
    """Tool Workbench: build, test and run versioned tools locally.

    Without a command, opens the workbench app in the terminal (on the organization last used
    with the data directory, or the only one with tools, unless --org or $WORKBENCH_ORG says).
    --home, --org and --remote work before or after any command."""
    if ctx.invoked_subcommand is None:
        from workbench.tui.app import WorkbenchApp

        env = Env(home, org, False, remote)
        WorkbenchApp(env.service, env.org if env.org_chosen else None, background_work=env.settings.remote is None).run()


@cli.command("paths")
@command_options
def paths(env: Env) -> None:
    """Print where the workbench keeps its data, and which runtime runs tools (and why)."""
    from workbench.cli.runtime import runtime_summary

    described = {**env.settings.paths().describe(), **runtime_summary(env)}
    if env.as_json:
        print_json(described)
    else:
        print_fields(list(described.items()))


@cli.command("demo")
@click.option("--history", "history_size", type=int, default=0, help="Also record a history of about this many invocations: the sample scenarios run for real, then copies of their runs.")
@command_options
@click.pass_context
def demo(ctx: click.Context, env: Env, history_size: int) -> None:
    """Set up the demo organization (safe to run again) and list its tools."""
    from workbench.cli.tools import list_tools
    from workbench.demo import DEMO_ORG, seed_demo
    from workbench.settings import DEFAULT_ORG

    org = DEMO_ORG if env.org == DEFAULT_ORG else env.org
    created = seed_demo(env.service, org, say=lambda line: click.echo(line, err=True))
    missing = history_size - env.service.count_invocations(org) if history_size > 0 else 0
    if missing > 0:  # up to the size asked for: running it again adds nothing
        from workbench.demo import record_history

        recorded = record_history(env.service, org, missing, say=lambda line: click.echo(line, err=True))
        click.echo(f"recorded {recorded:,} invocations from the sample scenarios' runs; indexing them for search ...", err=True)
        env.service.catch_up_index()
    if not env.as_json:
        click.echo(f"demo organization {org!r}: " + (f"created {', '.join(created)}" if created else "up to date"))
    ctx.invoke(list_tools, home=env.settings.home, org=org, as_json=env.as_json)


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the CLI, and turns every expected failure into ``error: MESSAGE``."""
    try:
        cli.main(args=argv, prog_name="workbench", standalone_mode=False)
    except WorkbenchError as error:
        fail(error.message, 1)
    except click.exceptions.Abort:
        fail("aborted", 1)
    except click.UsageError as error:
        hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
        fail(error.format_message() + hint, 2)
    except click.ClickException as error:
        fail(error.format_message(), error.exit_code)
    sys.exit(0)
