"""`workbench doctor` and `workbench runtime prune`: what runs tools here, and tidying up."""

from __future__ import annotations

from dataclasses import asdict

import click

from workbench.cli.common import Env, command_options, print_fields, print_json
from workbench.cli.data import data_health_dict, print_data_health


@click.command("doctor")
@command_options
def doctor(env: Env) -> None:
    """Say which runtime builds and runs tools here, why, and how to fix what is missing."""
    report = env.local_service("the runtime report").runtime_report()
    if env.as_json:
        print_json({**asdict(report), "data": data_health_dict(env)})
        return
    daemon = f"reachable (Docker {report.daemon})" if report.daemon else f"not reachable ({report.daemon_error or 'not checked'})"
    image = {True: "present", False: "missing", None: "not checked"}[report.base_image_present]
    print_fields(
        [
            ("runtime", f"{report.active} ({report.reason})"),
            ("setting", f"WORKBENCH_RUNTIME={report.setting}"),
            ("docker daemon", daemon),
            ("base image", f"{report.base_image}: {image}"),
            ("data directory", str(env.settings.paths().home)),
            ("tools repository", str(env.settings.tools_repo_path())),
        ]
    )
    for fix in report.fixes:
        click.echo(f"fix: {fix}")
    print_data_health(env)


@click.group("runtime")
def runtime_group() -> None:
    """Manage the runtime's containers and images."""


@runtime_group.command("prune")
@command_options
def prune(env: Env) -> None:
    """Remove stopped workbench containers and the images of deprecated versions and test builds."""
    removed = env.service.prune_runtime()
    if env.as_json:
        print_json(removed)
    else:
        click.echo(f"removed {removed.containers} stopped container(s) and {removed.images} image(s)")
