"""The panel evaluation's narrow judge: does this critique state that objection? One yes/no model call
per pair, with embedding similarity as a pre-filter so only the most similar pairs are asked about.

The same question serves two uses: a sustained critique against a known flaw from the literature (flaw recall),
and a sustained critique against another run's critique of the same proposal (recurrence across seeds).
"""

from __future__ import annotations

from typing import Any, Callable

from gauntlet.agents import prompts
from gauntlet.agents.llm import LLM, LLMError
from gauntlet.agents.schemas import FlawMatch, flaw_match_schema
from gauntlet.agents.structured import complete_structured

SIMILARITY_FLOOR = 0.2  # below this cosine similarity a critique is not asked about a flaw at all
CANDIDATES_PER_FLAW = 2  # the most similar sustained critiques per flaw that get the yes/no call

Similarity = Callable[[list[str], list[str]], list[list[float]]]


def critique_words(c: dict[str, Any]) -> str:
    """What the judge reads of a sustained critique: the words it quotes, then its own."""
    return f"\"{c.get('anchor', '')}\" — {c['text']}"


def candidate_pairs(flaws: list[str], critiques: list[dict[str, Any]],
                    similarity: Similarity | None) -> list[tuple[int, int, float | None]]:
    """(flaw index, critique index, similarity) pairs worth a yes/no call: each flaw's CANDIDATES_PER_FLAW most
    similar critiques at or above SIMILARITY_FLOOR, or every pair when there is no embedding model."""
    if not flaws or not critiques:
        return []
    if similarity is None:
        return [(i, j, None) for i in range(len(flaws)) for j in range(len(critiques))]
    sims = similarity(flaws, [c["text"] + " " + c.get("anchor", "") for c in critiques])
    pairs = []
    for i, row in enumerate(sims):
        ranked = sorted(range(len(critiques)), key=lambda j: -row[j])[:CANDIDATES_PER_FLAW]
        pairs += [(i, j, round(float(row[j]), 3)) for j in ranked if row[j] >= SIMILARITY_FLOOR]
    return pairs


async def states(llm: LLM, objection: str, critique: dict[str, Any], seed: int) -> tuple[FlawMatch | None, int]:
    """(the judge's answer, or None when the call failed, tokens spent). A failed call counts as no match."""
    msgs = prompts.flaw_match_messages(objection, critique_words(critique))
    try:
        fm, c = await complete_structured(llm, msgs, FlawMatch, schema=flaw_match_schema(), seed=seed)
    except LLMError:
        return None, 0
    return fm, c.prompt_tokens + c.completion_tokens


def embedding_similarity() -> Similarity | None:
    """Cosine similarity from the small shipped sentence encoder, or None when it is not installed."""
    from gauntlet.agents import corpus, embeddings
    if not embeddings.available():
        return None

    def sim(a: list[str], b: list[str]) -> list[list[float]]:
        va, vb = corpus.embed(a), corpus.embed(b)
        return (va @ vb.T).tolist()  # the encoder's vectors are unit length: dot product = cosine
    return sim
