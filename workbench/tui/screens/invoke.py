"""Invoke a version, or test a branch: an input editor pre-filled from the input schema, checked
as you type; results with output or exception, logs, and what each persistence mode would do."""

from __future__ import annotations

import json
from typing import Any

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Select, Static, TextArea

from workbench.core.api import ToolsApi
from workbench.core.models import Input, ToolVersionInstance
from workbench.core.results import Outcome
from workbench.tui.errors import ReportsWorkerErrors
from workbench.tui.uses_api import UsesApi

MODES = [("regular", "regular"), ("conversation-simulation", "conversation-simulation")]


def example_input(schema: dict[str, Any]) -> dict[str, Any]:
    """An input that shows every property: defaults where given, else a placeholder of its type."""
    placeholders = {"string": "", "integer": 0, "number": 0, "boolean": False, "array": [], "object": {}}
    example = {}
    for name, spec in (schema.get("properties") or {}).items():
        if "default" in spec:
            example[name] = spec["default"]
        elif "enum" in spec:
            example[name] = spec["enum"][0]
        else:
            kind = spec.get("type", "string")
            example[name] = placeholders.get(kind if isinstance(kind, str) else kind[0], "")
    return example


def input_problems(service: ToolsApi, text: str, schema: dict[str, Any] | None) -> tuple[list[dict[str, Any]] | None, list[str]]:
    """The inputs in the editor (one object, or a list of them) and what the service says is
    wrong with them."""
    try:
        value = json.loads(text)
    except ValueError as error:
        return None, [f"not valid JSON: {error}"]
    inputs = value if isinstance(value, list) else [value]
    return inputs, service.input_problems(schema, inputs)


class TargetsLoaded(Message):
    """The versions and branches the tool can run on."""

    def __init__(self, versions: list[ToolVersionInstance], branches: list[str]) -> None:
        super().__init__()
        self.versions, self.branches = versions, branches


class OutcomesReady(Message):
    def __init__(self, outcomes: list[Outcome]) -> None:
        super().__init__()
        self.outcomes = outcomes


class InvokePane(UsesApi, ReportsWorkerErrors, Vertical):
    """The invoke-and-test tab of a tool's screen."""

    BINDING_GROUP_TITLE = "Invoke"
    BINDINGS = [Binding("ctrl+r", "run", "Run", id="invoke.run", tooltip="Run the inputs against the chosen version or branch")]
    DEFAULT_CSS = """
    InvokePane .bar Select { width: 1fr; }
    InvokePane TextArea { height: 10; }
    InvokePane #problems { height: auto; color: $error; padding: 0 1; }
    InvokePane #results { height: 1fr; border: round $panel; }
    InvokePane .result { margin-bottom: 1; }
    """

    def __init__(self, tool_id: str, tool_name: str) -> None:
        super().__init__()
        self.tool_id, self.tool_name = tool_id, tool_name
        self.schemas: dict[str, dict[str, Any]] = {}
        self.project_path = ""

    def compose(self) -> ComposeResult:
        with Horizontal(classes="bar"):
            yield Select([], prompt="version or branch", id="target")
            yield Select(MODES, value="regular", allow_blank=False, id="mode")
            yield Button("Run  ctrl+r", id="run", variant="primary")
        yield TextArea("{}", language="json", id="editor", tab_behavior="indent")
        yield Static("", id="problems")
        yield VerticalScroll(id="results")

    @work(thread=True, exclusive=True, group="invoke-targets", exit_on_error=False, description="Loading versions")
    def load_targets(self) -> None:
        service, org = self.api, self.org
        versions = service.list_versions(org, self.tool_id, {"deprecated": False}).tool_versions
        try:
            branches = service.repo_branches()
        except Exception:  # noqa: BLE001 - no repository (or remote mode): versions only
            branches = []
        self.post_message(TargetsLoaded(versions, branches))

    @on(TargetsLoaded)
    def show_targets(self, message: TargetsLoaded) -> None:
        versions, branches = message.versions, message.branches
        self.schemas = {str(v.version): v.input_schema for v in versions}
        newest = max(versions, key=lambda v: (v.version.major, v.version.minor, v.version.patch), default=None)
        self.project_path = newest.project_directory if newest else self.tool_name
        options = [(f"version {v.version}", f"version:{v.version}") for v in reversed(versions)]
        options += [(f"test branch {b}", f"branch:{b}") for b in branches]
        select = self.query_one("#target", Select)
        current = select.value
        select.set_options(options)
        values = [value for _, value in options]
        if options:
            select.value = current if current in values else values[0]

    def schema(self) -> dict[str, Any] | None:
        target = self.query_one("#target", Select).value
        return self.schemas.get(target.split(":", 1)[1]) if isinstance(target, str) and target.startswith("version:") else None

    @on(Select.Changed, "#target")
    def target_changed(self) -> None:
        schema = self.schema()
        editor = self.query_one("#editor", TextArea)
        if schema is not None and editor.text.strip() in ("", "{}"):
            editor.text = json.dumps(example_input(schema), indent=2)
        self.check()

    @on(TextArea.Changed, "#editor")
    def check(self) -> None:
        _, problems = input_problems(self.api, self.query_one("#editor", TextArea).text, self.schema())
        self.query_one("#problems", Static).update("\n".join(escape(p) for p in problems))

    @on(Button.Pressed, "#run")
    def action_run(self) -> None:
        inputs, problems = input_problems(self.api, self.query_one("#editor", TextArea).text, self.schema())
        target = self.query_one("#target", Select).value
        if inputs is None or problems or not isinstance(target, str):
            self.app.notify("fix the input first" if problems or inputs is None else "choose a version or a branch", severity="warning")
            return
        mode = self.query_one("#mode", Select).value
        self.query_one("#results", VerticalScroll).remove_children()
        self.query_one("#results", VerticalScroll).mount(Static("running …", classes="muted"))
        self.run_inputs(target, [{"input_parameters": i, "invocation_mode": mode} for i in inputs])

    @work(thread=True, exclusive=True, group="invoke", exit_on_error=False, description="Invoking")
    def run_inputs(self, target: str, inputs: list[dict[str, Any]]) -> None:
        service, org = self.api, self.org
        kind, name = target.split(":", 1)
        if kind == "version":
            outcomes = service.invoke_outcomes(org, self.tool_id, name, {"inputs": inputs})
        else:
            parsed = [Input.model_validate(item) for item in inputs]
            outcomes = service.test_branch(org, self.tool_id, name, self.project_path, parsed)
        self.post_message(OutcomesReady(outcomes))

    @on(OutcomesReady)
    def show_results(self, message: OutcomesReady) -> None:
        outcomes = message.outcomes
        results = self.query_one("#results", VerticalScroll)
        results.remove_children()
        for index, outcome in enumerate(outcomes):
            results.mount(Static(render_outcome(index, outcome), classes="result"))


def render_outcome(index: int, outcome: Outcome) -> str:
    result = outcome.result
    lines = []
    if result.succeeded:
        lines.append(f"[b $success]#{index} succeeded[/] in {result.duration_ms} ms · {len(result.output):,} characters")
        try:
            body = json.dumps(json.loads(result.output), indent=2)
        except ValueError:
            body = result.output
        lines.append(escape(body[:4000] + (" …" if len(body) > 4000 else "")))
    else:
        lines.append(f"[b $error]#{index} failed[/] in {result.duration_ms} ms: [b]{escape(result.exception_type)}[/]: {escape(result.exception_message)}")
        lines += [f"[dim]{escape(line)}[/]" for line in result.exception_stack_trace[-30:]]
    if outcome.logs:
        lines.append("[b]logs[/]")
        lines += [f"  {escape(line)}" for line in outcome.logs[-30:]]
    lines.append("[b]result_persistence[/]")
    lines += [f"  {mode}: {escape(text)}" for mode, text in outcome.persistence.items()]
    return "\n".join(lines)
