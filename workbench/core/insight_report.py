"""A tool's statistics as one self-contained HTML page with inline SVG charts: no script, no
style sheet, font or image from anywhere else, so it opens offline and can be mailed around.

Per version: a summary row, latency and failure rate over time, the output-size histogram with
the 5,000-character persistence threshold and the 20,000-character limit drawn, and the most
frequent exceptions. ``workbench stats --html FILE`` writes it; the server serves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from workbench.core.insight_models import HistogramBin, OutputSizes, SeriesPoint, ToolStats, VersionStats
from workbench.core.insight_text import number, percent

WIDTH, HEIGHT, PAD = 560, 160, 36
BAR = "#1f77b4"
LINE = "#1f77b4"
FAINT = "#aec7e8"
FAIL = "#ff7f0e"
THRESHOLD = "#d62728"
LIMIT = "#7b1fa2"

STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 20px; } h2 { font-size: 17px; margin-top: 32px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 8px 0; } td, th { padding: 3px 10px; text-align: right; border-bottom: 1px solid #eee; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; } .muted { color: #777; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; } figure { margin: 0; } figcaption { font-size: 13px; color: #555; }
svg text { font-size: 11px; fill: #444; }
"""


def stats_report_html(stats: ToolStats, generated_at: datetime) -> str:
    """The whole page for ``stats``."""
    window = f"{_when(stats.since) or 'the first invocation'} to {_when(stats.until) or 'now'}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(stats.tool_name)}: version insight</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{escape(stats.tool_name)}: version insight</h1>",
        f'<p class="muted">{stats.count:,} invocations from {escape(window)} (UTC); made {escape(_when(generated_at) or "")} by Tool Workbench.</p>',
        _summary_table(stats),
    ]
    for version in stats.versions:
        parts.append(_version_section(version, stats))
    if not stats.versions:
        parts.append("<p>No invocations in this window.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else f"{moment:%Y-%m-%d %H:%M}"


def _summary_table(stats: ToolStats) -> str:
    head = "".join(
        f"<th>{escape(h)}</th>"
        for h in ("version", "invocations", "success", "p50 ms", "p95 ms", "p99 ms", "output p50", "output p95", "output max",
                  f"≥ {stats.persistence_threshold:,}", f"> {stats.output_limit:,}", "first seen", "last seen")
    )
    rows = []
    for v in stats.versions:
        sizes = v.output_chars
        cells = [
            v.version, number(v.count), percent(v.success_rate), number(v.latency_ms.p50), number(v.latency_ms.p95), number(v.latency_ms.p99),
            number(sizes.p50), number(sizes.p95), number(sizes.max), percent(sizes.share_at_or_over_threshold), percent(sizes.share_over_limit),
            _when(v.first_seen) or "-", _when(v.last_seen) or "-",
        ]
        rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    return f'<table class="summary"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _version_section(v: VersionStats, stats: ToolStats) -> str:
    charts = []
    if v.series:
        step = "hour" if stats.bucket == "hour" else "day"
        charts.append(_figure(f"latency per {step}: mean (dark) and largest (light), ms", _latency_chart(v.series, v.version)))
        charts.append(_figure(f"failure rate per {step}", _failure_chart(v.series, v.version)))
    charts.append(_figure("output size (characters), with the persistence threshold and the output limit", _size_chart(v.output_chars, stats, v.version)))
    exceptions = "".join(f"<tr><td>{escape(e.exception_type)}</td><td>{e.count:,}</td><td>{percent(e.share)}</td></tr>" for e in v.exceptions)
    table = f'<table class="exceptions"><thead><tr><th>exception</th><th>count</th><th>of failures</th></tr></thead><tbody>{exceptions}</tbody></table>' if exceptions else "<p>No failures.</p>"
    sources = ", ".join(f"{escape(s.source_type)} {s.count:,} ({percent(s.succeeded / s.count if s.count else None)} ok)" for s in v.by_source)
    return (
        f'<section class="version" data-version="{escape(v.version)}"><h2>{escape(v.version)}</h2>'
        f'<p>{v.count:,} invocations, {v.failed:,} failed ({percent(1 - v.success_rate if v.success_rate is not None else None)}). {sources}</p>'
        f'<div class="charts">{"".join(charts)}</div><h3>Most frequent exceptions</h3>{table}</section>'
    )


def _figure(caption: str, svg: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def _svg(kind: str, version: str, body: str, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {kind}" data-version="{escape(version)}" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}">'
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fafafa"/>{body}</svg>'
    )


def _x(index: int, count: int) -> float:
    span = WIDTH - 2 * PAD
    return PAD + (span * index / (count - 1) if count > 1 else span / 2)


def _y(value: float, top: float) -> float:
    return HEIGHT - PAD - (HEIGHT - 2 * PAD) * (value / top if top > 0 else 0)


def _polyline(values: Sequence[float | None], top: float, colour: str, cls: str) -> str:
    """Runs of present values as polylines (a gap where a step has no invocations)."""
    lines: list[list[str]] = []
    run: list[str] = []
    for index, value in enumerate(values):
        if value is None:
            if run:
                lines.append(run)
            run = []
        else:
            run.append(f"{_x(index, len(values)):.1f},{_y(value, top):.1f}")
    if run:
        lines.append(run)
    out = []
    for points in lines:
        if len(points) == 1:
            x, y = points[0].split(",")
            out.append(f'<circle class="{cls}" cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>')
        else:
            out.append(f'<polyline class="{cls}" points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2"/>')
    return "".join(out)


def _axes(top_label: str, series: list[SeriesPoint]) -> str:
    base = HEIGHT - PAD
    first = f"{series[0].start:%m-%d %H:%M}" if series else ""
    last = f"{series[-1].start:%m-%d %H:%M}" if series else ""
    return (
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{base}" stroke="#999"/><line x1="{PAD}" y1="{base}" x2="{WIDTH - PAD}" y2="{base}" stroke="#999"/>'
        f'<text x="4" y="{PAD + 4}">{escape(top_label)}</text><text x="4" y="{base}">0</text>'
        f'<text x="{PAD}" y="{HEIGHT - 12}">{escape(first)}</text><text x="{WIDTH - PAD}" y="{HEIGHT - 12}" text-anchor="end">{escape(last)}</text>'
    )


def _latency_chart(series: list[SeriesPoint], version: str) -> str:
    top = float(max((p.max_ms or 0 for p in series), default=0)) or 1.0
    body = _axes(f"{top:,.0f}", series) + _polyline([p.max_ms for p in series], top, FAINT, "series max") + _polyline([p.mean_ms for p in series], top, LINE, "series mean")
    return _svg("latency", version, body, f"latency of {version} over time")


def _failure_chart(series: list[SeriesPoint], version: str) -> str:
    body = _axes("100%", series) + _polyline([p.failure_rate for p in series], 1.0, FAIL, "series failure-rate")
    return _svg("failures", version, body, f"failure rate of {version} over time")


def _size_chart(sizes: OutputSizes, stats: ToolStats, version: str) -> str:
    bins = sizes.histogram
    top = max((b.count for b in bins), default=0)
    span = WIDTH - 2 * PAD
    width = span / max(1, len(bins))
    base = HEIGHT - PAD
    parts = [f'<line x1="{PAD}" y1="{base}" x2="{WIDTH - PAD}" y2="{base}" stroke="#999"/>', f'<text x="4" y="{PAD + 4}">{top:,}</text>']
    for index, item in enumerate(bins):
        height = (base - PAD) * (item.count / top) if top else 0
        if item.count:
            height = max(height, 1.5)
        label = f"{item.low:,}+" if item.high is None else f"{item.low:,}-{item.high:,}"
        parts.append(
            f'<rect class="bar" x="{PAD + index * width + 1:.1f}" y="{base - height:.1f}" width="{max(1.0, width - 2):.1f}" height="{height:.1f}" fill="{BAR}">'
            f"<title>{escape(label)}: {item.count:,}</title></rect>"
        )
    for size, colour, cls, text, anchor in (
        (stats.persistence_threshold, THRESHOLD, "threshold", f"{stats.persistence_threshold:,} persistence threshold", "start"),
        (stats.output_limit, LIMIT, "limit", f"{stats.output_limit:,} output limit", "end"),
    ):
        x = PAD + _bin_position(bins, size) * width
        parts.append(f'<line class="{cls}" x1="{x:.1f}" y1="{PAD - 8}" x2="{x:.1f}" y2="{base}" stroke="{colour}" stroke-width="3" stroke-dasharray="6 3"/>')
        shift = 4 if anchor == "start" else -4
        parts.append(f'<text x="{x + shift:.1f}" y="{PAD - 12}" text-anchor="{anchor}" style="fill:{colour}">{escape(text)}</text>')
    parts.append(f'<text x="{PAD}" y="{HEIGHT - 12}">0</text><text x="{WIDTH - PAD}" y="{HEIGHT - 12}" text-anchor="end">characters</text>')
    return _svg("sizes", version, "".join(parts), f"output sizes of {version}")


def _bin_position(bins: list[HistogramBin], size: int) -> float:
    """Where ``size`` falls along the bins, in bin widths."""
    for index, item in enumerate(bins):
        if item.high is None or size < item.high:
            return index + (size - item.low) / (item.high - item.low) if item.high else float(index)
    return float(len(bins))
