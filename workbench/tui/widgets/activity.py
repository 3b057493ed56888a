"""A tool's recent activity as one cell of the Tools list: a sparkline of its invocations per
day and its failure rate, coloured by how bad it is. The data comes from
``ToolsApi.tool_activity``; a screen loads it in a worker and posts :class:`ActivityLoaded`."""

from __future__ import annotations

from textual.message import Message
from rich.text import Text

from workbench.core.insight_models import ToolActivity
from workbench.core.insight_text import percent, sparkline

WARN_RATE = 0.05
BAD_RATE = 0.20


class ActivityLoaded(Message):
    """Every live tool's activity over the last days, by tool id."""

    def __init__(self, activity: dict[str, ToolActivity]) -> None:
        super().__init__()
        self.activity = activity


def failure_style(rate: float | None) -> str:
    """Green when nothing failed, yellow from 5%, red from 20%."""
    if rate is None:
        return "dim"
    return "bold red" if rate >= BAD_RATE else "yellow" if rate >= WARN_RATE else "green"


def activity_cell(activity: ToolActivity | None) -> Text:
    """``▁▃▅█▂▁▇  12.5% failed`` (one block per day, oldest first), or a dim dash when unknown."""
    if activity is None:
        return Text("-", style="dim")
    if not activity.total:
        return Text(f"no calls in {len(activity.days)} d", style="dim")
    cell = Text(sparkline([float(c) for c in activity.counts]), style="cyan")
    cell.append(f"  {activity.total:,} · ")
    cell.append(f"{percent(activity.failure_rate)} failed", style=failure_style(activity.failure_rate))
    return cell
