"""Simulation reports as JUnit XML, the format CI systems read: one test suite per scenario, one
test case per turn of each run, a failure per failed expectation."""

from __future__ import annotations

from xml.etree import ElementTree

from workbench.core.simulation.report import SimulationReport, TurnReport


def _case(suite: ElementTree.Element, report: SimulationReport, run_index: int, turn: TurnReport) -> None:
    case = ElementTree.SubElement(
        suite, "testcase", classname=f"simulation.{report.scenario}", name=f"run {run_index} {turn.title}", time=f"{turn.duration_ms / 1000:.3f}"
    )
    failed = [e for e in turn.expectations if not e.passed]
    if failed:
        failure = ElementTree.SubElement(case, "failure", message=failed[0].message, type="ExpectationFailed")
        failure.text = "\n".join(e.message for e in failed)
    details = [f"{turn.spec} of {turn.state}: {turn.tool_name} {turn.version} ({turn.version_constraint})", f"persistence: {turn.persistence.mode} -> {turn.persistence.outcome}"]
    if turn.filler.fired:
        details.append(f"audio filler: {turn.filler.note}")
    if turn.invocation_id:
        details.append(f"invocation: {turn.invocation_id}")
    ElementTree.SubElement(case, "system-out").text = "\n".join(details)


def junit_xml(reports: list[SimulationReport], errors: dict[str, str] | None = None) -> str:
    """The reports as one JUnit XML document; ``errors`` (scenario file -> why it could not run)
    become suites with an error each."""
    root = ElementTree.Element("testsuites", name="workbench simulate")
    for scenario, message in (errors or {}).items():
        suite = ElementTree.SubElement(root, "testsuite", name=scenario, tests="1", failures="0", errors="1", time="0")
        case = ElementTree.SubElement(suite, "testcase", classname="simulation", name=f"{scenario} runs")
        ElementTree.SubElement(case, "error", message=message.splitlines()[0], type="ScenarioCannotRun").text = message
    for report in reports:
        turns = [(run.run_index, turn) for run in report.runs for turn in run.turns]
        failures = sum(1 for _, turn in turns if not turn.passed)
        suite = ElementTree.SubElement(
            root, "testsuite", name=report.scenario, tests=str(len(turns)), failures=str(failures), errors="0",
            time=f"{report.duration_ms / 1000:.3f}", timestamp=report.started_at.isoformat(),
        )
        properties = ElementTree.SubElement(suite, "properties")
        for name, value in (("mode", report.mode), ("graph", f"{report.graph_name} v{report.graph_version}"), ("simulation_unit_test_set_run_id", report.simulation_unit_test_set_run_id), ("unit_test_id", report.unit_test_id)):
            if value:
                ElementTree.SubElement(properties, "property", name=name, value=value)
        for run_index, turn in turns:
            _case(suite, report, run_index, turn)
    root.set("tests", str(sum(int(s.get("tests", "0")) for s in root)))
    root.set("failures", str(sum(int(s.get("failures", "0")) for s in root)))
    root.set("errors", str(sum(int(s.get("errors", "0")) for s in root)))
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"
