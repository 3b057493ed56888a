"""`workbench publish`, `workbench versions` and `workbench deprecate`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from workbench.cli.common import Env, command_options, parse_bool, print_json, print_table

if TYPE_CHECKING:
    from workbench.core.results import StageEvent


def stage_printer(event: StageEvent) -> None:
    """Publish/test stages as they happen, on stderr so --json output stays clean."""
    if event.state == "running":
        click.echo(f"» {event.stage}", err=True)
    elif event.state == "output":
        click.echo(f"    {event.detail}", err=True)
    elif event.state == "failed":
        click.echo(f"✗ {event.stage} failed", err=True)
    elif event.detail:
        click.echo(f"✓ {event.stage} ({event.detail})", err=True)


@click.command("publish")
@click.argument("tool")
@click.option("--path", "project_path", required=True, help="Project directory in the tools repository.")
@click.option("--bump", "bump_type", type=click.Choice(["major", "minor", "patch"]), required=True)
@click.option("--branch", default=None, help="Publish from this branch's tip (default: per --repo).")
@click.option("--repo", type=click.Choice(["main", "team"]), default="main", show_default=True, help="main: the main branch; team: the team branch.")
@command_options
def publish(env: Env, tool: str, project_path: str, bump_type: str, branch: str | None, repo: str) -> None:
    """Build, check and publish a new version of TOOL from a branch of the tools repository."""
    response = env.service.publish_version(
        env.org, env.tool_id(tool), {"repo": repo, "project_path": project_path, "bump_type": bump_type}, branch=branch, on_stage=stage_printer
    )
    if env.as_json:
        print_json(response)
    else:
        click.echo(f"published {tool} {response.new_version}")


@click.command("versions")
@click.argument("tool")
@click.option("--constraint", default=None, help="PEP 440 constraint, e.g. '>=1.2,<2'.")
@click.option("--deprecated", type=click.Choice(["true", "false"]), default=None)
@click.option("--creator", "creators", multiple=True, metavar="ORG_ID,USER_ID", help="Repeatable.")
@click.option("--sort-by", "sort_by", multiple=True, metavar="[+|-]FIELD", help="created_at, version.major, version.minor, version.patch, deprecated.")
@click.option("--limit", type=int, default=50, show_default=True, help="0 to 50.")
@click.option("--continuation-token", "continuation_token", type=int, default=0)
@command_options
def versions(env: Env, tool: str, constraint: str | None, deprecated: str | None, creators: tuple[str, ...], sort_by: tuple[str, ...], limit: int, continuation_token: int) -> None:
    """List TOOL's versions."""
    response = env.service.list_versions(
        env.org,
        env.tool_id(tool),
        {"versions": constraint, "deprecated": parse_bool(deprecated), "creator": list(creators), "sort_by": list(sort_by), "limit": limit, "continuation_token": continuation_token},
    )
    if env.as_json:
        print_json(response)
        return
    print_table(
        f"Versions of {tool}",
        ["VERSION", "COMMIT", "CREATED", "CREATOR", "REQUIRES", "DEPRECATED", "PATH"],
        (
            [
                str(v.version),
                v.tool_commit_hash[:12],
                f"{v.created_at:%Y-%m-%d %H:%M}",
                v.creator.user_id,
                ", ".join([*v.required_envvars, *(f"{n} (secret)" for n in v.required_secret_envvars)]),
                "yes" if v.deprecated else "",
                v.project_directory,
            ]
            for v in response.tool_versions
        ),
    )
    if response.has_more:
        click.echo(f"more: --continuation-token {response.continuation_token}")


@click.command("deprecate")
@click.argument("tool")
@click.option("--versions", "constraint", required=True, help="PEP 440 constraint of the versions to deprecate.")
@command_options
def deprecate(env: Env, tool: str, constraint: str) -> None:
    """Deprecate TOOL's versions that match a constraint; they can no longer be invoked."""
    labels = env.service.deprecate_versions(env.org, env.tool_id(tool), constraint)
    if not env.as_json:
        click.echo(f"deprecated {', '.join(labels)}" if labels else f"no active version of {tool} matches {constraint!r}")
