"""One turn of a simulation, side by side: the tool call, its result (with the persistence
decision and the audio filler's timing), and the interaction log the agent sees at that turn."""

from __future__ import annotations

import json

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from workbench.core.simulation.report import TurnReport

SHOWN = 1_500  # characters of a long output or log entry shown in a pane
OUTCOME_STYLE = {"persisted": "$success", "ephemeral": "$text-muted", "treated-as-ephemeral": "$warning", "persistence-error": "$error"}
ENTRY_LABEL = {"user": "user", "tool-call": "call", "tool-result": "result", "tool-error": "error"}


def _cut(text: str, limit: int = SHOWN) -> str:
    return escape(text if len(text) <= limit else f"{text[:limit]} … ({len(text):,} characters in all)")


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def render_call(turn: TurnReport) -> str:
    """The call: where in the graph it comes from, what was resolved, what was sent, its source."""
    source = turn.source.model_dump(mode="json")
    metadata = source.pop("invocation_metadata")
    lines = [
        f"[b]{escape(turn.tool_name)} {turn.version}[/]  [dim]({escape(turn.version_constraint)})[/]",
        f"state [b]{escape(turn.state)}[/] ({turn.state_type}) · {escape(turn.spec)}",
        f"mode {turn.mode}",
    ]
    if turn.user:
        lines += ["", f"[b]the user said[/] {escape(turn.user)}"]
    lines += ["", "[b]parameters[/]", escape(json.dumps(turn.parameters, indent=2, ensure_ascii=False)), "", "[b]source[/]"]
    lines += [f"  {key}: {escape(str(value))}" for key, value in source.items()]
    lines.append("[b]invocation metadata[/]")
    lines += [f"  {key}: {escape(str(value))}" for key, value in metadata.items()]
    if turn.invocation_id:
        lines += ["", f"[dim]invocation {turn.invocation_id} · h: open in History[/]"]
    return "\n".join(lines)


def render_result(turn: TurnReport) -> str:
    """The result, the persistence decision, the filler, and each expectation."""
    persistence = turn.persistence
    style = OUTCOME_STYLE.get(persistence.outcome, "$text")
    if turn.succeeded:
        lines = [f"[b $success]succeeded[/] in {turn.duration_ms:,} ms · {turn.output_characters:,} characters"]
    else:
        lines = [f"[b $error]failed[/] in {turn.duration_ms:,} ms: [b]{escape(turn.error_type or '')}[/]", escape(turn.error_message or "")]
    if turn.over_output_cap:
        lines.append("[$error]over the 20,000-character output limit[/]")
    lines += [
        "",
        f"[b]result_persistence[/] {persistence.mode} → [b {style}]{persistence.outcome}[/]",
        escape(persistence.explanation),
        "",
        f"[b]audio filler[/] after {turn.filler.triggered_after_s:g} s: " + (f"[b $warning]♪ {escape(turn.filler.spoken)}[/]" if turn.filler.spoken else ("[$warning]slow, none to speak[/]" if turn.filler.fired else "not needed")),
        f"[dim]{escape(turn.filler.note)}[/]",
    ]
    if turn.expectations:
        lines += ["", "[b]expectations[/]"]
        lines += [f"  [$success]✓[/] {escape(e.message)}" if e.passed else f"  [b $error]✗ {escape(e.message)}[/]" for e in turn.expectations]
    if turn.output is not None:
        lines += ["", "[b]output[/]", _cut(_pretty(turn.output))]
    elif turn.stack_trace:
        lines += ["", "[b]stack trace[/]"] + [f"[dim]{escape(line)}[/]" for line in turn.stack_trace[-20:]]
    return "\n".join(lines)


def render_log(turn: TurnReport) -> str:
    """The interaction log at this turn; what earlier turns left out, dimmed."""
    lines = []
    for entry in turn.interaction_log:
        label = ENTRY_LABEL[entry.kind]
        colour = "$error" if entry.kind == "tool-error" else ("$accent" if entry.current else "$text-muted")
        kept = "" if entry.current else " [dim](kept)[/]"
        lines.append(f"[{colour}][b]{entry.turn}·{label}[/][/]{kept} {_cut(entry.text, 300)}")
    if turn.omitted:
        lines += ["", "[b]not in this log[/]"]
        lines += [f"[dim]turn {o.turn} {escape(o.tool)}: {escape(o.reason)}[/]" for o in turn.omitted]
    return "\n".join(lines)


class TurnView(Horizontal):
    """The three panes of one turn."""

    SCOPED_CSS = False  # its rules name the screen's size classes (Screen.-narrow ...)
    DEFAULT_CSS = """
    TurnView { height: 1fr; }
    TurnView > VerticalScroll { width: 1fr; border: round $panel; padding: 0 1; }
    TurnView > VerticalScroll:focus-within { border: round $accent; }
    Screen.-narrow TurnView { layout: vertical; overflow-y: auto; }
    Screen.-narrow TurnView > VerticalScroll { height: auto; max-height: 14; }
    """

    def compose(self) -> ComposeResult:
        for pane, title in (("call", "Tool call"), ("result", "Result"), ("log", "Interaction log at this turn")):
            with VerticalScroll(id=f"pane-{pane}") as scroll:
                scroll.border_title = title
                yield Static("", id=f"turn-{pane}")

    def show(self, turn: TurnReport | None) -> None:
        """Show ``turn`` (or nothing)."""
        self.query_one("#turn-call", Static).update(render_call(turn) if turn else "[dim]run a scenario, then pick a turn[/]")
        self.query_one("#turn-result", Static).update(render_result(turn) if turn else "")
        self.query_one("#turn-log", Static).update(render_log(turn) if turn else "")
