"""`workbench repair` and the data section of `workbench doctor`: is the data directory whole,
and what makes it so."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from workbench.cli.common import Env, command_options, fail, print_json

if TYPE_CHECKING:
    from workbench.core.results import Finding, HealthReport


def data_health(env: Env) -> HealthReport:
    """The health check of the local data directory."""
    return env.local_service("checking the data directory").data_health()


def data_health_dict(env: Env) -> dict[str, Any]:
    """The data section for `workbench doctor --json`."""
    return data_health(env).to_dict()


def print_data_health(env: Env) -> None:
    """The data section of `workbench doctor` (in text; see :func:`data_health_dict` for JSON)."""
    if env.settings.remote:
        click.echo("data: remote mode; run `workbench doctor` on the server's machine to check its data")
        return
    report = data_health(env)
    click.echo(f"\ndata directory health: {'healthy' if report.healthy else 'NEEDS REPAIR'}")
    _print_findings(report.findings)
    if any(f.action for f in report.findings):
        click.echo("fix: run `workbench repair` to carry out the repairs above (it asks first)")


def _print_findings(findings: list[Finding], repairs: bool = True) -> None:
    width = max((len(f.part) for f in findings), default=0)
    for finding in findings:
        click.echo(f"  {'ok' if finding.healthy else 'PROBLEM':<8} {finding.part.ljust(width)}  {finding.found}")
        if repairs and finding.repair:
            click.echo(f"  {'':<8} {''.ljust(width)}  {'repair' if finding.action else 'to do'}: {finding.repair}")


@click.command("repair")
@click.option("--yes", is_flag=True, help="Repair without asking first.")
@command_options
def repair(env: Env, yes: bool) -> None:
    """Repair the data directory: restore a damaged metadata.json or secrets.json from the copies
    the workbench keeps, keep damaged invocation lines aside, rebuild the catalog.

    Shows what it will do and asks first (--yes does not ask). Nothing damaged is deleted: it is
    kept in quarantine/. With --json and without --yes it prints the plan and changes nothing.
    """
    if env.settings.remote:
        fail("repair works on a local data directory; run it on the server's machine")
    service = env.local_service("repairing the data directory")
    plan = service.data_health()
    steps = [f for f in plan.findings if f.action]
    if not steps or (env.as_json and not yes):
        _report_without_changes(env, plan, steps)
        return
    if not env.as_json:
        click.echo(f"workbench repair will, in {env.settings.paths().home}:")
        for finding in steps:
            click.echo(f"  - {finding.part}: {finding.repair}")
        if not yes:
            click.confirm("Repair now?", abort=True)
    outcome = service.repair_data(plan)
    if env.as_json:
        print_json(outcome.to_dict())
    else:
        click.echo("done:")
        for line in outcome.done:
            click.echo(f"  - {line}")
        _say_verdict(outcome.after)
    if outcome.left:
        sys.exit(1)


def _report_without_changes(env: Env, plan: HealthReport, steps: list[Finding]) -> None:
    if env.as_json:
        print_json({"plan": [f.to_dict() for f in steps], **plan.to_dict()})
    else:
        _say_verdict(plan, idle=True)
    if plan.problems:
        sys.exit(1)


def _say_verdict(report: HealthReport, idle: bool = False) -> None:
    if report.healthy:
        click.echo("the data directory is healthy" + ("; nothing to repair" if idle else ""))
        return
    click.echo("left for you (repair cannot do these):")
    _print_findings(report.problems)
