"""The HTML stats report opened in a real headless browser: its charts are in the DOM the browser
builds, and they are drawn (the screenshot has the bars, the series and the threshold lines in
their colours)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from workbench.core.insight_report import BAR, FAIL, LIMIT, THRESHOLD, stats_report_html
from workbench.core.service import ToolService
from workbench.synthetic import generate_invocations
from test_insight_stats import record

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str:
    found = next((path for path in map(shutil.which, BROWSERS) if path), None)
    if found is None:
        message = "no headless browser to open the report: install Debian's chromium package (scripts/test does, as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def headless(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
    ]
    return subprocess.run([browser(), *flags, *args], capture_output=True, text=True, timeout=120)


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@pytest.fixture
def report(service: ToolService, clock, tmp_path: Path) -> Path:
    tools = generate_invocations(service, "acme", 1500, seed=5, days=10, end=clock.now)
    tool = tools["report_generator"]
    service.import_invocations([record(tool, clock.now - timedelta(hours=h), version=(2, 0, 0), output="x" * size) for h, size in ((1, 6_000), (2, 12_000), (3, 19_000))])
    stats = service.tool_stats("acme", tool, {"bucket": "day"})
    page = tmp_path / "report.html"
    page.write_text(stats_report_html(stats, datetime.now(UTC)), encoding="utf-8")
    return page


def test_the_browser_builds_every_chart_of_every_version(report: Path, tmp_path: Path) -> None:
    dumped = headless(tmp_path, "--dump-dom", report.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    charts = Counter(re.findall(r'<svg[^>]*class="chart (\w+)" data-version="([\d.]+)"', dom))
    versions = {"1.0.0", "1.0.1", "1.1.0", "2.0.0"}
    assert charts == Counter({(kind, v): 1 for kind in ("latency", "failures", "sizes") for v in versions})
    assert dom.count('class="threshold"') == 4 and dom.count('class="limit"') == 4
    assert dom.count('<rect class="bar"') == 4 * 21 and "5,000 persistence threshold" in dom and "20,000 output limit" in dom
    assert len(re.findall(r'<polyline class="series mean"', dom)) >= 4


def test_the_charts_are_drawn(report: Path, tmp_path: Path) -> None:
    from PIL import Image

    shot = tmp_path / "shot.png"
    taken = headless(tmp_path, f"--screenshot={shot}", "--window-size=1200,1600", "--hide-scrollbars", report.as_uri())
    assert taken.returncode == 0 and shot.exists(), taken.stderr[-2000:]
    pixels = {colour: count for count, colour in Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 24)}

    def near(colour: str, tolerance: int = 24) -> int:
        target = rgb(colour)
        return sum(n for pixel, n in pixels.items() if all(abs(a - b) <= tolerance for a, b in zip(pixel, target)))

    assert near(BAR) > 500  # the histogram's bars
    assert near(THRESHOLD) > 100 and near(LIMIT) > 100  # the two dashed lines and their labels
    assert near(FAIL) > 100  # the failure-rate series
