"""The formaliser's worked examples: each a correct formalisation whose truth z3 confirms (tests/test_formalise_gate.py
runs every one), covering reals, integers, bit-vectors and probabilities, a true and a false claim, and a
non-mathematical sentence answered `formalisable: false`.

The examples are also what the copy guard compares candidates against: a weak model that copies an example
instead of formalising the claim is caught here (provers.gate.copy_guard).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Example:
    claim: str
    truth: Literal["true", "false", "not_math"]  # what z3 must say about the answer (checked by a test)
    answer: dict[str, Any] = field(default_factory=dict)  # a provers.formalise.Candidate as JSON


def _v(name: str, sort: str, meaning: str) -> dict[str, str]:
    return {"name": name, "sort": sort, "meaning": meaning}


EXAMPLES: tuple[Example, ...] = (
    Example(
        "If two independent checks each catch a flaw with probability at least 0.9, both catch it with "
        "probability at least 0.8.", "true",
        {"formalisable": True, "reason": "",
         "variables": [_v("p", "Real", "probability the first check catches the flaw"),
                       _v("q", "Real", "probability the second check catches the flaw")],
         "hypotheses": ["(and (>= p 0.9) (<= p 1.0))", "(and (>= q 0.9) (<= q 1.0))"],
         "conclusion": "(>= (* p q) 0.8)"}),
    Example(
        "Adding two 8-bit unsigned counters never gives a result smaller than the first counter.", "false",
        {"formalisable": True, "reason": "",
         "variables": [_v("a", "(_ BitVec 8)", "the first counter"), _v("b", "(_ BitVec 8)", "the second counter")],
         "hypotheses": [],
         "conclusion": "(bvuge (bvadd a b) a)"}),
    Example(
        "With n voters and a candidate backed by more than half of them, the candidate has at least n/2 + 1 "
        "votes when n is even.", "true",
        {"formalisable": True, "reason": "",
         "variables": [_v("n", "Int", "number of voters"), _v("v", "Int", "votes for the candidate")],
         "hypotheses": ["(> n 0)", "(= (mod n 2) 0)", "(> (* 2 v) n)"],
         "conclusion": "(>= v (+ (div n 2) 1))"}),
    Example(
        "Interpretability tools will scale to frontier models within five years.", "not_math",
        {"formalisable": False,
         "reason": "an empirical forecast about research progress, not a statement about quantities that "
                   "follows from definitions",
         "variables": [], "hypotheses": [], "conclusion": ""}),
)
