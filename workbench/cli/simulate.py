"""`workbench graph check` and `workbench simulate`: context graphs checked against the
organization, and scenarios run turn by turn, with a report a person (or CI) can read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from workbench.cli.common import Env, command_options, fail, print_json
from workbench.errors import WorkbenchError
from workbench.names import new_id

if TYPE_CHECKING:
    from workbench.core.simulation.report import GraphCheck, SimulationReport, SimulationStep, TurnReport

PREVIEW = 100


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW else f"{flat[:PREVIEW]}… ({len(text):,} characters)"


def print_graph_check(path: Path, check: GraphCheck) -> None:
    version = f" v{check.graph_version}" if check.graph_version else ""
    click.echo(f"context graph {check.graph_name}{version} ({path}): {check.states} states, {len(check.specs)} tool call specs")
    for problem in check.graph_problems:
        click.echo(f"  ✗ {problem}")
    for state, problems in check.state_problems.items():
        for problem in problems:
            click.echo(f"  ✗ {problem}")
    for spec in check.specs:
        mark = "✗" if spec.problems else "✓"
        resolved = f" → {spec.resolved_version}" if spec.resolved_version else ""
        by = f" (by {spec.referenced_by})" if spec.referenced_by and spec.tool_id else ""
        click.echo(f"  {mark} {spec.state} · {spec.location}: {spec.tool_name or spec.tool_ref}{by} {spec.version_constraint or ''}{resolved} · {spec.result_persistence or '?'}")
        for problem in spec.problems:
            click.echo(f"      ✗ {problem}")
        for note in spec.notes:
            click.echo(f"      · {note}")
    for note in check.notes:
        click.echo(f"  · {note}")
    click.echo(f"{len(check.problems)} problem(s)" if check.problems else "no problems")


@click.group("graph")
def graph_group() -> None:
    """Context graphs: the states whose tool call specs name your tools."""


@graph_group.command("check")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--resolved", is_flag=True, help="Print the graph with tool ids in place of names (what the hosted API takes).")
@command_options
def check_graph(env: Env, file: Path, resolved: bool) -> None:
    """Check every tool call spec of the graph in FILE (JSON or YAML) against the organization:
    the tool exists and is live, the constraint resolves to an active version, the persistence
    and audio-filler fields are valid, a designated tool's input schema is usable."""
    check = env.service.check_graph(env.org, env.service.read_graph_file(file))
    if env.as_json:
        print_json(check)
    elif resolved and check.resolved is not None:
        click.echo(json.dumps(check.resolved, indent=2))
    else:
        print_graph_check(file, check)
    if not check.ok:
        raise SystemExit(1)


def _turn_line(turn: TurnReport) -> str:
    mark = "✓" if turn.passed else "✗"
    outcome = "ok" if turn.succeeded else f"failed: {turn.error_type}"
    size = f" · {turn.output_characters:,} chars" if turn.output is not None else ""
    filler = f" · filler {turn.filler.spoken!r} at {turn.filler.triggered_after_s:g} s" if turn.filler.fired and turn.filler.spoken else (" · slow, no filler" if turn.filler.fired else "")
    return f"  {mark} turn {turn.index} {turn.state} · {turn.tool_name} {turn.version} · {turn.duration_ms:,} ms · {outcome}{size} · {turn.persistence.mode} → {turn.persistence.outcome}{filler}"


def _print_log(turn: TurnReport) -> None:
    click.echo("      the agent's interaction log at this turn:")
    for entry in turn.interaction_log:
        label = {"user": "user", "tool-call": "call", "tool-result": "result", "tool-error": "error"}[entry.kind]
        now = "" if entry.current else " (kept)"
        click.echo(f"        [{entry.turn}] {label}{now}: {_preview(entry.text)}")
    for omission in turn.omitted:
        click.echo(f"        not here: turn {omission.turn} {omission.tool}: {omission.reason}")


def print_report(report: SimulationReport, show_log: bool) -> None:
    ids = f"set run {report.simulation_unit_test_set_run_id} · unit test {report.unit_test_id}" if report.simulation_unit_test_set_run_id else "regular conversation"
    click.echo(f"scenario {report.scenario} ({report.mode}) over {report.graph_name} v{report.graph_version} · {ids}")
    for warning in report.warnings:
        click.echo(f"  ! graph: {warning}")
    for run in report.runs:
        conversation = f" · conversation {run.conversation_id}" if run.conversation_id else ""
        click.echo(f" run {run.run_index}{conversation}")
        for turn in run.turns:
            click.echo(_turn_line(turn))
            for expectation in turn.expectations:
                if not expectation.passed:
                    click.echo(f"      ✗ {expectation.message}")
            if turn.persistence.outcome != "persisted" or not turn.succeeded:
                click.echo(f"      · {turn.error_message if turn.error_type == 'ToolResultTooLarge' else turn.persistence.explanation}")
            if show_log:
                _print_log(turn)
    turns = [t for r in report.runs for t in r.turns]
    failed = sum(1 for t in turns if not t.passed)
    verdict = "passed" if report.passed else "FAILED"
    click.echo(f" {verdict}: {len(turns) - failed} of {len(turns)} turns met their expectations ({len(report.runs)} run(s), {report.duration_ms / 1000:.1f} s)")
    if report.simulation_unit_test_set_run_id:
        click.echo(f" its invocations: workbench history --run-id {report.simulation_unit_test_set_run_id}")
    elif report.runs and report.runs[0].conversation_id:
        click.echo(f" its invocations: workbench history --conversation-id {report.runs[0].conversation_id}")


def _progress(step: SimulationStep) -> None:
    click.echo(f"» run {step.run + 1}/{step.runs} turn {step.turn}/{step.turns}: {step.label}", err=True)


@click.command("simulate")
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--runs", type=click.IntRange(1, 100), default=1, show_default=True, help="Run each scenario this many times.")
@click.option("--junit", "junit_path", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Also write a JUnit XML report here (for CI).")
@click.option("--log", "show_log", is_flag=True, help="Show the agent's interaction log at every turn.")
@command_options
def simulate(env: Env, scenarios: tuple[Path, ...], runs: int, junit_path: Path | None, show_log: bool) -> None:
    """Run SCENARIO files over their context graphs: each turn's tool call invoked (recorded as a
    conversation's invocation), its result persisted or not by its spec, the interaction log the
    agent would see, audio fillers for slow calls, and the expectations checked. Exits 1 if any
    expectation fails or a scenario cannot run."""
    set_run_id = new_id()  # scenarios run together are one unit test set run
    reports: list[SimulationReport] = []
    errors: dict[str, str] = {}
    for path in scenarios:
        try:
            request = env.service.read_scenario_file(path, runs).model_copy(update={"simulation_unit_test_set_run_id": set_run_id})
            report = env.service.simulate(env.org, request, on_progress=None if env.as_json else _progress)
        except WorkbenchError as error:
            errors[str(path)] = error.message
            click.echo(f"error: {path}: {error.message}", err=True)
            continue
        reports.append(report)
        if not env.as_json:
            print_report(report, show_log)
    if env.as_json:
        print_json({"reports": [r.model_dump(mode="json") for r in reports], "errors": errors})
    if junit_path is not None:
        from workbench.core.simulation.junit import junit_xml

        try:
            junit_path.write_text(junit_xml(reports, errors))
        except OSError as error:
            fail(f"cannot write the JUnit report to {junit_path}: {error.strerror}")
    if errors or not all(r.passed for r in reports):
        raise SystemExit(1)
