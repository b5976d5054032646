"""The formaliser agent and its two reviewers, as LLM calls: claim → symbols → formula (two stages); formal text
→ words (back-translation, without the claim); claim + words → same or not (judge).

A candidate is structured (variables with a sort and the claim's phrase they stand for, hypotheses, conclusion)
rather than free SMT-LIB: Gauntlet writes the negated script itself, the sorts come from a closed list (no
`UInt8`, `Natural`), and the gate (provers.gate) can check each part on its own. It is written in two stages:
first the symbols (JSON whose `meaning` can only be the claim's words: provers.grammar.meaning_pattern), then
the hypotheses and conclusion under a grammar built from those symbols (provers.grammar.formula_grammar), so a
formula that does not parse or names an undeclared symbol cannot be written. A backend that cannot enforce a
grammar gets the second stage as a JSON schema instead. Output is untrusted like any model output.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from gauntlet.agents.llm import LLM, Completion, Message
from gauntlet.agents.schemas import MoveModel, schema_for
from gauntlet.agents.structured import complete_structured
from gauntlet.provers.fewshot import EXAMPLES
from gauntlet.provers.grammar import MAX_HYPOTHESES, MAX_VARIABLES, RESERVED, meaning_pattern, numbers_line

SORTS = ("Real", "Int", "Bool", "(_ BitVec 8)", "(_ BitVec 16)", "(_ BitVec 32)", "(_ BitVec 64)")


class Variable(MoveModel):
    name: str = Field(max_length=16)
    sort: Literal["Real", "Int", "Bool", "(_ BitVec 8)", "(_ BitVec 16)", "(_ BitVec 32)", "(_ BitVec 64)"]
    meaning: str = Field(max_length=160)  # the claim's own words (a phrase: provers.grammar.meaning_pattern)


class Candidate(MoveModel):
    """One formalisation. `formalisable: false` (with the reason) is the honest answer for a non-math claim."""

    formalisable: bool
    reason: str = Field(max_length=200)
    variables: list[Variable] = Field(max_length=MAX_VARIABLES)
    # Every string bounded: the grammar stops a weak model's run-on term instead of spending max_tokens on it.
    hypotheses: list[Annotated[str, Field(max_length=400)]] = Field(max_length=MAX_HYPOTHESES)
    conclusion: str = Field(max_length=400)

    def decls(self) -> list[tuple[str, str]]:
        return [(v.name, v.sort) for v in self.variables]


class BackTranslation(MoveModel):
    # Words only: a small model asked to read a formula aloud tends to copy the formula, and a judge comparing
    # the claim with SMT-LIB says "different" whatever it means. No brackets, operators or hex in the sentence.
    statement: str = Field(max_length=240, pattern=r'^[^()*<>=+/#^"\\\n]{1,240}$')


class Judgement(MoveModel):
    reason: str = Field(max_length=160)  # first, so the model reasons before it commits
    same: bool


class Difference(MoveModel):
    """The judge's question turned round: a model that says yes to whatever it is asked fails one of the two."""
    reason: str = Field(max_length=160)
    differ: bool


def candidate_schema() -> dict[str, Any]:
    return schema_for(Candidate)


class Symbols(MoveModel):
    """The first stage: is the claim mathematical, and which quantities (name, sort, the claim's words) it is
    about."""

    formalisable: bool
    reason: str = Field(max_length=200)
    variables: list[Variable] = Field(max_length=MAX_VARIABLES)

    def decls(self) -> list[tuple[str, str]]:
        return [(v.name, v.sort) for v in self.variables]


class Formula(MoveModel):
    """The second stage as JSON, for a backend that cannot enforce a grammar."""

    hypotheses: list[Annotated[str, Field(max_length=160)]] = Field(max_length=MAX_HYPOTHESES)
    conclusion: str = Field(max_length=300)


_NAME_PATTERN = "^[a-z][a-z0-9_]{0,11}$"


def symbols_schema(claim_text: str) -> dict[str, Any]:
    """The Symbols schema for one claim: a plain lower-case name, and a meaning made only of the claim's words."""
    schema = schema_for(Symbols)
    var = schema["$defs"]["Variable"] if "$defs" in schema else schema["properties"]["variables"]["items"]
    var["properties"]["name"] = {"type": "string", "pattern": _NAME_PATTERN}
    var["properties"]["meaning"] = {"type": "string", "pattern": meaning_pattern(claim_text)}
    return schema


def plain_names(variables: list[Variable]) -> list[Variable]:
    """Names the formula grammar can list: a reserved word, a malformed or a repeated name becomes `v<i>`.
    Renaming before the formula is written changes nothing a reader sees but the name."""
    out: list[Variable] = []
    taken: set[str] = set()
    for i, v in enumerate(variables, 1):
        name = v.name
        if not re.fullmatch(_NAME_PATTERN.strip("^$"), name) or name in RESERVED or name in taken:
            name = next(f"v{j}" for j in range(i, i + 50) if f"v{j}" not in taken)
        taken.add(name)
        out.append(v.model_copy(update={"name": name}))
    return out


def candidate(symbols: Symbols, formula: Formula) -> Candidate:
    """The two stages as one candidate; FormulaTextError when a term is longer than a candidate may hold."""
    try:
        return Candidate(formalisable=symbols.formalisable, reason=symbols.reason, variables=symbols.variables,
                         hypotheses=formula.hypotheses, conclusion=formula.conclusion)
    except ValueError as exc:  # pydantic's ValidationError
        raise FormulaTextError(f"the formula does not fit a candidate ({str(exc).splitlines()[0][:120]})") from None


class FormulaTextError(ValueError):
    """A second-stage answer not in the `Assume:` / `Show:` shape (only a backend that ignored the grammar)."""


def parse_formula_text(text: str) -> tuple[Formula, str]:
    """`Plan: …` (optional), `Assume: <term>` lines, one `Show: <term>` → (Formula, the plan). A JSON answer
    ({hypotheses, conclusion}) is read too: a server that ignored the grammar may still have answered in form."""
    if text.lstrip().startswith("{"):
        try:
            return Formula.model_validate_json(text), ""
        except ValueError as exc:
            raise FormulaTextError(f"neither `Assume:`/`Show:` lines nor valid JSON ({str(exc)[:100]})") from None
    plan, hyps, concl = "", [], None
    for line in (ln.strip() for ln in text.strip().splitlines()):
        head, _, rest = line.partition(":")
        if head == "Plan" and not hyps and concl is None:
            plan = rest.strip()
        elif head == "Assume" and concl is None and rest.strip():
            hyps.append(rest.strip())
        elif head == "Show" and concl is None and rest.strip():
            concl = rest.strip()
        elif line:
            raise FormulaTextError(f"unexpected line {line[:60]!r}: want `Assume: <term>` lines, then `Show: <term>`")
    if concl is None:
        raise FormulaTextError("no `Show: <term>` line")
    if len(hyps) > MAX_HYPOTHESES:
        raise FormulaTextError(f"more than {MAX_HYPOTHESES} hypotheses")
    return Formula.model_construct(hypotheses=hyps, conclusion=concl), plan


def formula_text(hypotheses: list[str], conclusion: str) -> str:
    return "".join(f"Assume: {h}\n" for h in hypotheses) + f"Show: {conclusion}"


SYMBOLS_SYSTEM = (
    "Read one claim from an AI-alignment debate and list the quantities it is about, for a formula to be "
    "written next. If it is not a precise statement about numbers that follows from its hypotheses (a forecast, "
    "an empirical finding, a method, an opinion, a vague trend), answer formalisable false with the reason. "
    "Otherwise give one variable per quantity that can vary: a short name, a sort (Real for real numbers, scores "
    "and probabilities, Int for counts, (_ BitVec 8) and wider for fixed-width machine integers, Bool for yes/no) "
    "and its meaning in the claim's own words. Numbers the claim states stay numbers, not variables. Answer only "
    "with JSON."
)
FORMULA_SYSTEM = (
    "Write one claim as SMT-LIB 2 terms in prefix form, e.g. (>= (* p q) 0.8), over the variables given and "
    "nothing else. One `Assume:` line per condition the claim states (a probability p also needs "
    "(and (>= p 0.0) (<= p 1.0))), then one `Show:` line with what the claim says always follows. Use every "
    "variable and every number of the claim."
)


def _symbols_answer(answer: dict[str, Any]) -> str:
    keep = {k: answer[k] for k in ("formalisable", "reason", "variables")}
    return json.dumps(keep, ensure_ascii=False, separators=(",", ":"))


def _task(claim_text: str, quantities: list[str] | None, context: str) -> str:
    task = (f"Context (the idea the claim supports; do not formalise it): {context}\n" if context else "")
    task += f"Claim: {claim_text}"
    if quantities:
        task += "\nQuantities named by its author: " + "; ".join(quantities)
    return task


def symbols_messages(claim_text: str, quantities: list[str] | None = None, context: str = "") -> list[Message]:
    """Stage 1, few-shot: fixed system text and examples first (prefix-cache friendly), the claim last."""
    msgs: list[Message] = [{"role": "system", "content": SYMBOLS_SYSTEM}]
    for ex in EXAMPLES:
        msgs += [{"role": "user", "content": f"Claim: {ex.claim}"},
                 {"role": "assistant", "content": _symbols_answer(ex.answer)}]
    return msgs + [{"role": "user", "content": _task(claim_text, quantities, context)}]


def variables_line(variables: list[Variable] | list[dict[str, Any]]) -> str:
    rows = [v if isinstance(v, dict) else v.model_dump() for v in variables]
    return "Variables: " + "; ".join(f"{v['name']} : {v['sort']} = {v['meaning']}" for v in rows)


def formula_messages(claim_text: str, variables: list[Variable], context: str = "",
                     as_json: bool = False) -> list[Message]:
    """Stage 2, few-shot: the worked examples' formulas (as `Assume:`/`Show:` lines, or JSON for a backend
    without grammars), then the claim with its symbols."""
    system = FORMULA_SYSTEM + (" Answer only with JSON: hypotheses (a list of terms) and conclusion."
                               if as_json else "")
    msgs: list[Message] = [{"role": "system", "content": system}]
    for ex in EXAMPLES:
        a = ex.answer
        if not a.get("formalisable"):
            continue
        reply = (json.dumps({"hypotheses": a["hypotheses"], "conclusion": a["conclusion"]}) if as_json
                 else formula_text(a["hypotheses"], a["conclusion"]))
        msgs += [{"role": "user", "content": _formula_task(ex.claim, a["variables"])},
                 {"role": "assistant", "content": reply}]
    return msgs + [{"role": "user", "content": _formula_task(claim_text, variables, context)}]


def _formula_task(claim_text: str, variables: list[Variable] | list[dict[str, Any]], context: str = "") -> str:
    return "\n".join(filter(None, [_task(claim_text, None, context), variables_line(variables),
                                   numbers_line(claim_text)]))


_REPAIR = ("The checker rejects this: {problem}. Fix it. Use every variable given and every number of the claim, "
           "in prefix form, and keep the meaning of the claim.")


def repair_messages(claim_text: str, variables: list[Variable], previous: Formula, problem: str,
                    context: str = "") -> list[Message]:
    """Stage 2 as JSON again, the faulty answer, and the gate's complaint: one bounded chance to fix it."""
    return formula_messages(claim_text, variables, context, as_json=True) + [
        {"role": "assistant", "content": previous.model_dump_json()},
        {"role": "user", "content": _REPAIR.format(problem=problem)}]


def repair_turn(previous: Formula, problem: str) -> list[Message]:
    """The turns a grammar-constrained repair adds to the stage-2 conversation: the answer and the complaint."""
    return [{"role": "assistant", "content": formula_text(list(previous.hypotheses), previous.conclusion)},
            {"role": "user", "content": _REPAIR.format(problem=problem)}]


def describe_formal(c: Candidate) -> str:
    """The formal text as the back-translator sees it: names and sorts only, never the claim's words."""
    lines = [f"Variables: " + ", ".join(f"{v.name} : {v.sort}" for v in c.variables)]
    lines.append("Assuming: " + (" ; ".join(c.hypotheses) if c.hypotheses else "(nothing)"))
    lines.append(f"It always holds that: {c.conclusion}")
    return "\n".join(lines)


BACK_SYSTEM = ("Read the SMT-LIB formula and say in one plain English sentence exactly what it claims, "
               "including every assumption and bound, in words (\"times\", \"plus\", \"at least\", \"is "
               "less than\"), not symbols. Do not guess at a story behind it. Answer only with JSON.")
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
              temperature: float, schema: dict[str, Any] | None = None) -> tuple[Any, Completion]:
    return await complete_structured(llm, messages, model, schema=schema or schema_for(model), seed=seed,
                                     max_tokens=max_tokens, temperature=temperature, attempts=2)
