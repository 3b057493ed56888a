"""Invoking published versions: every invocation, successful or not, is recorded with its source."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from workbench.core.events import EventBus, InvocationsRecorded
from workbench.core.lookup import require_tool
from workbench.core.models import InvocationOrigin, InvocationSource, ToolInvocationInstance, workbench_source
from workbench.core.requests import InvokeRequest, InvokeResponse
from workbench.core.running import run_inputs, validate_inputs
from workbench.core.validation import ModelOrDict, check_object_id, check_org, parse
from workbench.core.versions import resolve
from workbench.errors import NotFound
from workbench.names import IdFactory

if TYPE_CHECKING:
    from workbench.core.envvars import EnvVars
    from workbench.core.results import Outcome
    from workbench.core.runtimes import Runtimes
    from workbench.store import InvocationLog
    from workbench.store.tables import Metadata


class Invoker:
    """Runs 1 to 10 inputs against a version in parallel and records each one."""

    def __init__(
        self,
        metadata: Metadata,
        envvars: EnvVars,
        runtimes: Runtimes,
        log: InvocationLog,
        events: EventBus,
        clock: Callable[[], datetime],
        ids: IdFactory,
        default_user: str,
        timeout: float,
    ) -> None:
        self.metadata = metadata
        self.envvars = envvars
        self.runtimes = runtimes
        self.log = log
        self.events = events
        self.clock = clock
        self.ids = ids
        self.default_user = default_user
        self.timeout = timeout

    def invoke_outcomes(
        self,
        org_id: str,
        tool_id: str,
        version: str,
        request: ModelOrDict,
        user_id: str | None = None,
        origin: InvocationOrigin = "cli",
        source: InvocationSource | None = None,
    ) -> list[Outcome]:
        """Run the inputs against ``version`` (exact, or the highest active match of a constraint)
        and record each; returns each input's result with its (masked) logs. Each is recorded
        with the spec's source for its mode, naming ``origin`` (the face that ran it); a
        simulated conversation gives its own ``source`` (run ids, the place in the graph).

        400 if an input does not match the version's input schema; 404 for an unknown tool or a
        missing or deprecated version. A tool's failure is a failed result, not an error.
        """
        check_org(org_id)
        check_object_id(tool_id, "tool id")
        req = parse(InvokeRequest, request, "invoke request")
        with self.metadata.read() as view:  # one read: the version, its build and the variables
            tool = require_tool(view, org_id, tool_id)
            chosen = resolve(tool.name, view.versions.of_tool(tool_id), version)
            build_record = view.builds.for_version(chosen.id)
            environment = self.envvars.environment(view, org_id, tool_id)
        if build_record is None:
            raise NotFound(f"version {chosen.label} has no build in this data directory; publish it again")
        validate_inputs(chosen.input_schema, req.inputs)
        build = self.runtimes.load(build_record)
        outcomes = run_inputs(self.runtimes.named(build.runner), build, req.inputs, environment.all, list(environment.secret.values()), self.timeout)
        user = user_id or self.default_user
        records = []
        for item, outcome in zip(req.inputs, outcomes):
            now = self.clock()
            instance = ToolInvocationInstance.model_validate(
                {
                    "id": self.ids(),
                    "org_id": org_id,
                    "created_at": now,
                    "updated_at": now,
                    "invocation_status": outcome.result.model_dump(mode="json", exclude={"duration_ms"}),
                    "invocation_source": source or workbench_source(origin, user, item.invocation_mode),
                    "logs": outcome.logs,
                    "duration_ms": outcome.result.duration_ms,
                    "tool_id": tool_id,
                    "tool_version": chosen.version.model_dump(),
                    "inputs": outcome.input,
                }
            )
            records.append((instance.model_dump(mode="json"), now))
            outcome.invocation_id = instance.id
        self.log.append_many(records)
        self.events.emit(InvocationsRecorded(org_id, tool_id, len(records)))
        return outcomes

    def invoke_version(
        self, org_id: str, tool_id: str, version: str, request: ModelOrDict, user_id: str | None = None, origin: InvocationOrigin = "cli"
    ) -> InvokeResponse:
        """The API's invoke: each input's result."""
        return InvokeResponse(invocation_results=[o.result for o in self.invoke_outcomes(org_id, tool_id, version, request, user_id, origin)])

    def import_invocations(self, records: list[ToolInvocationInstance]) -> int:
        """Append invocations made elsewhere (a generated demo history) to the log, as recorded."""
        self.log.append_many([(r.model_dump(mode="json"), r.created_at) for r in records])
        for org_id in sorted({r.org_id for r in records}):
            self.events.emit(InvocationsRecorded(org_id, None, sum(1 for r in records if r.org_id == org_id)))
        return len(records)
