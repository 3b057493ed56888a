"""Fails with an exception and a real stack trace on text it cannot parse."""

from datetime import date


class UnparseableDate(ValueError):
    pass


def _split(text):
    parts = text.strip().split("-")
    if len(parts) != 3:
        raise UnparseableDate(f"expected YYYY-MM-DD, got {text!r}")
    return [int(p) for p in parts]


def _parse(text):
    year, month, day = _split(text)
    return date(year, month, day)


def run(params, ctx):
    ctx.logger.info("parsing %r", params["text"])
    parsed = _parse(params["text"])
    return {"date": parsed.isoformat(), "weekday": parsed.strftime("%A")}
