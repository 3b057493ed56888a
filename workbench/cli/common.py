"""What every CLI command shares: the --home/--org/--json options, output and error rendering."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from workbench.core.service import ToolService
from workbench.settings import Settings


SERVICES: list[Any] = []  # made by this command; flushed (search index) before it exits


class Env:
    """The resolved settings and service of one command invocation."""

    def __init__(self, home: Path | None, org: str | None, as_json: bool, remote: str | None = None) -> None:
        overrides: dict[str, Any] = {}
        if home is not None:
            overrides["home"] = home
        if org is not None:
            overrides["org"] = org
        if remote is not None:
            overrides["remote"] = remote
        self.settings = Settings(**overrides)
        self.org = self.settings.org
        self.as_json = as_json
        self._service: Any = None

    @property
    def service(self) -> Any:
        """The local service, or in remote mode one that speaks the Tools API to a server."""
        if self._service is None:
            if self.settings.remote:
                from workbench.remote.client import ToolsClient
                from workbench.remote.service import RemoteService

                if not (self.settings.api_key_id and self.settings.api_key):
                    fail("remote mode needs an API key: set WORKBENCH_API_KEY_ID and WORKBENCH_API_KEY (see `workbench apikey create` on the server's machine)")
                client = ToolsClient(self.settings.remote, self.org, self.settings.api_key_id, self.settings.api_key, self.settings.user)
                self._service = RemoteService(self.settings, client)
            else:
                self._service = ToolService(self.settings)
            SERVICES.append(self._service)
        return self._service

    def tool_id(self, name_or_id: str) -> str:
        """Resolve a TOOL argument (a name or an id) to the tool's id."""
        return self.service.find_tool(self.org, name_or_id).id


def command_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --home, --org and --json to a command and hand it an :class:`Env` as ``env``."""

    @click.option(
        "--home",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="Data directory (default: $WORKBENCH_HOME, else the platform's user data dir).",
    )
    @click.option("--org", default=None, help="Organization (default: $WORKBENCH_ORG, else 'default').")
    @click.option("--json", "as_json", is_flag=True, help="Print the API's response body as JSON.")
    @click.option("--remote", default=None, metavar="URL", help="Work against a Tools API server (default: $WORKBENCH_REMOTE; key from $WORKBENCH_API_KEY_ID and $WORKBENCH_API_KEY).")
    @functools.wraps(func)
    def wrapper(*args: Any, home: Path | None, org: str | None, as_json: bool, remote: str | None, **kwargs: Any) -> Any:
        return func(*args, env=Env(home, org, as_json, remote), **kwargs)

    return wrapper


def print_json(payload: BaseModel | dict[str, Any] | list[Any]) -> None:
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="json")
    click.echo(json.dumps(payload, indent=2))


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A table; every column but the last stays on one line, the last one wraps."""
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
