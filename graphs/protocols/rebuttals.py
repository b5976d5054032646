"""Rebuttals that mean what they say, as pure functions.

A rebuttal names the critique it answers and an action. Small models write "concede: the criticism is wrong";
such text contradicts its action, and the action is repaired to what the text says (the rebuttal's data keeps
the action as given, so a reader sees the repair). A `revise` without a revised claim offers no fix: it admits
the flaw, so it is a concession.
"""

from __future__ import annotations

import functools
import re

from gauntlet.similarity import ratio_at_least

# Phrases that say the critique is right / wrong. Deliberately narrow: a repair needs one side's signal alone.
_AGREES = re.compile(r"\b(you are right|you're right|i agree|we agree|good point|valid point|fair point|i concede|"
                     r"we concede|is correct|is right|is valid|that is true|this is true|fair criticism|"
                     r"rightly points? out|acknowledge (that )?the)\b", re.I)
_DISAGREES = re.compile(r"\b(is wrong|is incorrect|is mistaken|is false|is invalid|is unfounded|is baseless|"
                        r"misunderstands|misreads|misrepresents|i disagree|we disagree|does not hold|"
                        r"doesn't hold|is not valid|not a valid|is not true|does not apply|doesn't apply)\b", re.I)


def implied_action(text: str) -> str | None:
    """`concede` or `counter` when the text clearly says one of them (one signal without the other), else None."""
    agrees, disagrees = bool(_AGREES.search(text)), bool(_DISAGREES.search(text))
    if agrees and not disagrees:
        return "concede"
    if disagrees and not agrees:
        return "counter"
    return None


def settled_action(action: str, text: str, revised_claim: str) -> tuple[str, str]:
    """(the action the rebuttal takes, why it differs from the one given, or "")."""
    if action == "revise" and not revised_claim.strip():
        return "concede", "revise without a revised claim: it admits the flaw and offers no fix"
    said = implied_action(text)
    if action in ("concede", "counter") and said and said != action:
        return said, f"text says {said}, not {action}"
    return action, ""


# A juror's reason that says the critique stands / fails (small models write "overruled: the item does not
# address this well-known issue").
_STANDS = re.compile(r"\b(does not|doesn't|fails to|did not|didn't) (address|answer|rebut|refute|fix|resolve)|"
                     r"\b(critique|objection|criticism) is (correct|right|valid|sound)|\bvalid (concern|point|critique)",
                     re.I)
_FAILS = re.compile(r"\b(critique|objection|criticism) is (wrong|incorrect|mistaken|invalid|off-target|unfounded)|"
                    r"\b(off-target|misreads|misunderstands|does not apply|doesn't apply)\b", re.I)


def settled_vote(vote: str, reason: str) -> tuple[str, str]:
    """(the vote a juror's reason supports, why it differs from the one given, or "")."""
    stands, fails = bool(_STANDS.search(reason)), bool(_FAILS.search(reason))
    said = "sustained" if stands and not fails else "overruled" if fails and not stands else None
    if said and said != vote:
        return said, f"reason says {said}, not {vote}"
    return vote, ""


ECHO_RATIO = 0.75  # a juror "reason" this alike to the critique's own text restates it and gives no ground


def echoes(reason: str, critique_text: str) -> bool:
    """Whether a juror's reason merely repeats the critique (a small model's habit): such a vote is not counted."""
    a, b = _normal(reason), _normal(critique_text)
    if not a or not b:
        return False
    head = b[:len(a)] if len(a) < len(b) else b
    # A juror's reason meets every critique of its batch (~15,000 pairs a round at 256 critics):
    # ratio_at_least settles nearly all of them with a bound, giving difflib's answer at a fraction of its cost.
    return ratio_at_least(a, head, ECHO_RATIO)


@functools.lru_cache(maxsize=4096)
def _normal(text: str) -> str:
    """Lower case, whitespace runs as one space (cached: one juror's reason meets a whole batch of critiques)."""
    return " ".join(text.lower().split())
