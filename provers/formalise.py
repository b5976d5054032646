"""The formaliser agent and its two reviewers, as LLM calls: claim → structured candidate; formal text → words
(back-translation, without the claim); claim + words → same or not (judge).

A candidate is structured (variables with a sort and the claim's phrase they stand for, hypotheses, conclusion)
rather than free SMT-LIB: Gauntlet writes the negated script itself, the sorts come from a closed list (no
`UInt8`, `Natural`), and the gate (provers.gate) can check each part on its own. Output is untrusted like any
model output; the schemas are generated from the pydantic models with `schema_for`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from gauntlet.agents.llm import LLM, Completion, Message
from gauntlet.agents.schemas import MoveModel, schema_for
from gauntlet.agents.structured import complete_structured
from gauntlet.provers.fewshot import EXAMPLES

SORTS = ("Real", "Int", "Bool", "(_ BitVec 8)", "(_ BitVec 16)", "(_ BitVec 32)", "(_ BitVec 64)")


class Variable(MoveModel):
    name: str = Field(max_length=16)
    sort: Literal["Real", "Int", "Bool", "(_ BitVec 8)", "(_ BitVec 16)", "(_ BitVec 32)", "(_ BitVec 64)"]
    meaning: str = Field(max_length=80)  # the claim's own words for this quantity


class Candidate(MoveModel):
    """One formalisation. `formalisable: false` (with the reason) is the honest answer for a non-math claim."""

    formalisable: bool
    reason: str = Field(max_length=200)
    variables: list[Variable] = Field(max_length=5)
    # Every string bounded: the grammar stops a weak model's run-on term instead of spending max_tokens on it.
    hypotheses: list[Annotated[str, Field(max_length=160)]] = Field(max_length=4)
    conclusion: str = Field(max_length=300)

    def decls(self) -> list[tuple[str, str]]:
        return [(v.name, v.sort) for v in self.variables]


class BackTranslation(MoveModel):
    statement: str = Field(max_length=240)


class Judgement(MoveModel):
    reason: str = Field(max_length=160)  # first, so the model reasons before it commits
    same: bool


class Difference(MoveModel):
    """The judge's question turned round: a model that says yes to whatever it is asked fails one of the two."""
    reason: str = Field(max_length=160)
    differ: bool


def candidate_schema() -> dict[str, Any]:
    return schema_for(Candidate)


SYSTEM = (
    "Translate one claim from an AI-alignment debate into SMT-LIB 2, faithfully. If it is not a precise "
    "statement about numbers that follows from its hypotheses (a forecast, an empirical finding, a method, an "
    "opinion, a vague trend), answer formalisable false with the reason. Otherwise give the variables (name, "
    "sort, meaning: the claim's words for it), the hypotheses and the conclusion as Boolean SMT-LIB terms in "
    "prefix form, e.g. (>= (* p q) 0.8). Use only declared variables. Answer only with JSON."
)


def _pair(claim: str, answer: dict[str, Any]) -> list[Message]:
    return [{"role": "user", "content": f"Claim: {claim}"},
            {"role": "assistant", "content": json.dumps(answer, ensure_ascii=False, separators=(",", ":"))}]


def formalise_messages(claim_text: str, quantities: list[str] | None = None, context: str = "") -> list[Message]:
    """Few-shot layout: fixed system text and examples first (prefix-cache friendly), the claim last."""
    msgs: list[Message] = [{"role": "system", "content": SYSTEM}]
    for ex in EXAMPLES:
        msgs += _pair(ex.claim, ex.answer)
    task = (f"Context (the idea the claim supports; do not formalise it): {context}\n" if context else "")
    task += f"Claim: {claim_text}"
    if quantities:
        task += "\nQuantities named by its author: " + "; ".join(quantities)
    return msgs + [{"role": "user", "content": task}]


def repair_messages(claim_text: str, quantities: list[str] | None, previous: Candidate,
                    problem: str, context: str = "") -> list[Message]:
    """The same conversation, the faulty answer, and z3's complaint: one bounded chance to fix it."""
    return formalise_messages(claim_text, quantities, context) + [
        {"role": "assistant", "content": previous.model_dump_json()},
        {"role": "user", "content": f"z3 rejects this: {problem}. Fix it. Declare every variable you use, "
                                    "use only the allowed sorts, and keep the meaning of the claim."}]


def describe_formal(c: Candidate) -> str:
    """The formal text as the back-translator sees it: names and sorts only, never the claim's words."""
    lines = [f"Variables: " + ", ".join(f"{v.name} : {v.sort}" for v in c.variables)]
    lines.append("Assuming: " + (" ; ".join(c.hypotheses) if c.hypotheses else "(nothing)"))
    lines.append(f"It always holds that: {c.conclusion}")
    return "\n".join(lines)


BACK_SYSTEM = ("Read the SMT-LIB formula and say in one plain English sentence exactly what it claims, "
               "including every assumption and bound. Do not guess at a story behind it. Answer only with JSON.")
JUDGE_SYSTEM = ("Decide whether two statements say the same thing mathematically: the same quantities, the same "
                "assumptions and the same conclusion (a different strength, direction, bound or missing "
                "condition means NOT the same). Give a short reason, then same true or false. Answer only with JSON.")


def back_translation_messages(c: Candidate) -> list[Message]:
    return [{"role": "system", "content": BACK_SYSTEM}, {"role": "user", "content": describe_formal(c)}]


DIFFER_SYSTEM = ("Look for a difference between two statements: a quantity, an assumption, a bound, a direction "
                 "or a condition that one has and the other lacks or changes. Give a short reason, then differ true "
                 "if you find one, false if they say the same thing. Answer only with JSON.")


def judge_messages(claim_text: str, c: Candidate, statement: str, system: str = JUDGE_SYSTEM) -> list[Message]:
    table = "; ".join(f"{v.name} = {v.meaning}" for v in c.variables)
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"Statement A: {claim_text}\nStatement B: {statement}\n"
                                        f"(In B, {table}.)"}]


async def ask(llm: LLM, messages: list[Message], model: type[BaseModel], *, seed: int, max_tokens: int,
              temperature: float) -> tuple[Any, Completion]:
    return await complete_structured(llm, messages, model, schema=schema_for(model), seed=seed,
                                     max_tokens=max_tokens, temperature=temperature, attempts=2)
