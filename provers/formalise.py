"""The formaliser agent: one natural-language math claim → SMT-LIB (negated) + a Lean 4 statement and proof.

Its output is untrusted like any model output: the texts go through provers.screen before a prover sees them,
and the assumptions it had to add are kept next to the claim so a reviewer (or a critic) can judge whether the
formal text says what the sentence says.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from gauntlet.agents.llm import LLM, Completion, Message
from gauntlet.agents.structured import complete_structured
from gauntlet.provers.claim import Claim

SYSTEM = (
    "You are a careful formal-methods engineer. You translate one mathematical claim from a research debate "
    "into formal languages, faithfully: never strengthen or weaken it, and list every assumption you had to add "
    "(domains, ranges, independence, bit widths). Answer only with JSON matching the schema.\n"
    "smtlib: SMT-LIB 2 that declares the variables and ASSERTS THE NEGATION of the claim, so that unsat means "
    "the claim holds and a model is a counterexample. Use only declare-const, declare-fun, define-fun, assert "
    "and check-sat. Leave it empty if the claim is not in a decidable fragment (arithmetic, inequalities, "
    "bit-vectors, finite logic).\n"
    "lean_statement: a Lean 4 Mathlib theorem statement without proof, e.g. "
    "`theorem claim (x : ℝ) (hx : 0 ≤ x) : x ≤ x ^ 2 + 1`.\n"
    "lean_proof: a tactic proof starting with `by`, e.g. `by nlinarith [sq_nonneg x]`. No sorry, no #eval.\n"
    "assumptions: short sentences, one per added assumption."
)

EXAMPLE_USER = "Claim: for every real x, x squared is at least x."
EXAMPLE_ANSWER = (
    '{"smtlib": "(declare-const x Real)\\n(assert (not (>= (* x x) x)))\\n(check-sat)", '
    '"lean_statement": "theorem claim (x : ℝ) : x ≤ x ^ 2", "lean_proof": "by nlinarith [sq_nonneg (x - 1)]", '
    '"assumptions": ["x ranges over the reals"]}'
)


class Formalisation(BaseModel):
    smtlib: str = Field(default="", max_length=8000)
    lean_statement: str = Field(default="", max_length=2000)
    lean_proof: str = Field(default="", max_length=4000)
    assumptions: list[str] = Field(default_factory=list, max_length=8)

    def claim(self, text: str, claim_id: str = "") -> Claim:
        return Claim(text=text, smtlib=self.smtlib.strip() or None,
                     lean_statement=self.lean_statement.strip() or None,
                     lean_proof=self.lean_proof.strip() or None,
                     assumptions=tuple(a.strip() for a in self.assumptions if a.strip()), id=claim_id)


def formalisation_schema() -> dict[str, Any]:
    def s(n: int) -> dict[str, Any]:
        return {"type": "string", "maxLength": n}
    props = {"smtlib": s(1200), "lean_statement": s(400), "lean_proof": s(600),
             "assumptions": {"type": "array", "items": s(160), "maxItems": 4}}
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def formalise_messages(claim_text: str, context: str = "") -> list[Message]:
    """Few-shot layout: fixed system text and example first (prefix-cache friendly), the claim last."""
    task = (f"Context (the idea the claim supports): {context}\n\n" if context else "") + f"Claim: {claim_text}"
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": EXAMPLE_USER},
            {"role": "assistant", "content": EXAMPLE_ANSWER},
            {"role": "user", "content": task}]


async def formalise_claim(llm: LLM, claim_text: str, *, context: str = "", seed: int = 0,
                    max_tokens: int | None = 700) -> tuple[Formalisation, Completion]:
    """Ask `llm` for a formalisation of `claim_text` (validated; retried on malformed output)."""
    return await complete_structured(llm, formalise_messages(claim_text, context), Formalisation,
                                     schema=formalisation_schema(), seed=seed, max_tokens=max_tokens,
                                     temperature=0.2)
