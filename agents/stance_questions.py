"""The scored stance question: would this persona agree with a claim? Read from P(Yes) and P(No) of the first
answer token, never from generated text (agents/calibration.py asks it in both answer orders beside a content-free
copy).

Layout, for the prefix cache (agents/prefix_cache.py): the system message holds what every claim shares (the rules,
the persona card, the persona's stated positions), so it is evaluated once per persona; then one message with the
passages retrieved for this claim (clones only), one with the claim, and a last one naming the answers, so a
question's second answer order re-evaluates only that short message.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from gauntlet.agents.llm import Message
from gauntlet.agents.persona import Persona, Stance
from gauntlet.agents.prompts import CONTENT_FREE, persona_card

STANCE_RULES = ("You speak for the researcher described below, from their own views and writings. You say whether "
                "they would agree with a claim put to them. Answer with one word.")
ANSWERS = ("Yes", "No")  # (agree, disagree)
LABELS = ("agree", "disagree")


def positions(stances: Sequence[Stance]) -> str:
    """A persona's stated positions as lines of the system message (empty for none)."""
    lines = [f"- You {s.stance} that {s.claim.rstrip('.')}. (You wrote: \"{s.quote}\")" for s in stances]
    return "Positions you have stated in your writings:\n" + "\n".join(lines) if lines else ""


def stance_question(card: Persona, claim: str, answers: tuple[str, str], *, stances: Sequence[Stance] = (),
                    passages: Sequence[Any] | None = None) -> list[Message]:
    """The question for one claim. `passages=None` leaves the passages message out (a persona without a corpus);
    a clone with nothing retrieved still gets the message, saying so, so its prompts keep one shape."""
    system = "\n\n".join(x for x in (STANCE_RULES, persona_card(card), positions(stances)) if x)
    msgs: list[Message] = [{"role": "system", "content": system}]
    if passages is not None:
        shown = "\n".join(f"[S{i}] {p.text}" for i, p in enumerate(passages, 1)) or "(none bear on this claim)"
        msgs.append({"role": "user", "content": "Passages from your own writings:\n" + shown})
    msgs.append({"role": "user", "content": f"Claim: {claim}\n\nDo you agree with this claim?"})
    msgs.append({"role": "user", "content": f"Answer {answers[0]} or {answers[1]}."})
    return msgs


def stance_question_content_free(card: Persona, answers: tuple[str, str], *, stances: Sequence[Stance] = (),
                                 with_passages: bool = False) -> list[Message]:
    """The same question with "N/A" for the claim (and for the passages): its answer probabilities are the
    persona prompt's label bias, measured once per persona and subtracted from every claim's margin."""
    passages = [_Text(CONTENT_FREE)] if with_passages else None
    return stance_question(card, CONTENT_FREE, answers, stances=stances, passages=passages)


class _Text:
    def __init__(self, text: str) -> None:
        self.text = text


def stance_similarity(claims: Sequence[str], stances: Sequence[Stance],
                      embed: Callable[[Sequence[str]], np.ndarray]) -> list[float]:
    """Per claim, the cosine to the nearest stated position the persona agrees with minus that to the nearest one
    it rejects (0 for a side with none): positive leans agree. The similarity-only baseline's feature."""
    if not claims:
        return []
    if not stances:
        return [0.0] * len(claims)
    mat = np.asarray(embed([s.claim for s in stances] + list(claims)), dtype=float)
    sims = mat[len(stances):] @ mat[:len(stances)].T
    agree = np.array([s.stance == "agree" for s in stances])

    def nearest(row: np.ndarray, side: np.ndarray) -> float:
        return float(row[side].max()) if side.any() else 0.0

    return [round(nearest(row, agree) - nearest(row, ~agree), 6) for row in sims]
