"""`workbench new`, `workbench test` and `workbench invoke`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from workbench.cli.common import Env, command_options, fail, print_json
from workbench.cli.versions import stage_printer

if TYPE_CHECKING:
    from workbench.core.requests import InvokeResponse

MODES = click.Choice(["regular", "conversation-simulation"])


def parse_input(raw: str) -> dict[str, Any]:
    """An input's parameters: inline JSON, or @FILE with JSON in it."""
    text = raw
    if raw.startswith("@"):
        try:
            text = Path(raw[1:]).read_text()
        except OSError as error:
            fail(f"cannot read input file {raw[1:]}: {error.strerror}")
    try:
        value = json.loads(text)
    except ValueError as error:
        fail(f"--input is not valid JSON ({error}): {raw[:80]}")
    if not isinstance(value, dict):
        fail("--input must be a JSON object of input parameters")
    return value


def parse_pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    pairs = {}
    for raw in values:
        name, sep, value = raw.partition("=")
        if not sep:
            fail(f"{option} takes NAME=VALUE, got {raw!r}")
        pairs[name] = value
    return pairs


def build_inputs(inputs: tuple[str, ...], mode: str, user_vars: tuple[str, ...], secret_user_vars: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {
            "input_parameters": parse_input(raw),
            "invocation_mode": mode,
            "nonsensitive_user_variables": parse_pairs(user_vars, "--var"),
            "sensitive_user_variables": parse_pairs(secret_user_vars, "--secret-var"),
        }
        for raw in inputs
    ]


def print_results(response: InvokeResponse) -> None:
    for index, result in enumerate(response.invocation_results):
        if result.succeeded:
            click.echo(f"#{index} succeeded in {result.duration_ms} ms ({len(result.output):,} characters)")
            click.echo(result.output)
        else:
            click.echo(f"#{index} failed in {result.duration_ms} ms: {result.exception_type}: {result.exception_message}")
            for line in result.exception_stack_trace:
                click.echo(f"    {line}")


input_options = [
    click.option("--input", "inputs", multiple=True, required=True, metavar="JSON|@FILE", help="Input parameters; repeat for up to 10 inputs run in parallel."),
    click.option("--mode", type=MODES, default="regular", show_default=True),
    click.option("--var", "user_vars", multiple=True, metavar="NAME=VALUE", help="A nonsensitive user variable."),
    click.option("--secret-var", "secret_user_vars", multiple=True, metavar="NAME=VALUE", help="A sensitive user variable (masked in records)."),
]


def with_input_options(func):
    for option in reversed(input_options):
        func = option(func)
    return func


@click.command("new")
@click.argument("name")
@click.option("--path", "path", type=click.Path(path_type=Path, file_okay=False), default=None, help="Where to create it (default: ./NAME).")
@click.option("--description", default=None)
def new(name: str, path: Path | None, description: str | None) -> None:
    """Create a complete tool project NAME that passes its own checks."""
    from workbench.connect import create_project

    target = create_project(name, path or Path(name), description)
    click.echo(f"created tool project {name} at {target}")
    click.echo("commit it to the tools repository, then: workbench test --branch BRANCH --path PATH --input '{\"name\": \"Ada\"}'")


@click.command("test")
@click.option("--branch", required=True, help="Test the tip of this branch of the tools repository.")
@click.option("--path", "project_path", required=True, help="Project directory in the tools repository.")
@with_input_options
@click.option("--env", "envs", multiple=True, metavar="NAME=VALUE", help="An environment variable the tool requires.")
@click.option("--secret", "secrets", multiple=True, metavar="NAME=VALUE", help="A secret environment variable (masked in results).")
@command_options
def test(env: Env, branch: str, project_path: str, inputs, mode, user_vars, secret_user_vars, envs, secrets) -> None:
    """Validate, build, check and run a project from a branch, without publishing."""
    response = env.service.test_tool(
        env.org,
        {
            "inputs": build_inputs(inputs, mode, user_vars, secret_user_vars),
            "commit_branch": branch,
            "project_path": project_path,
            "required_envvars": parse_pairs(envs, "--env"),
            "required_secret_envvars": parse_pairs(secrets, "--secret"),
        },
        on_stage=stage_printer,
    )
    print_json(response) if env.as_json else print_results(response)


@click.command("invoke")
@click.argument("tool")
@click.argument("version")
@with_input_options
@command_options
def invoke(env: Env, tool: str, version: str, inputs, mode, user_vars, secret_user_vars) -> None:
    """Invoke VERSION of TOOL (an exact version, or a constraint such as '>=1,<2')."""
    response = env.service.invoke_version(env.org, env.tool_id(tool), version, {"inputs": build_inputs(inputs, mode, user_vars, secret_user_vars)})
    print_json(response) if env.as_json else print_results(response)
