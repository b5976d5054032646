"""The juror's scored questions on one anchored critique: short yes/no questions, each read from the answer-token
probabilities (agents/calibration.py `Scorer`: both answer orders, content-free bias removed), one per way a
critique can fail.

Every question shares one prompt prefix (rules, the proposal, then the critique with its anchor and the author's
reply) and differs only in its last two messages, so a backend that caches prompt prefixes
(agents/prefix_cache.py) evaluates the proposal and the critique once for all the questions of an item, and a
question's second answer order as a few tokens. No persona or topic is shown: a debate's juror is then asked
exactly what the eval measured (`gauntlet eval rulings`), so the calibration fitted there applies to its votes.

A question's debiased margin (log P(Yes) - log P(No)) is the calibration feature named in `QUESTIONS`; which
questions a vote asks follows from the features its calibration uses.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from gauntlet.agents.calibration import Scorer
from gauntlet.agents.llm import LLM, ChoiceScores, Message, back_to_back
from gauntlet.agents.scoring import order_margin

RULES = "You check critiques of AI-alignment proposals against the proposal's text. Answer with one word."
CONTENT_FREE = "N/A"
NO_REPLY = "(none)"

# feature name -> the question. `margin` is the overall question (the shipped default calibration reads it alone);
# the others each test one way a critique fails: it misreads the text, the text already answers it, the reply
# answers it, it is about another proposal.
QUESTIONS: dict[str, str] = {
    "margin": "Is the critique right?",
    "q_accurate": "Does the proposal really say or imply what the critique attacks?",
    "q_unanswered": "Is the critique's point missing from the proposal's own text?",
    "q_reply_fails": "Does the author's reply fail to answer the critique?",
    "q_applies": "Does the critique's objection apply to this particular proposal?",
}


def messages(question: str, proposal: str, critique: str, anchor: str, reply: str,
             answers: tuple[str, str]) -> list[Message]:
    """One scored question; `answers` = (yes, no) in the order they are offered."""
    return [{"role": "system", "content": RULES},
            {"role": "user", "content": f"Proposal:\n{proposal}"},
            {"role": "user", "content": f"Critique of the words \"{anchor}\":\n{critique}\n\n"
                                        f"Author's reply: {reply.strip() or NO_REPLY}"},
            {"role": "user", "content": QUESTIONS[question]},
            {"role": "user", "content": f"Answer {answers[0]} or {answers[1]}."}]


def content_free(question: str, answers: tuple[str, str]) -> list[Message]:
    """The same question on a content-free input: its answer probabilities are the label bias removed."""
    return messages(question, CONTENT_FREE, CONTENT_FREE, CONTENT_FREE, CONTENT_FREE, answers)


def asked(features: Sequence[str]) -> list[str]:
    """The questions a calibration over `features` needs, in `QUESTIONS` order (so the prefix is shared)."""
    return [q for q in QUESTIONS if q in features]


async def read(llm: LLM, scorer: Scorer, proposal: str, critique: str, anchor: str, reply: str,
               questions: Sequence[str], seed: int | None = None
               ) -> tuple[dict[str, float], bool, dict[str, list[ChoiceScores]]]:
    """(feature -> debiased margin, whether every pass was scored, question -> its passes: both orders, then the
    content-free ones)."""
    margins: dict[str, float] = {}
    passes: dict[str, list[ChoiceScores]] = {}
    scored = True
    async with back_to_back(llm):  # the questions share the proposal and the critique: keep them in the context
        for q in questions:
            m, ok, got = await scorer.features(
                llm, lambda order, q=q: messages(q, proposal, critique, anchor, reply, order),
                lambda order, q=q: content_free(q, order), seed)
            margins[q], passes[q] = m, got
            scored = scored and ok
    return margins, scored, passes


def raw_margins(passes: Mapping[str, list[ChoiceScores]], answers: tuple[str, str]) -> dict[str, float]:
    """Per question: the margin averaged over the two orders without the bias removed, and the content-free
    margin alone (`<q>:raw`, `<q>:content_free`), for the baselines."""
    pos, neg = answers
    out: dict[str, float] = {}
    for q, got in passes.items():
        out[f"{q}:raw"] = sum(order_margin(p, pos, neg) for p in got[:2]) / max(1, len(got[:2]))
        free = got[2:4]
        out[f"{q}:content_free"] = sum(order_margin(p, pos, neg) for p in free) / len(free) if free else 0.0
    return out
