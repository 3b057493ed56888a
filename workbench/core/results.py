"""What the workbench's own operations return beyond the Tools API's shapes: typed values that
the faces render (a tool with its active versions, a result with its logs, a search hit with its
snippets, a publish stage, the index's state).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

if TYPE_CHECKING:  # the records below name these in annotations only
    from datetime import datetime

    from workbench.core.models import FailedInvocationResult, SucceededInvocationResult, ToolInstance, ToolInvocationInstance
    from workbench.runtime.prepare import Step
    from workbench.runtime.selection import Guarantee as Guarantee
    from workbench.runtime.selection import RuntimeReport as RuntimeReport
    from workbench.store.health import Finding as Finding
    from workbench.store.health import HealthReport as HealthReport
    from workbench.store.repair import RepairOutcome as RepairOutcome

    PrepareStep: TypeAlias = Step

_DEFINED_BELOW = {
    "PrepareStep": ("workbench.runtime.prepare", "Step"),
    "Guarantee": ("workbench.runtime.selection", "Guarantee"),
    "RuntimeReport": ("workbench.runtime.selection", "RuntimeReport"),
    "Finding": ("workbench.store.health", "Finding"),
    "HealthReport": ("workbench.store.health", "HealthReport"),
    "RepairOutcome": ("workbench.store.repair", "RepairOutcome"),
}
"""Results the layers below define, given to the faces from here: imported when first asked
for, so that a face importing this module does not load the runtimes and the store with it.
``PrepareStep`` is one step of making the machine ready to run tools sealed (ok, done, failed
or skipped)."""


def __getattr__(name: str) -> Any:
    if name in _DEFINED_BELOW:
        module, attribute = _DEFINED_BELOW[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class ToolSummary:
    """A tool and the labels of its active versions, lowest first (the Tools list)."""

    tool: ToolInstance
    active_versions: list[str]


@dataclass(frozen=True)
class EnvVarInfo:
    """What a listing may say about a variable: never its value."""

    name: str
    is_secret: bool
    updated_at: datetime
    required_by: tuple[str, ...]  # non-deprecated versions that require it, e.g. ("1.0.0",)


@dataclass
class Outcome:
    """One input's run: the API result, its logs, the recorded input (all masked), and what each
    ``result_persistence`` mode would do with the result in a conversation; ``invocation_id`` is
    the recorded invocation's id (None where nothing is recorded: a test run, a remote run)."""

    input: dict[str, Any]
    result: SucceededInvocationResult | FailedInvocationResult
    logs: list[str]
    persistence: dict[str, str] = field(default_factory=dict)
    branch: str | None = None
    """The branch a test ran on (None for a version's invocation)."""
    commit: str | None = None
    """The commit a test ran: the branch's tip when the test started."""
    invocation_id: str | None = None
    """The id the run was recorded under (None for a test, which is not recorded)."""


@dataclass(frozen=True)
class SearchHit:
    """A hit for people: the invocation and, per matched field, fragments with marked matches."""

    invocation: ToolInvocationInstance
    snippets: dict[str, str]
    score: float


@dataclass(frozen=True)
class SearchPage:
    """The hits of one search, whether more exist than were returned, and, when the query
    language could not read the query and it was searched as written, why."""

    hits: list[SearchHit]
    has_more: bool
    read_literally: str | None = None


StageState = Literal["running", "passed", "failed", "output"]
STAGES = ("resolve", "export", "validate", "build", "checks", "record")


@dataclass(frozen=True)
class StageEvent:
    """A publish or test stage started, passed or failed; ``detail`` is a line of its output or
    the failure."""

    stage: str
    state: StageState
    detail: str = ""


StageListener = Callable[[StageEvent], None]
Progress = Callable[[int, int], None]
"""(done, total) of a long piece of work, such as rebuilding the search index."""


@dataclass(frozen=True)
class IndexStatus:
    """How far the search index has caught up with the log."""

    usable: bool
    problem: str | None
    engine: str
    indexed: int
    recorded: int
    size_bytes: int = 0


@dataclass(frozen=True)
class ApiKeyInfo:
    """An API key as listings show it: never its secret or the secret's hash."""

    id: str
    org_id: str
    user_id: str
    name: str
    created_at: datetime
    revoked: bool
    role: str


@dataclass(frozen=True)
class CreatedApiKey:
    """A new key and its secret, shown once: only a hash of the secret is kept."""

    id: str
    secret: str


@dataclass(frozen=True)
class SignedIn:
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class Identity:
    """Who a token speaks for, and the role of the key it was issued for."""

    org_id: str
    user_id: str
    key_id: str
    role: str = "admin"


@dataclass(frozen=True)
class PruneResult:
    containers: int
    images: int


@dataclass(frozen=True)
class Limits:
    """The API's limits, for faces that say them before the service would refuse."""

    max_active_versions: int
    max_inputs: int
    output_limit: int
    persistence_threshold: int


def snippet_pieces(snippet: str) -> list[tuple[str, bool]]:
    """A search snippet as (text, is_match) pieces, whitespace collapsed, for a face to style."""
    from workbench.search.snippets import split_marks

    return split_marks(snippet)
