"""`workbench doctor`, `workbench runtime prepare` and `prune`: what runs tools here, how sealed,
making this machine ready, and tidying up."""

from __future__ import annotations

from dataclasses import asdict

import click

from workbench.cli.common import Env, command_options, print_fields, print_json
from workbench.cli.data import data_health_dict, print_data_health


def runtime_summary(env: Env) -> dict[str, str]:
    """The runtime in use, why, and its sandbox: what `workbench paths` adds to the paths."""
    report = env.local_service("the runtime report").runtime_report()
    return {"runtime": f"{report.active} ({report.reason})", "sandbox": report.sandbox}


def _prepare(env: Env, docker: bool) -> list[dict[str, str]]:
    say = (lambda _: None) if env.as_json else (lambda line: click.echo(f"... {line}", err=True))
    return [asdict(step) for step in env.local_service("preparing the runtime").prepare_runtime(docker, say)]


def _print_steps(steps: list[dict[str, str]]) -> None:
    for step in steps:
        click.echo(f"{step['name']}: {step['status']} ({step['detail']})")


@click.command("doctor")
@click.option("--fix", is_flag=True, help="First make this machine ready (as `workbench runtime prepare` does).")
@command_options
def doctor(env: Env, fix: bool) -> None:
    """Say which runtime builds and runs tools here, why, which sealing guarantees hold on this
    machine (it starts a sandbox to check), and how to fix what is missing."""
    steps = _prepare(env, docker=True) if fix else []
    report = env.local_service("the runtime report").runtime_report(probe=True)
    if env.as_json:
        print_json({**asdict(report), **({"prepared": steps} if fix else {}), "data": data_health_dict(env)})
        return
    _print_steps(steps)
    daemon = f"reachable (Docker {report.daemon})" if report.daemon else f"not reachable ({report.daemon_error or 'not checked'})"
    image = {True: "present", False: "missing", None: "not checked"}[report.base_image_present]
    print_fields(
        [
            ("runtime", f"{report.active} ({report.reason})"),
            ("setting", f"WORKBENCH_RUNTIME={report.setting}"),
            ("sandbox", report.sandbox),
            ("docker daemon", daemon),
            ("base image", f"{report.base_image}: {image}"),
            ("data directory", str(env.settings.paths().home)),
            ("tools repository", str(env.settings.tools_repo_path())),
        ]
    )
    click.echo(f"guarantees of the {report.active} runtime on this machine (checked by sealing a run):")
    for guarantee in report.guarantees:
        click.echo(f"  {'yes' if guarantee.holds else 'NO '}  {guarantee.name}: {guarantee.what}")
    for fix_text in report.fixes:
        click.echo(f"fix: {fix_text}")
    print_data_health(env)


@click.group("runtime")
def runtime_group() -> None:
    """Prepare the runtimes, and manage their containers and images."""


@runtime_group.command("prepare")
@click.option("--no-docker", is_flag=True, help="Only the process runtime's sandbox (bubblewrap).")
@command_options
def prepare_command(env: Env, no_docker: bool) -> None:
    """Make this machine run tools sealed: install bubblewrap, start Docker and make the base image
    from Debian packages (as root; otherwise say how). Safe to run again."""
    steps = _prepare(env, docker=not no_docker)
    if env.as_json:
        print_json(steps)
    else:
        _print_steps(steps)
    if any(step["status"] == "failed" for step in steps):
        raise SystemExit(1)


@runtime_group.command("prune")
@command_options
def prune(env: Env) -> None:
    """Remove stopped workbench containers and the images of deprecated versions and test builds."""
    removed = env.service.prune_runtime()
    if env.as_json:
        print_json(removed)
    else:
        click.echo(f"removed {removed.containers} stopped container(s) and {removed.images} image(s)")
