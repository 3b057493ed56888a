"""What every CLI command shares: the --home/--org/--json options, output and error rendering.

Imported by every command's module, so it imports only click and the standard library; the
settings, the service and rich come when a command runs."""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from workbench.core.api import ServedApi, ToolsApi


CONTEXT_OPTIONS = ("home", "org", "remote")
"""Options that say where to work; each may be given before the command, after it, or between a
group and its subcommand (`workbench --org demo history`, `workbench history --org demo`)."""


class Env:
    """The resolved settings and service of one command invocation."""

    def __init__(self, home: Path | None, org: str | None, as_json: bool, remote: str | None = None) -> None:
        from workbench.settings import Settings

        overrides: dict[str, Any] = {}
        if home is not None:
            overrides["home"] = home
        if org is not None:
            overrides["org"] = org
        if remote is not None:
            overrides["remote"] = remote
        try:
            self.settings = Settings(**overrides)
        except ValueError as error:  # a bad WORKBENCH_* value (pydantic's ValidationError is a ValueError)
            from workbench.errors import validation_error_from_pydantic

            raise validation_error_from_pydantic(error, "settings (WORKBENCH_* variables and options)") from None
        self.org = self.settings.org
        self.as_json = as_json
        self._service: ToolsApi | None = None

    @property
    def org_chosen(self) -> bool:
        """Whether the organization was asked for (an option or $WORKBENCH_ORG), not defaulted."""
        return "org" in self.settings.model_fields_set

    @property
    def service(self) -> ToolsApi:
        """The local service, or in remote mode one that speaks the Tools API to a server."""
        if self._service is None:
            from workbench.connect import open_api

            self._service = open_api(self.settings, self.org)
        return self._service

    def local_service(self, what: str) -> ServedApi:
        """The local service, for what only a data directory can do (serving it, for one)."""
        if self.settings.remote:
            fail(f"{what} works on a local data directory, not in remote mode (unset WORKBENCH_REMOTE / --remote)")
        from workbench.connect import open_local

        return open_local(self.settings)

    def tool_id(self, name_or_id: str) -> str:
        """Resolve a TOOL argument (a name or an id) to the tool's id."""
        return self.service.find_tool(self.org, name_or_id).id


def context_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --home, --org and --remote (where to work) to a command or group."""
    func = click.option(
        "--remote", default=None, metavar="URL", help="Work against a Tools API server (default: $WORKBENCH_REMOTE; key from $WORKBENCH_API_KEY_ID and $WORKBENCH_API_KEY)."
    )(func)
    func = click.option("--org", default=None, help="Organization (default: $WORKBENCH_ORG, else 'default').")(func)
    return click.option(
        "--home",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="Data directory (default: $WORKBENCH_HOME, else the platform's user data dir).",
    )(func)


def given_anywhere(name: str, value: Any) -> Any:
    """A context option's value: as given to the command itself, else to the nearest group
    above it that has it (`workbench --org demo tool list`)."""
    if value is not None:
        return value
    context = click.get_current_context(silent=True)
    while context is not None:
        if context.params.get(name) is not None:
            return context.params[name]
        context = context.parent
    return None


def command_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --home, --org, --remote and --json to a command and hand it an :class:`Env` as ``env``."""

    @context_options
    @click.option("--json", "as_json", is_flag=True, help="Print the API's response body as JSON.")
    @functools.wraps(func)
    def wrapper(*args: Any, home: Path | None, org: str | None, as_json: bool, remote: str | None, **kwargs: Any) -> Any:
        env = Env(given_anywhere("home", home), given_anywhere("org", org), as_json, given_anywhere("remote", remote))
        return func(*args, env=env, **kwargs)

    return wrapper


def accept_context_options(group: click.Group) -> click.Group:
    """Let a command group take --home/--org/--remote before its subcommand
    (`workbench tool --org demo list`); the subcommand reads them with :func:`given_anywhere`."""
    callback = group.callback
    group.params.extend(reversed(context_options(lambda: None).__click_params__))  # type: ignore[attr-defined]

    @functools.wraps(callback or (lambda: None))
    def without_them(*args: Any, **kwargs: Any) -> Any:
        for name in CONTEXT_OPTIONS:
            kwargs.pop(name, None)
        return callback(*args, **kwargs) if callback else None

    group.callback = without_them
    return group


def _plain(value: Any) -> Any:
    """JSON for what the API returns beyond dicts: models, dataclasses, times."""
    if hasattr(value, "model_dump"):  # a pydantic model (not imported here: it is slow to import)
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | set):
        return list(value)
    raise TypeError(f"cannot print {type(value).__name__} as JSON")


def print_json(payload: Any) -> None:
    click.echo(json.dumps(payload, indent=2, default=_plain))


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A table; every column but the last stays on one line, the last one wraps."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    for index, column in enumerate(columns):
        table.add_column(column, no_wrap=index < len(columns) - 1, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)  # piped: don't squeeze ids into a guessed 80 columns
    console.print(table)


def print_fields(fields: Sequence[tuple[str, Any]]) -> None:
    width = max(len(label) for label, _ in fields)
    for label, value in fields:
        click.echo(f"{label.ljust(width)}  {'' if value is None else value}")


def parse_bool(value: str | None) -> bool | None:
    return None if value is None else value == "true"


def fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)
