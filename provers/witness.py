"""The `witness` check: does z3's counterexample really make the claim's sentence false?

A refutation attacks a claim and every idea it supports, so it must survive a test that does not trust the
formula at all. The counterexample is put back into the claim's own words (each variable's meaning and its value)
and a narrow call that sees only the sentence and that concrete situation — never the formula — is asked twice,
in opposite framings: "does the sentence hold here?" (must answer no) and "is this a counterexample to the
sentence?" (must answer yes). Then a control: a second point z3 found where the formula's conclusion DOES hold,
asked "does the sentence hold here?" (must answer yes), so a reader that calls every situation a counterexample
fails. A formula that misstates the claim yields a situation in which the sentence still holds (or a control in
which it fails); a reader that cannot tell the two points apart is no witness. Either way the gate abstains.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from pydantic import Field

from gauntlet.agents.llm import Message
from gauntlet.agents.schemas import MoveModel
from gauntlet.provers.formalise import Candidate
from gauntlet.provers.gate import Check


class Reading(MoveModel):
    reason: str = Field(max_length=240)  # first: the model works the numbers out before it commits
    answer: bool


SYSTEM = ("You check one sentence against one concrete situation. Work out every number the sentence talks "
          "about in that situation (sums, averages, products, probabilities, 8-bit arithmetic that wraps at 256), "
          "then answer the question with true or false. Judge only the sentence's own words. Answer only with JSON.")
HOLDS = "Question: for these particular values, is what the sentence says satisfied (true) or violated (false)?"
BREAKS = "Question: is this situation a counterexample that shows the sentence is wrong (true) or not (false)?"


def _number(value: Any) -> str:
    """z3's value for a person: `1/3` as `1/3 (about 0.3333)`, `1/2` as `0.5`."""
    if isinstance(value, str) and "/" in value:
        try:
            x = Fraction(value)
        except ValueError:
            return value
        exact = float(x)
        return f"{exact:g}" if Fraction(exact) == x else f"{value} (about {exact:.4g})"
    return str(value).rstrip("?")


def _bits(sort: str) -> int | None:
    return int(sort.split()[-1].rstrip(")")) if sort.startswith("(_ BitVec") else None


def situation(c: Candidate, counterexample: dict[str, Any]) -> str:
    """The counterexample in the claim's words: one line per variable, meaning first, name in brackets."""
    lines = []
    for v in c.variables:
        if v.name not in counterexample:
            lines.append(f"- {v.meaning} ({v.name}): any value")
            continue
        value, bits = counterexample[v.name], _bits(v.sort)
        if bits and isinstance(value, int):
            signed = value - (1 << bits) if value >= 1 << (bits - 1) else value
            shown = f"{value} as a {bits}-bit unsigned value" + (f" ({signed} if read as signed)"
                                                                  if signed != value else "")
        else:
            shown = _number(value)
        lines.append(f"- {v.meaning} ({v.name}) = {shown}")
    return "\n".join(lines)


def messages(claim_text: str, where: str, question: str) -> list[Message]:
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Sentence: {claim_text}\nSituation:\n{where}\n{question}"}]


def verdict(holds: Reading, breaks: Reading, where: str, control: Reading | None = None,
            control_where: str = "") -> Check:
    """Passed only when both framings say the counterexample breaks the sentence and, when there is a control
    point, the reader says the sentence is satisfied there."""
    said = f"counterexample: {where.replace(chr(10), '; ')}; satisfied? {holds.answer} ({holds.reason}); " \
           f"counterexample? {breaks.answer} ({breaks.reason})"
    if control is not None:
        said += f"; control: {control_where.replace(chr(10), '; ')}; satisfied? {control.answer} ({control.reason})"
    if holds.answer and not breaks.answer:
        why = "in z3's counterexample, read in the claim's words, the sentence still holds: the formula misstates it"
    elif holds.answer or not breaks.answer:
        why = "the two readings of z3's counterexample contradict each other: no reliable witness"
    elif control is not None and not control.answer:
        why = ("the sentence is also read as violated at a point where the formula's conclusion holds: the reader "
               "does not tell a counterexample from a non-counterexample, or the formula misstates the claim")
    else:
        return Check("witness", True, said[:700])
    return Check("witness", False, f"{why}; {said}"[:700])
