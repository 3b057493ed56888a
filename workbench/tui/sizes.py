"""The app's two layouts: from ``WIDE`` columns every table column shows and panes sit side by
side; below ``TALL`` rows the editors are shorter. Screens get the ``-narrow``/``-wide`` and
``-short``/``-tall`` classes from these breakpoints."""

from __future__ import annotations

WIDE = 120
TALL = 40
HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE, "-wide")]
VERTICAL_BREAKPOINTS = [(0, "-short"), (TALL, "-tall")]
