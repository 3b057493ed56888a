"""Typed errors that map one-to-one to the status codes of the Tools API.

Every message says what was wrong and, where it helps, what is allowed instead. Faces (CLI, TUI,
server) render them; none of them invents its own.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any, ClassVar


class WorkbenchError(Exception):
    """Base of every error the service raises on purpose."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_body(self) -> dict[str, Any]:
        """The JSON body an API response carries for this error."""
        body: dict[str, Any] = {"detail": self.message, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


class BadRequest(WorkbenchError):
    """400: the request is well-formed but breaks a rule of the API."""

    status = 400
    code = "bad_request"


class NotFound(WorkbenchError):
    """404: the organization, tool, version, branch, commit or path does not exist."""

    status = 404
    code = "not_found"


class Conflict(WorkbenchError):
    """409: a name is taken, or a related operation on the same tool is in progress."""

    status = 409
    code = "conflict"


class Unauthorized(WorkbenchError):
    """401: no, a bad, an expired or a revoked token or key."""

    status = 401
    code = "unauthorized"


class Forbidden(WorkbenchError):
    """403: a valid token that may not act on this organization (or lacks a permission)."""

    status = 403
    code = "forbidden"


class ValidationFailed(WorkbenchError):
    """422: a path, query parameter or body failed validation."""

    status = 422
    code = "validation_error"


class RateLimited(WorkbenchError):
    """429: too many requests to one endpoint within a minute."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int, **details: Any) -> None:
        super().__init__(message, retry_after=retry_after, **details)
        self.retry_after = retry_after


def validation_error_from_pydantic(error: Any, what: str) -> ValidationFailed:
    """Turn a pydantic ``ValidationError`` into a 422 that names each bad field."""
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or what
        problem = f"{location}: {item['msg']}"
        given = item.get("input")
        # Echo a short offending text, but never anything named value: it may be a secret.
        if isinstance(given, str) and len(given) <= 80 and "value" not in map(str, item["loc"]):
            problem += f" (got {given!r})"
        problems.append(problem)
    return ValidationFailed(f"invalid {what}: " + "; ".join(problems), errors=problems)


class StageFailed(BadRequest):
    """400 from a publish or test stage (validate, build, checks): names the stage, keeps its output."""

    def __init__(self, stage: str, reason: str, output: str = "") -> None:
        message = f"{stage} failed: {reason}"
        if output.strip():
            message += "\n" + _tail(output)
        super().__init__(message, stage=stage)
        self.stage = stage
        self.reason = reason
        self.output = output


def _tail(text: str, lines: int = 40) -> str:
    kept = text.strip().splitlines()
    if len(kept) > lines:
        kept = [f"... ({len(kept) - lines} earlier lines)"] + kept[-lines:]
    return "\n".join(kept)


class ServiceUnavailable(WorkbenchError):
    """503: a derived part (the search index) is being rebuilt; retry shortly."""

    status = 503
    code = "unavailable"


class DataDamaged(WorkbenchError):
    """503: a file of the data directory cannot be read, so nothing is written over it.

    Not a 4xx: the request was fine. Not a 500: this is no bug, and the way out is known
    (`workbench repair`). 503 says "this service cannot serve until its operator acts"; unlike
    :class:`ServiceUnavailable` it carries no Retry-After, since retrying alone will not help.
    """

    status = 503
    code = "data_damaged"

    def __init__(self, path: Path | str, problem: str, home: Path | str | None = None) -> None:
        path = Path(path)
        home = Path(home) if home is not None else path.parent
        super().__init__(
            f"{path} is damaged: {problem}. Nothing was written over it. Run `workbench repair --home {shlex.quote(str(home))}` "
            "to restore the newest good copy the workbench keeps (`workbench doctor` shows what it would do).",
            path=str(path),
            problem=problem,
        )
        self.path = path
        self.problem = problem
