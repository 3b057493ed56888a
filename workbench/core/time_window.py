"""Time bounds as people write them: ``2026-01-05``, ``2026-01-05T14:00``, ``...+02:00``, or a
span back from now (``90m``, ``6h``, ``7d``, ``2w``). One reading for the CLI, the app and the
HTTP API; a bound that is neither is a 400 that says what is allowed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from workbench.errors import BadRequest

SPAN = re.compile(r"^(\d+)\s*(m|min|h|d|w)$")
UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
TIME_BOUND_HELP = "an ISO 8601 date or time (UTC unless it says otherwise), or a span back from now such as 30m, 6h, 7d or 2w"


def parse_time_bound(text: str | None, now: datetime, what: str = "time") -> datetime | None:
    """The instant ``text`` names (UTC), or None for an empty bound."""
    raw = (text or "").strip()
    if not raw:
        return None
    span = SPAN.match(raw.lower())
    if span:
        return now - timedelta(**{UNITS[span.group(2)]: int(span.group(1))})
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{what} {text!r} is not understood: give {TIME_BOUND_HELP}") from None
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment).astimezone(UTC)


def epoch_ms(moment: datetime | None) -> int | None:
    """Milliseconds since the epoch (what the catalog stores), or None."""
    return None if moment is None else int(moment.timestamp() * 1000)


def window(since: str | None, until: str | None, now: datetime, names: tuple[str, str] = ("since", "until")) -> tuple[datetime | None, datetime | None]:
    """A checked [since, until) window; 400 if it ends before it starts. ``names`` are the
    bounds' names in messages."""
    start, end = parse_time_bound(since, now, names[0]), parse_time_bound(until, now, names[1])
    if start is not None and end is not None and end <= start:
        raise BadRequest(
            f"the window ends ({end:%Y-%m-%d %H:%M:%S} UTC) before it starts ({start:%Y-%m-%d %H:%M:%S} UTC); give {names[1]} after {names[0]}"
        )
    return start, end

