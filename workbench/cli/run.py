"""`workbench new`, `workbench test` and `workbench invoke`."""

from __future__ import annotations

import json
import sys
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


def input_options(required: bool = True) -> list:
    return [
        click.option("--input", "inputs", multiple=True, required=required, metavar="JSON|@FILE", help="Input parameters; repeat for up to 10 inputs run in parallel."),
        click.option("--mode", type=MODES, default="regular", show_default=True),
        click.option("--var", "user_vars", multiple=True, metavar="NAME=VALUE", help="A nonsensitive user variable."),
        click.option("--secret-var", "secret_user_vars", multiple=True, metavar="NAME=VALUE", help="A sensitive user variable (masked in records)."),
    ]


def with_input_options(func, required: bool = True):
    for option in reversed(input_options(required)):
        func = option(func)
    return func


def optional_inputs(func):
    """The input options, with --input optional (`workbench test` can run --fixtures instead)."""
    return with_input_options(func, required=False)


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
@optional_inputs
@click.option("--env", "envs", multiple=True, metavar="NAME=VALUE", help="An environment variable the tool requires.")
@click.option("--secret", "secrets", multiple=True, metavar="NAME=VALUE", help="A secret environment variable (masked in results).")
@click.option("--fixtures", "fixtures_file", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Check the branch against these fixtures (from `workbench export`).")
@click.option("--tool", "tool", default=None, help="With --fixtures: run with this tool's stored variables instead of --env/--secret.")
@command_options
def test(env: Env, branch: str, project_path: str, inputs, mode, user_vars, secret_user_vars, envs, secrets, fixtures_file: Path | None, tool: str | None) -> None:
    """Validate, build, check and run a project from a branch, without publishing; with
    --fixtures, check it against recorded inputs and outputs (exit 1 if one fails)."""
    if fixtures_file is not None:
        check_fixtures(env, branch, project_path, fixtures_file, tool, parse_pairs(envs, "--env"), parse_pairs(secrets, "--secret"))
        return
    if not inputs:
        fail("give --input (up to 10) or --fixtures FILE", 2)
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


def check_fixtures(env: Env, branch: str, project_path: str, path: Path, tool: str | None, envs: dict[str, str], secrets: dict[str, str]) -> None:
    """`workbench test --fixtures`: every fixture against the branch; a failing one fails."""
    from workbench.cli.fixtures import print_fixture_report

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read the fixtures {path}: {getattr(error, 'strerror', None) or error}")
    request: dict[str, Any] = {"fixtures": text, "commit_branch": branch, "project_path": project_path}
    if tool is not None:
        request["tool_id"] = env.tool_id(tool)
    request |= {"required_envvars": envs, "required_secret_envvars": secrets}
    report = env.service.check_fixtures(env.org, request, on_stage=None if env.as_json else stage_printer)
    print_json(report) if env.as_json else print_fixture_report(report)
    if report.failed:
        sys.exit(1)
