"""The results of a run: a summary line (3/3 succeeded, total time, what ran), then each result
with its input, output or exception and logs; what each ``result_persistence`` mode would do is
said once for all of them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from textual.content import Content

from workbench.core.results import Outcome
from workbench.tui.text import plural

OUTPUT_SHOWN = 4000  # characters of an output shown in the pane; the detail view has it all
TRACE_SHOWN = 30


@dataclass(frozen=True)
class RunReport:
    """What ran (``version 1.0.0 (commit 0cd95a1)`` or ``branch main``), the inputs sent, the
    outcomes, and the wall time of the whole run."""

    target: str
    inputs: list[dict[str, Any]]
    outcomes: list[Outcome]
    elapsed_ms: int


def pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text


def ran_on(report: RunReport) -> str:
    """The target, with the commit a test ran (the core says which tip it built)."""
    first = report.outcomes[0] if report.outcomes else None
    if first is not None and first.branch:
        return f"branch {first.branch} at {first.commit[:10]}" if first.commit else f"branch {first.branch}"
    return report.target


def summary(report: RunReport) -> Content:
    succeeded = sum(1 for o in report.outcomes if o.result.succeeded)
    total = len(report.outcomes)
    style = "bold $text-success" if succeeded == total else "bold $text-error" if succeeded == 0 else "bold $text-warning"
    return Content.from_markup(
        f"[{style}]$counts succeeded[/] · $elapsed in all · $target",
        counts=f"{succeeded}/{total}",
        elapsed=f"{report.elapsed_ms:,} ms",
        target=ran_on(report),
    )


def result_content(index: int, outcome: Outcome, sent: dict[str, Any]) -> Content:
    """One result: its header, the input it ran with, output or exception, logs."""
    result = outcome.result
    recorded = outcome.input.get("input_parameters", outcome.input) if outcome.input else None
    shown_input = recorded if recorded is not None else sent  # the recorded (masked) input where the service returns it
    parts: list[Content] = []
    if result.succeeded:
        parts.append(Content.from_markup(f"[b $text-success]#{index} succeeded[/] in $ms · $size", ms=f"{result.duration_ms} ms", size=plural(len(result.output), "character")))
    else:
        parts.append(Content.from_markup(f"[b $text-error]#{index} failed[/] in $ms", ms=f"{result.duration_ms} ms"))
    parts.append(Content.from_markup("[dim]input[/] $input", input=json.dumps(shown_input)))
    if result.succeeded:
        body = pretty(result.output)
        parts.append(Content(body[:OUTPUT_SHOWN] + (" …" if len(body) > OUTPUT_SHOWN else "")))
    else:
        parts.append(Content.from_markup("[b]$type[/]: $message", type=result.exception_type, message=result.exception_message))
        parts += [Content.from_markup("[dim]$line[/]", line=line) for line in result.exception_stack_trace[-TRACE_SHOWN:]]
    if outcome.logs:
        parts.append(Content.from_markup("[b]logs[/]"))
        parts += [Content("  " + line) for line in outcome.logs[-TRACE_SHOWN:]]
    return Content("\n").join(parts)


def persistence_content(outcomes: list[Outcome]) -> Content:
    """Per ``result_persistence`` mode, what happens to the results: said once when it is the
    same for all, else with the results each applies to."""
    modes: dict[str, dict[str, list[int]]] = {}
    for index, outcome in enumerate(outcomes):
        for mode, text in outcome.persistence.items():
            modes.setdefault(mode, {}).setdefault(text, []).append(index)
    same = all(len(texts) == 1 for texts in modes.values())
    title = "result_persistence" + (" (every result)" if same and len(outcomes) > 1 else "")
    lines = [Content.from_markup("[b]$title[/]", title=title)]
    for mode, texts in modes.items():
        for text, indexes in texts.items():
            which = "" if len(texts) == 1 else " " + ", ".join(f"#{i}" for i in indexes)
            lines.append(Content.from_markup("  $mode[dim]$which[/]: $text", mode=mode, which=which, text=text))
    return Content("\n").join(lines)
