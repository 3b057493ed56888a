"""Invoke a version, or test a branch: a JSON editor pre-filled from the input schema (examples,
defaults, or placeholders that say what is expected), checked as you type and kept per tool while
the app runs; results with a summary line, each with its input, output or exception and logs."""

from __future__ import annotations

import json
import time
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Select, Static, TextArea
from textual.worker import Worker

from workbench.core.models import Input, ToolVersionInstance
from workbench.tui.errors import ReportsWorkerErrors
from workbench.tui.text import plural
from workbench.tui.uses_api import UsesApi
from workbench.tui.widgets.json_editor import JsonEditor, example_input, placeholders_left
from workbench.tui.widgets.results import RunReport, persistence_content, result_content, summary

MODES = [("regular", "regular"), ("conversation-simulation", "conversation-simulation")]
BRANCH_POLL_SECONDS = 3.0
IDLE = "ctrl+r runs the input against the chosen version or branch; a JSON list runs up to 10 inputs in parallel."


class TargetsLoaded(Message):
    """The versions and branches the tool can run on."""

    def __init__(self, versions: list[ToolVersionInstance], branches: list[str]) -> None:
        super().__init__()
        self.versions, self.branches = versions, branches


class BranchesListed(Message):
    """The tools repository's branches now (it may have changed since the list was shown)."""

    def __init__(self, branches: list[str]) -> None:
        super().__init__()
        self.branches = branches


class RunFinished(Message):
    """A run ended with every input's outcome."""

    def __init__(self, report: RunReport) -> None:
        super().__init__()
        self.report = report


class InvokePane(ReportsWorkerErrors, UsesApi, Vertical):
    """The invoke-and-test tab of a tool's screen."""

    SCOPED_CSS = False  # its rules name the screen's size classes (Screen.-short ...)

    BINDING_GROUP_TITLE = "Invoke & test"
    BINDINGS = [
        Binding("ctrl+r", "run", "Run", id="invoke.run", tooltip="Run the inputs against the chosen version or branch"),
        Binding("ctrl+t", "example", "Example", id="invoke.example", tooltip="Reset the input to the example from the input schema"),
    ]
    DEFAULT_CSS = """
    InvokePane #invoke-bar { height: 1; padding: 0 1; margin-bottom: 1; }
    InvokePane #invoke-bar Select { width: 1fr; margin-right: 1; }
    InvokePane #invoke-bar Button { width: auto; min-width: 10; }
    InvokePane #invoke-work { height: 1fr; }
    Screen.-wide InvokePane #invoke-work { layout: horizontal; }
    InvokePane #input-side { height: auto; }
    Screen.-wide InvokePane #input-side { width: 1fr; height: 1fr; }
    InvokePane JsonEditor { height: 12; }
    Screen.-short InvokePane JsonEditor { height: 7; }
    Screen.-wide InvokePane JsonEditor { height: 1fr; }
    InvokePane #problems { height: auto; max-height: 4; color: $text-error; padding: 0 1; }
    InvokePane #expects { height: auto; color: $text-muted; padding: 0 1; }
    InvokePane #results { height: 1fr; border: round $panel; padding: 0 1; }
    Screen.-wide InvokePane #results { width: 1fr; }
    InvokePane .result { margin-top: 1; }
    InvokePane #results-summary.-error { color: $text-error; }
    """

    def __init__(self, tool_id: str, tool_name: str) -> None:
        super().__init__()
        self.tool_id, self.tool_name = tool_id, tool_name
        self.versions: dict[str, ToolVersionInstance] = {}
        self.branches: list[str] = []
        self.project_path = tool_name
        self.example_text = ""  # the last example filled in, replaced freely when the target changes

    def compose(self) -> ComposeResult:
        with Horizontal(id="invoke-bar"):
            yield Select([], prompt="version or branch", id="target", compact=True)
            yield Select(MODES, value="regular", allow_blank=False, id="mode", compact=True)
            yield Button("Run ^r", id="run", variant="primary", compact=True)
        with Vertical(id="invoke-work"):
            with Vertical(id="input-side"):
                yield JsonEditor(self.workbench.drafts.get(self.draft_key, "{}"), id="editor")
                yield Static("", id="problems")
                yield Static("", id="expects")
            with VerticalScroll(id="results", can_focus=True):
                yield Static(IDLE, id="results-summary", classes="muted")

    @property
    def draft_key(self) -> tuple[str, str]:
        return (self.org, self.tool_id)

    def on_mount(self) -> None:
        self.set_interval(BRANCH_POLL_SECONDS, self.poll_branches)

    # -- what it can run on -------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="invoke-targets", exit_on_error=False, description="Loading versions")
    def load_targets(self) -> None:
        versions = self.api.list_versions(self.org, self.tool_id, {"deprecated": False}).tool_versions
        self.post_message(TargetsLoaded(versions, self.branches_or_none()))

    def branches_or_none(self) -> list[str]:
        try:
            return self.api.repo_branches()
        except Exception:  # noqa: BLE001 - no repository yet: versions only
            return []

    def poll_branches(self) -> None:
        if self.region.width:  # only while the tab is shown
            self.list_branches()

    @work(thread=True, exclusive=True, group="invoke-branches", exit_on_error=False, description="Reading branches")
    def list_branches(self) -> None:
        self.post_message(BranchesListed(self.branches_or_none()))

    @on(BranchesListed)
    def branches_listed(self, message: BranchesListed) -> None:
        if message.branches != self.branches:
            self.branches = message.branches
            self.show_options()

    @on(TargetsLoaded)
    def show_targets(self, message: TargetsLoaded) -> None:
        self.versions = {str(v.version): v for v in message.versions}
        self.branches = message.branches
        newest = max(message.versions, key=lambda v: (v.version.major, v.version.minor, v.version.patch), default=None)
        self.project_path = newest.project_directory if newest else self.tool_name
        self.show_options()

    def show_options(self) -> None:
        ordered = sorted(self.versions.values(), key=lambda v: (v.version.major, v.version.minor, v.version.patch), reverse=True)
        options = [(f"version {v.version}", f"version:{v.version}") for v in ordered]
        options += [(f"test branch {b}", f"branch:{b}") for b in self.branches]
        select = self.query_one("#target", Select)
        current = select.value
        with self.prevent(Select.Changed):
            select.set_options(options)
        values = [value for _, value in options]
        if options:
            select.value = current if current in values else values[0]
        if current == select.value:
            self.target_changed()

    def target(self) -> str | None:
        value = self.query_one("#target", Select).value
        return value if isinstance(value, str) else None

    def version(self) -> ToolVersionInstance | None:
        target = self.target()
        return self.versions.get(target.split(":", 1)[1]) if target and target.startswith("version:") else None

    def schema(self) -> dict[str, Any] | None:
        version = self.version()
        return version.input_schema if version else None

    @on(Select.Changed, "#target")
    def target_changed(self) -> None:
        editor = self.query_one(JsonEditor)
        if editor.text.strip() in ("", "{}", self.example_text.strip()):
            self.action_example()
        self.check()

    # -- the input ----------------------------------------------------------------------------

    def action_example(self) -> None:
        """Put the example input of the chosen version's schema in the editor."""
        schema = self.schema()
        if schema is None:
            self.say_expected("A branch's input schema is read when it runs; the input is checked then.")
            return
        started, optional = example_input(schema)
        self.example_text = json.dumps(started, indent=2)
        self.query_one(JsonEditor).text = self.example_text
        self.say_expected("optional: " + ", ".join(optional) if optional else "")

    def say_expected(self, text: str) -> None:
        expects = self.query_one("#expects", Static)
        expects.update(Content(text))
        expects.display = bool(text)

    def current_inputs(self) -> tuple[list[dict[str, Any]] | None, list[str]]:
        """The inputs in the editor (one object, or a list of them) and what is wrong with them."""
        text = self.query_one(JsonEditor).text
        try:
            value = json.loads(text)
        except ValueError as error:
            return None, [f"not valid JSON: {error}"]
        inputs = value if isinstance(value, list) else [value]
        return inputs, placeholders_left(inputs) + self.api.input_problems(self.schema(), inputs)

    @on(TextArea.Changed, "#editor")
    def check(self) -> None:
        self.workbench.drafts[self.draft_key] = self.query_one(JsonEditor).text
        _, problems = self.current_inputs()
        shown = self.query_one("#problems", Static)
        shown.update(Content("\n".join(problems)))
        shown.display = bool(problems)

    # -- running ------------------------------------------------------------------------------

    @on(Button.Pressed, "#run")
    def action_run(self) -> None:
        inputs, problems = self.current_inputs()
        target = self.target()
        if inputs is None or problems:
            self.app.notify(f"fix the input first: {problems[0]}", severity="warning", timeout=5)
            return
        if target is None:
            self.app.notify("choose a version or a branch to run", severity="warning", timeout=5)
            return
        mode = self.query_one("#mode", Select).value
        version = self.version()
        where = f"version {version.version} (commit {version.tool_commit_hash[:7]})" if version else f"branch {target.split(':', 1)[1]}"
        self.show_summary(Content(f"running {plural(len(inputs), 'input')} against {where} … (ctrl+x stops waiting)"))
        self.run_inputs(target, where, [{"input_parameters": i, "invocation_mode": mode} for i in inputs])

    @work(thread=True, exclusive=True, group="invoke", exit_on_error=False, description="Invoking")
    def run_inputs(self, target: str, where: str, inputs: list[dict[str, Any]]) -> None:
        kind, name = target.split(":", 1)
        started = time.monotonic()
        if kind == "version":
            outcomes = self.api.invoke_outcomes(self.org, self.tool_id, name, {"inputs": inputs}, origin="app")
        else:
            parsed = [Input.model_validate(item) for item in inputs]
            outcomes = self.api.test_branch(self.org, self.tool_id, name, self.project_path, parsed)
        elapsed = int((time.monotonic() - started) * 1000)
        self.post_message(RunFinished(RunReport(where, [i["input_parameters"] for i in inputs], outcomes, elapsed)))

    @on(RunFinished)
    def show_results(self, message: RunFinished) -> None:
        report = message.report
        self.show_summary(summary(report))
        results = self.query_one("#results", VerticalScroll)
        for index, outcome in enumerate(report.outcomes):
            sent = report.inputs[index] if index < len(report.inputs) else {}
            results.mount(Static(result_content(index, outcome, sent), classes="result"))
        if report.outcomes:
            results.mount(Static(persistence_content(report.outcomes), classes="result"))
        results.scroll_home(animate=False)

    def show_summary(self, content: Content, error: bool = False) -> None:
        results = self.query_one("#results", VerticalScroll)
        results.query(".result").remove()
        line = self.query_one("#results-summary", Static)
        line.update(content)
        line.set_class(error, "-error")
        line.set_class(False, "muted")

    def work_failed(self, worker: Worker[object], message: str) -> None:
        if worker.group == "invoke":
            self.show_summary(Content(f"the run failed: {message}"), error=True)
        elif worker.group == "invoke-targets":
            problems = self.query_one("#problems", Static)
            problems.update(Content(f"could not read the versions: {message}"))
            problems.display = True

    def work_cancelled(self, worker: Worker[object]) -> None:
        if worker.group == "invoke":
            self.show_summary(Content("stopped waiting: the run may still finish; what it records shows in History (F3)"), error=True)
