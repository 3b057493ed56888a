"""Third-party dependencies (humanize, pydantic); the input schema is its pydantic model."""

import re

import humanize
from pydantic import BaseModel, Field


class Params(BaseModel):
    text: str = Field(min_length=1, description="The text to measure.")
    top: int = Field(default=3, ge=1, le=20, description="How many frequent words to list.")


def run(params: Params, ctx):
    words = re.findall(r"[A-Za-z']+", params.text.lower())
    sentences = [s for s in re.split(r"[.!?]+", params.text) if s.strip()]
    counts = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[: params.top]
    ctx.logger.info("measured %d words", len(words))
    return {
        "words": len(words),
        "words_readable": humanize.intword(len(words)) if len(words) >= 1_000_000 else humanize.intcomma(len(words)),
        "sentences": len(sentences),
        "top_words": [word for word, _ in top],
    }
