"""Invoking published versions: every invocation, successful or not, is recorded with its source."""

from __future__ import annotations

from typing import Any

from tinydb import Query

from workbench.core.context import ServiceContext, check_object_id, check_org, parse
from workbench.core.models import (
    InvocationSource,
    ToolInvocationInstance,
    WorkbenchInvocationSource,
    new_id,
)
from workbench.core.publish import PublishOperations
from workbench.core.requests import InvokeRequest, InvokeResponse
from workbench.core.running import Outcome, run_inputs, validate_inputs
from workbench.core.versions import BUILDS
from workbench.errors import NotFound


class InvokeOperations(PublishOperations):
    """Invoke a version with 1 to 10 inputs in parallel. Mixed into the service."""

    ctx: ServiceContext

    def invoke_version(
        self,
        org_id: str,
        tool_id: str,
        version: str,
        request: InvokeRequest | dict[str, Any],
        user_id: str | None = None,
        source: InvocationSource | None = None,
    ) -> InvokeResponse:
        """Run the inputs against ``version`` (exact, or the highest active match of a constraint).

        400 if an input does not match the version's input schema; 404 for an unknown tool or a
        missing or deprecated version. A tool's failure is a failed result, not an error.
        """
        outcomes = self.invoke_outcomes(org_id, tool_id, version, request, user_id, source)
        return InvokeResponse(invocation_results=[o.result for o in outcomes])

    def invoke_outcomes(
        self,
        org_id: str,
        tool_id: str,
        version: str,
        request: InvokeRequest | dict[str, Any],
        user_id: str | None = None,
        source: InvocationSource | None = None,
    ) -> list[Outcome]:
        """What :meth:`invoke_version` does, returning each input's result with its (masked) logs."""
        check_org(org_id)
        check_object_id(tool_id, "tool id")
        req = parse(InvokeRequest, request, "invoke request")
        record = self.resolve_version(org_id, tool_id, version)
        with self.ctx.metadata.read() as db:
            build_record = db.table(BUILDS).get(Query().version_id == record["id"])
        if build_record is None:
            raise NotFound(f"version {version} has no build in this data directory; publish it again")
        validate_inputs(record["input_schema"], req.inputs)
        plain, secret = self.envvar_values(org_id, tool_id)
        build = self._load_build(build_record)
        outcomes = run_inputs(
            self.ctx.runner_for(build.runner),
            build,
            req.inputs,
            {**plain, **secret},
            list(secret.values()),
            self.ctx.settings.invocation_timeout_seconds,
        )
        invocation_source = source or WorkbenchInvocationSource(user_id=user_id or self.ctx.settings.user)
        records = []
        for outcome in outcomes:
            now = self.ctx.clock()
            status = outcome.result.model_dump(mode="json", exclude={"duration_ms"})
            instance = ToolInvocationInstance.model_validate(
                {
                    "id": new_id(),
                    "org_id": org_id,
                    "created_at": now,
                    "updated_at": now,
                    "invocation_status": status,
                    "invocation_source": invocation_source,
                    "logs": outcome.logs,
                    "duration_ms": outcome.result.duration_ms,
                    "tool_id": tool_id,
                    "tool_version": record["version"],
                    "inputs": outcome.input,
                }
            )
            records.append((instance.model_dump(mode="json"), now))
        self.ctx.invocations.append_many(records)
        self.ctx.indexer.nudge()  # searchable within moments; nobody waits for it
        return outcomes
