"""The back-translation judge as a scored decision: does the formula's plain-English reading say what the claim
says? Read from the answer-token probabilities (`LLM.score`), not from a generated verdict.

The question is asked both ways round — "do they say the same thing?" (Yes is same) and "is there a difference?"
(No is same) — and the two margins are averaged: a model that leans towards "Yes" whatever it is asked adds the
lean to one margin and takes it from the other, so the lean cancels. The averaged margin goes through the
calibration for this decision (agents.scoring; the shipped default, p = sigmoid(margin) accepted at p >= 0.9,
until a calibration is fitted for the model), and the check passes only on an accepted "same". A backend that
cannot read probabilities (`scored` False, or no `score` at all) gets None: the caller asks the generated judges.
"""

from __future__ import annotations

from typing import Any

from gauntlet.agents.llm import LLM, ChoiceScores, Message
from gauntlet.provers.formalise import Candidate
from gauntlet.provers.gate import Check

LABELS = ("same", "different")
SAME_SYSTEM = ("Decide whether two statements say the same thing mathematically: the same quantities, the same "
               "assumptions and the same conclusion (a different strength, direction, bound or missing condition "
               "means NOT the same). Answer Yes or No.")
DIFFER_SYSTEM = ("Look for a difference between two statements: a quantity, an assumption, a bound, a direction or "
                 "a condition that one has and the other lacks or changes. Answer Yes if you find one, No if they "
                 "say the same thing.")


def messages(claim_text: str, c: Candidate, statement: str, system: str) -> list[Message]:
    table = "; ".join(f"{v.name} = {v.meaning}" for v in c.variables)
    question = "Do A and B say the same thing?" if system == SAME_SYSTEM else "Is there a difference?"
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"Statement A: {claim_text}\nStatement B: {statement}\n(In B, {table}.)\n"
                                        f"{question} Answer Yes or No."}]


def margin(scores: ChoiceScores, positive: str, negative: str) -> float:
    from gauntlet.agents.scoring import order_margin
    return order_margin(scores, positive, negative)


def calibration(model: str) -> Any:
    """The calibration of this decision for `model`: a fitted file when runs/calibrations holds one, else the
    shipped default (not fitted; conservative)."""
    from gauntlet.agents.calibration import calibration_for
    return calibration_for(model, "back_translation", LABELS)  # (calibration, note)


async def judge(llm: LLM, claim_text: str, c: Candidate, statement: str, seed: int,
                record: Any) -> Check | None:
    """The scored judge; None when the backend cannot score (the caller then asks the generated judges).
    `record(label, messages, scores)` keeps each scoring call in the claim's call list."""
    score = getattr(llm, "score", None)
    if score is None:
        return None
    asked = {}
    for label, system, (pos, neg) in (("judge same (scored)", SAME_SYSTEM, ("Yes", "No")),
                                      ("judge differ (scored)", DIFFER_SYSTEM, ("No", "Yes"))):
        msgs = messages(claim_text, c, statement, system)
        try:
            scores: ChoiceScores = await score(msgs, ["Yes", "No"], seed=seed)
        except NotImplementedError:
            return None
        record(label, msgs, scores)
        if not scores.scored:
            return None
        asked[label] = margin(scores, pos, neg)
    value = sum(asked.values()) / len(asked)
    cal, note = calibration(getattr(llm, "name", ""))
    decision = cal.decide({"margin": value}, note=note)
    said = (f"P(same) = {decision.p:.3f} (threshold {decision.threshold}, calibration {decision.calibration}"
            f"{'; not fitted for this model' if note else ''}); "
            f"margins same {asked['judge same (scored)']:+.2f}, no-difference {asked['judge differ (scored)']:+.2f}")
    passed = decision.accepted and decision.label == "same"
    return Check("back_translation", passed, said if passed else f"not accepted as the same statement: {said}")
