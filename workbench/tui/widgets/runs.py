"""Runs and their differences for the replay and compare screens: one run as rich text, a
diff as coloured lines, a verdict in its colour."""

from __future__ import annotations

import json

from rich.text import Text

from workbench.core.insight_models import Change, RunOutcome
from workbench.core.insight_text import describe_change

VERDICT_STYLES = {"same": "green", "changed": "yellow", "newly failing": "bold red", "newly fixed": "bold green"}


def run_text(run: RunOutcome, limit: int = 4000) -> Text:
    """How a run ended, how long it took, which version, its output (JSON indented) or its
    exception with the stack trace."""
    recorded = f"\ninvocation {run.invocation_id}" if run.invocation_id else "\nnot recorded"
    if run.succeeded:
        text = Text.assemble(("succeeded", "bold green"), f" in {run.duration_ms:,} ms on {run.version}", (recorded, "dim"), "\n\n")
        try:
            body = json.dumps(json.loads(run.output or ""), indent=2, ensure_ascii=False)
        except ValueError:
            body = run.output or ""
        text.append(body if len(body) <= limit else body[:limit] + f"\n… ({len(body):,} characters in all)")
        return text
    text = Text.assemble(("failed", "bold red"), f" in {run.duration_ms:,} ms on {run.version}", (recorded, "dim"), "\n\n")
    text.append(f"{run.exception_type}: ", style="bold red")
    text.append(run.exception_message or "")
    if run.exception_stack_trace:
        text.append("\n\n" + "\n".join(run.exception_stack_trace[-12:]), style="dim")
    return text


def changes_text(changes: list[Change], limit: int = 30) -> Text:
    """A diff: ``~`` changed, ``+`` added, ``-`` removed, one per line."""
    if not changes:
        return Text("no differences", style="green")
    text = Text()
    for change in changes[:limit]:
        text.append(describe_change(change) + "\n", style={"added": "green", "removed": "red"}.get(change.kind, "yellow"))
    if len(changes) > limit:
        text.append(f"… {len(changes) - limit} more\n", style="dim")
    return text


def verdict_text(verdict: str) -> Text:
    return Text(verdict, style=VERDICT_STYLES.get(verdict, ""))
