"""Output of exactly the requested size: try 4,000 (kept by every persistence mode), 6,000 (over
the 5,000 persistence threshold) and 25,000 (over the 20,000 output limit)."""


def run(params, ctx):
    size = params["characters"]
    title = params.get("title", "Report")
    line = f"{title}: row of figures 0123456789\n"
    body = (line * (size // len(line) + 1))[:size]
    ctx.logger.info("generated %d characters", len(body))
    return body
