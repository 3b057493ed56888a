"""Searches the help-center articles. Its search backend takes about a second and a half to
answer (``LATENCY_SECONDS``): a call a voice agent covers with an audio filler."""

import re
import time

LATENCY_SECONDS = 1.5
ARTICLES = [
    ("kb-101", "Tracking a parcel", "Every shipped order has a tracking number in its confirmation email; the carrier's page shows where the parcel is."),
    ("kb-102", "Late deliveries", "If a delivery is more than two days past its estimate, we refund the shipping fee and ask the carrier to investigate."),
    ("kb-103", "Changing a delivery address", "An address can be changed until the order is shipped; after that, contact the carrier."),
    ("kb-104", "Refunds", "Refunds go back to the original payment method within five working days of the return arriving at the warehouse."),
    ("kb-105", "Gold tier benefits", "Gold tier customers get free express shipping and a dedicated support line."),
]


def _words(text):
    return set(re.findall(r"[a-z]+", text.lower()))


def run(params, ctx):
    wanted = _words(params["query"])
    ctx.logger.info("searching the knowledge base for %r", params["query"])
    time.sleep(LATENCY_SECONDS)  # the search backend's latency
    scored = sorted(((len(wanted & _words(title + " " + body)), key, title, body) for key, title, body in ARTICLES), key=lambda item: (-item[0], item[1]))
    hits = [{"id": key, "title": title, "summary": body} for score, key, title, body in scored if score > 0]
    return {"query": params["query"], "articles": hits[: params.get("limit", 2)]}
