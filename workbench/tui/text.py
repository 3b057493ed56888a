"""Text the app shows that it did not write: names, descriptions, patterns, errors, outputs.

Textual reads square brackets in a string as markup, so a message such as "must match
'^[A-Z_]+$'" loses its ``[A-Z_]``; neither Rich's nor Textual's ``escape`` protects an upper-case
bracket. Data is therefore shown as :class:`~textual.content.Content` (never parsed), or escaped
with :func:`esc` where it is set into a markup template. Times inside messages (the service writes
ISO 8601) are shown as local, readable times.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from textual.content import Content

_ISO_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?\b")


def esc(text: object) -> str:
    """``text`` made safe to put into Textual markup: every bracket is literal."""
    return str(text).replace("[", "\\[")


def plain(text: object) -> Content:
    """``text`` as content that is shown exactly as it is (no markup)."""
    return Content(str(text))


def local_time(moment: datetime) -> str:
    """A moment as the user's local time, e.g. ``8 Jan 2026 13:05:09 CET``."""
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone()  # the service writes UTC
    return f"{local.day} {local:%b %Y %H:%M:%S} {local.tzname() or ''}".rstrip()


def readable_times(message: str) -> str:
    """``message`` with each ISO 8601 time (as the service writes them) shown as local time."""

    def convert(match: re.Match[str]) -> str:
        try:
            moment = datetime.fromisoformat(match.group(0).replace("Z", "+00:00"))
        except ValueError:
            return match.group(0)
        return local_time(moment)

    return _ISO_TIME.sub(convert, message)


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 version``, ``3 versions``."""
    return f"{count:,} {noun if count == 1 else (many or noun + 's')}"
