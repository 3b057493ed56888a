"""Version insight as plain text for people: sparklines, an output-size histogram with the
persistence threshold and the output limit marked, diff lines, numbers. Pure functions of the
insight results, shared by the CLI (``workbench stats --plot``) and the app's widgets, which
add colour."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.core.insight_models import Change, HistogramBin, OutputSizes


BLOCKS = "▁▂▃▄▅▆▇█"
COLUMN_BLOCKS = " ▁▂▃▄▅▆▇█"
MARKER = "┆"


def sparkline(values: Sequence[float | None], top: float | None = None) -> str:
    """One character per value, its height relative to ``top`` (the largest value by default);
    a missing value is a space, zero the lowest block."""
    present = [v for v in values if v is not None]
    ceiling = top if top is not None else max(present, default=0)
    line = []
    for value in values:
        if value is None:
            line.append(" ")
        elif ceiling <= 0 or value <= 0:
            line.append(BLOCKS[0])
        else:
            line.append(BLOCKS[min(len(BLOCKS) - 1, int(value / ceiling * (len(BLOCKS) - 1) + 0.5))])
    return "".join(line)


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def number(value: float | int | None, unit: str = "") -> str:
    if value is None:
        return "-"
    text = f"{value:,.1f}" if isinstance(value, float) and not value.is_integer() else f"{int(value):,}"
    return text + unit


def ratio(value: float | None) -> str:
    """A duration ratio: ``1.25x`` (slower), ``0.80x`` (faster)."""
    return "-" if value is None else f"{value:.2f}x"


def short_chars(count: int) -> str:
    return f"{count // 1000}k" if count >= 1000 and count % 1000 == 0 else f"{count:,}"


@dataclass(frozen=True)
class HistogramText:
    """A vertical histogram: ``lines`` top to bottom, then an axis line of labels; the markers
    (threshold and limit) are the columns in ``marker_columns``."""

    lines: list[str]
    axis: str
    marker_columns: list[int]


def size_histogram(sizes: OutputSizes, threshold: int, limit: int, height: int = 6, bin_width: int = 2) -> HistogramText:
    """The output sizes as columns of blocks, one per bin, with a marker column where the
    persistence threshold and the output limit fall."""
    bins = sizes.histogram
    top = max((b.count for b in bins), default=0)
    markers = {bin_index(bins, threshold), bin_index(bins, limit + 1)}
    columns: list[str | None] = []  # None: a marker column
    labels: list[str] = []
    for index, item in enumerate(bins):
        if index in markers:
            columns.append(None)
            labels.append(short_chars(threshold if item.low <= threshold else limit))
        columns += [_column(item.count, top, height)] * bin_width
        labels += [""] * bin_width
    lines = []
    for row in range(height):
        lines.append("".join(MARKER if c is None else c[row] for c in columns))
    axis = _axis(labels)
    return HistogramText(lines, axis, [i for i, c in enumerate(columns) if c is None])


def bin_index(bins: list[HistogramBin], size: int) -> int:
    """The bin a size falls in."""
    for index, item in enumerate(bins):
        if item.high is None or size < item.high:
            return index
    return len(bins) - 1


def _column(count: int, top: int, height: int) -> str:
    """A column of ``height`` characters, top first, filled in eighths."""
    eighths = 0 if top <= 0 else round(count / top * height * 8)
    if count > 0:
        eighths = max(1, eighths)  # a bin that has outputs always shows
    cells = []
    for row in range(height - 1, -1, -1):
        cells.append(COLUMN_BLOCKS[max(0, min(8, eighths - row * 8))])
    return "".join(cells)


def _axis(labels: list[str]) -> str:
    """Labels under their columns (each starting at its column, never overlapping)."""
    line = [" "] * (len(labels) + 6)
    line[0] = "0"
    free = 2
    for index, label in enumerate(labels):
        if label and index >= free:
            line[index : index + len(label)] = list(label)
            free = index + len(label) + 1
    return "".join(line).rstrip()


def describe_change(change: Change, width: int = 120) -> str:
    """One line of a diff for people: ``~ $.a.b: 1 -> 2``, ``+ $.c: ...``, ``- $.d: ...``."""

    def shown(value: Any) -> str:
        text = json.dumps(value, ensure_ascii=False, default=str)
        return text if len(text) <= width else text[: width - 1] + "…"

    if change.kind == "added":
        return f"+ {change.path}: {shown(change.after)}"
    if change.kind == "removed":
        return f"- {change.path}: {shown(change.before)}"
    return f"~ {change.path}: {shown(change.before)} -> {shown(change.after)}"
