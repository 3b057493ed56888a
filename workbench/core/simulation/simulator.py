"""Running a scenario: check the graph, plan the turns, then for each run and turn invoke the
spec's resolved version (recorded with the conversation's source, sealed like every run), apply
the spec's result persistence to the conversation, time the audio filler, check expectations."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from workbench.core.invoker import Invoker
from workbench.core.models import InvocationSource, RegularConversationInvocationSource, SimulationConversationInvocationSource
from workbench.core.simulation.checking import check_graph
from workbench.core.simulation.conversation import Conversation, call_outcome
from workbench.core.simulation.expectations import evaluate, filler_timing
from workbench.core.simulation.graph import GraphHeader, invocation_metadata
from workbench.core.simulation.plan import PlannedTurn, plan_turns
from workbench.core.simulation.report import GraphCheck, RunReport, SimulationProgress, SimulationReport, SimulationStep, TurnReport
from workbench.core.simulation.scenario import SimulationRequest
from workbench.core.validation import ModelOrDict, check_org, parse
from workbench.names import IdFactory
from workbench.store.tables import Metadata

OUTPUT_TOO_LARGE = "OutputTooLarge"


class Simulations:
    """Checks context graphs against an organization and runs scenarios over them."""

    def __init__(self, metadata: Metadata, invoker: Invoker, clock: Callable[[], datetime], ids: IdFactory, default_user: str) -> None:
        self.metadata = metadata
        self.invoker = invoker
        self.clock = clock
        self.ids = ids
        self.default_user = default_user

    def check_graph(self, org_id: str, graph: ModelOrDict) -> GraphCheck:
        """Every state and tool call spec of a graph document, checked against the org."""
        check_org(org_id)
        document: Mapping[str, Any] = graph.model_dump(mode="json") if isinstance(graph, BaseModel) else dict(graph or {})
        with self.metadata.read() as view:
            return check_graph(view, org_id, document)

    def simulate(self, org_id: str, request: ModelOrDict, user_id: str | None = None, on_progress: SimulationProgress | None = None) -> SimulationReport:
        """Run a scenario ``runs`` times; 400 (naming each turn) if it cannot run at all. Failed
        expectations are in the report, not errors."""
        req = parse(SimulationRequest, request, "simulation request")
        check = self.check_graph(org_id, req.graph)
        planned, warnings = plan_turns(req, check)
        header = GraphHeader.model_validate({k: v for k, v in req.graph.items() if k != "states"})
        scenario = req.scenario
        simulated = scenario.mode == "conversation-simulation"
        set_run_id = (req.simulation_unit_test_set_run_id or self.ids()) if simulated else None
        started_at, started = self.clock(), time.perf_counter()
        runs = []
        for run_index in range(req.runs):
            context = _RunContext(org_id, req, header, run_index, set_run_id, scenario.user_id or user_id or self.default_user, None if simulated else self.ids())
            runs.append(self._run(context, planned, on_progress))
        return SimulationReport(
            scenario=scenario.name, description=scenario.description, mode=scenario.mode, graph_name=header.name, graph_version=header.version,
            state_machine_id=header.machine_id, simulation_unit_test_set_run_id=set_run_id, unit_test_id=scenario.test_id if simulated else None,
            started_at=started_at, duration_ms=int((time.perf_counter() - started) * 1000), runs=runs, warnings=warnings,
        )

    def _source(self, context: _RunContext, planned: PlannedTurn) -> InvocationSource:
        metadata = invocation_metadata(
            planned.spec.state_type, planned.location, planned.spec.state, (context.header.machine_id, context.header.version), planned.transition_index, planned.round_index
        )
        if context.set_run_id is not None:
            return SimulationConversationInvocationSource(
                simulation_unit_test_set_run_id=context.set_run_id, unit_test_id=context.request.scenario.test_id, run_index=context.run_index, invocation_metadata=metadata
            )
        return RegularConversationInvocationSource(user_id=context.user_id, conversation_id=context.conversation_id, interaction_id=self.ids(), invocation_metadata=metadata)

    def _run(self, context: _RunContext, planned: list[PlannedTurn], on_progress: SimulationProgress | None) -> RunReport:
        conversation = Conversation()
        fillers_fired: dict[tuple[str, str], int] = {}
        turns = []
        for step, item in enumerate(planned, start=1):
            turns.append(self._turn(context, item, conversation, fillers_fired))
            if on_progress:
                on_progress(SimulationStep(context.run_index, context.request.runs, step, len(planned), turns[-1].title))
        return RunReport(run_index=context.run_index, conversation_id=context.conversation_id, turns=turns)

    def _turn(self, context: _RunContext, item: PlannedTurn, conversation: Conversation, fillers_fired: dict[tuple[str, str], int]) -> TurnReport:
        scenario, spec, turn = context.request.scenario, item.spec, item.turn
        source = self._source(context, item)
        inputs = [{"input_parameters": turn.parameters, "invocation_mode": scenario.mode, "nonsensitive_user_variables": scenario.user_variables}]
        [outcome] = self.invoker.invoke_outcomes(context.org_id, item.tool_id, item.version, {"inputs": inputs}, context.user_id, source=source)
        result = outcome.result
        output = result.output if result.succeeded else None
        error_type = None if result.succeeded else result.exception_type
        error_message = None if result.succeeded else result.exception_message
        call = call_outcome(item.persistence, output, error_type, error_message)
        key = (spec.state, spec.location)
        filler = filler_timing(spec.audio_fillers, spec.audio_filler_triggered_after or 10.0, result.duration_ms, fillers_fired.get(key, 0))
        if filler.fired and filler.spoken:
            fillers_fired[key] = fillers_fired.get(key, 0) + 1
        log, omitted = conversation.turn(item.index, turn.user, spec.tool_name or spec.tool_ref, item.version, turn.parameters, call)
        return TurnReport(
            index=item.index, state=spec.state, state_type=spec.state_type, spec=spec.location, tool_name=spec.tool_name or spec.tool_ref, tool_id=item.tool_id,
            version_constraint=spec.version_constraint or "", version=item.version, mode=scenario.mode, parameters=turn.parameters, user=turn.user,
            invocation_id=outcome.invocation_id, source=source, succeeded=call.succeeded, tool_succeeded=result.succeeded, output=output,
            error_type=call.error_type, error_message=call.error_message, stack_trace=[] if result.succeeded else result.exception_stack_trace, logs=outcome.logs,
            duration_ms=result.duration_ms, output_characters=len(output or ""), over_output_cap=error_type == OUTPUT_TOO_LARGE,
            persistence=call.persistence, filler=filler, interaction_log=log, omitted=omitted,
            expectations=evaluate(turn.expect, call, output, result.duration_ms, filler),
        )


class _RunContext:
    """What every turn of one run shares."""

    def __init__(self, org_id: str, request: SimulationRequest, header: GraphHeader, run_index: int, set_run_id: str | None, user_id: str, conversation_id: str | None) -> None:
        self.org_id = org_id
        self.request = request
        self.header = header
        self.run_index = run_index
        self.set_run_id = set_run_id
        self.user_id = user_id
        self.conversation_id = conversation_id
