"""An author's explicit positions, drawn from their writings: `{claim, stance, quote, source}` with the quote
verbatim. Extracted per file (so the positions of a held-out file come from that file alone), selected by
relevance for a debate turn, and shown to the clone with their quotes so its critiques can cite them."""

from __future__ import annotations

import asyncio
from typing import Literal, Sequence

import numpy as np
from pydantic import Field

from gauntlet.agents.llm import LLM, Message
from gauntlet.agents.metered import Meter
from gauntlet.agents.persona import Stance
from gauntlet.agents.quotes import QuoteBook
from gauntlet.agents.schemas import MoveModel, schema_for

MAX_PER_FILE = 3


class StanceItem(MoveModel):
    claim: str = Field(max_length=200)
    stance: Literal["agree", "disagree"]
    quote: str  # the id of the sentence where the author says so


class StanceSet(MoveModel):
    stances: list[StanceItem] = Field(min_length=1, max_length=MAX_PER_FILE)


def extraction_messages(author: str, listing: str) -> list[Message]:
    task = (f"Numbered sentences from one piece of writing by {author}:\n{listing}\n\n"
            f"List up to {MAX_PER_FILE} explicit positions the author takes in it. For each, give claim: a short, "
            "general statement in neutral words that a researcher could agree or disagree with (do not mention "
            "the author); stance: agree if the author holds it, disagree if the author rejects it; quote: the id "
            "of the sentence where the author says so. Include claims the author rejects as well as ones they "
            "hold.")
    return [{"role": "system", "content": "You extract a researcher's stated positions from their writing, "
                                          "exactly as written. Answer only with JSON matching the schema."},
            {"role": "user", "content": task}]


def accept(items: Sequence[StanceItem], book: QuoteBook, source: str) -> list[Stance]:
    """Stances whose quote is a real sentence of `source` (verbatim), one per distinct claim."""
    out: list[Stance] = []
    seen: set[str] = set()
    for item in items:
        quote = book.resolve(item.quote)
        claim = " ".join(item.claim.split())
        key = claim.lower().rstrip(".")
        if quote is None or quote.source != source or not claim or key in seen:
            continue
        seen.add(key)
        out.append(Stance(claim=claim, stance=item.stance, quote=quote.text, source=source))
    return out


async def extract(llm: LLM, book: QuoteBook, author: str, meter: Meter, *, seed: int,
                  sources: Sequence[str] | None = None) -> list[Stance]:
    """The stances of each file (or of `sources` only), one call per file."""
    out: list[Stance] = []
    for k, f in enumerate(book.files):
        if (sources is not None and f.source not in sources) or not book.ids(f.source):
            continue
        ids = book.ids(f.source)
        schema = schema_for(StanceSet, enums={"quote": ids}, items={"stances": (1, min(MAX_PER_FILE, len(ids)))})
        found = await meter.ask(llm, extraction_messages(author, book.listing(f.source)), StanceSet, schema,
                                seed=seed + 101 * k)
        out += accept(found.stances, book, f.source)
    return out


# --- relevance, for a debate turn ---------------------------------------------------------------------------
def nearest(stances: Sequence[Stance], query: str, k: int = 3, *, min_score: float = 0.2,
            embed=None) -> list[Stance]:
    """The k stances whose claims are nearest the query (cosine over the local embedding), best first."""
    if not stances or not query.strip():
        return []
    if embed is None:
        from gauntlet.agents import embeddings
        if not embeddings.available():
            return list(stances[:k])  # no embedding model: the first ones, rather than none
        from gauntlet.agents.corpus import embed
    mat = embed([s.claim + " " + s.quote for s in stances] + [query])
    scores = mat[:-1] @ mat[-1]
    order = np.argsort(-scores, kind="stable")[:k]
    return [stances[i] for i in order if scores[i] >= min_score]


async def relevant(stances: Sequence[Stance], query: str, k: int = 3) -> list[Stance]:
    """The stances nearest a turn's task, embedded off the event loop ([] at once for a card without any)."""
    return await asyncio.to_thread(nearest, stances, query, k) if stances else []


def citations(text: str, shown: Sequence[Stance]) -> list[dict[str, str]]:
    """The shown stances a piece of text cites by label ([P2]), as records for a node's data."""
    return [{"label": f"P{i}", **s.model_dump()} for i, s in enumerate(shown, 1) if f"[P{i}]" in text]
