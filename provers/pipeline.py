"""The whole formalisation pipeline for one claim: triage → the symbols (stage 1) → k formulas over them (stage 2,
under a grammar built from the symbols; bounded repair where no grammar could be enforced) → deterministic checks
(provers.gate) → unanimity + agreement (provers.consensus) → back-translation + judge → for a refutation, the
witness (provers.witness) → a verdict, or an abstention with its reason and the stage that stopped it.

Verdicts: `proved` / `refuted` only from a candidate that passed every check; `not_formalisable` (triage, or
the formaliser's own answer), `rejected` (no candidate survived, or the survivors disagree), `unknown` (z3 timed
out on every survivor), `error` (the model never answered). A wrong machine-checked verdict is worse than none,
so every shortcut here stops early towards abstention, never towards a verdict.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

from gauntlet.agents.llm import LLM, Completion, LLMError, Message
from gauntlet.kinds import FORMAL_VERDICTS
from gauntlet.provers import gate_z3, judged, witness
from gauntlet.provers.consensus import agreement, unanimity
from gauntlet.provers.formalise import (DIFFER_SYSTEM, BackTranslation, Candidate, Difference, Formula,
                                        FormulaTextError, Judgement, Symbols, ask, back_translation_messages,
                                        candidate, formula_messages, judge_messages, parse_formula_text,
                                        plain_names, repair_messages, repair_turn, symbols_messages,
                                        symbols_schema)
from gauntlet.provers.gate import Check, Screened, screen
from gauntlet.provers.grammar import claim_constants, formula_grammar

GATE_VERDICTS = FORMAL_VERDICTS  # the core vocabulary (gauntlet.kinds)


@dataclass(frozen=True)
class GateSettings:
    k: int = 3  # candidates sampled
    repairs: int = 1  # repair calls per candidate that fails one of repair_checks
    # The checks whose failure is shown to the formaliser for a repair: form (only possible without a grammar),
    # and the symbol table's "declared but unused" / "the claim's number is missing". Meaning is never repaired.
    repair_checks: tuple[str, ...] = ("parse", "names", "symbol_table")
    min_agree: int = 2  # surviving candidates that must agree (only when unanimous is off)
    unanimous: bool = True  # a verdict needs ALL k candidates to pass and agree (k >= 2)
    back_translate: bool = True
    witness: bool = True  # a refutation needs its counterexample, in the claim's words, to break the sentence
    temperature: float = 0.5
    timeout_s: float = 5.0
    max_tokens: int = 240
    shared_symbols: bool = True  # one stage-1 answer (greedy) for all k formulas; False: each samples its own
    symbols_temperature: float = 0.0
    draft_chars: int = 0  # a free `Plan:` line before the constrained formula (0: none)
    # The grammar's numerals are only the claim's constants (grammar.claim_constants); False: any numeral.
    claim_numerals: bool = True
    scored_judge: bool = True  # the back-translation judge read from answer probabilities (provers.judged)

    @classmethod
    def from_config(cls, cfg: Any) -> "GateSettings":
        """From gauntlet.config.ProverConfig (k, repairs, min_agree, unanimous, back_translate, witness,
        timeout_s)."""
        return cls(k=cfg.k, repairs=cfg.repairs, min_agree=min(cfg.min_agree, cfg.k),
                   unanimous=cfg.unanimous, back_translate=cfg.back_translate,
                   witness=cfg.witness, timeout_s=cfg.timeout_s)


@dataclass
class GateResult:
    verdict: str
    reason: str
    checks: list[Check] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    accepted: Candidate | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    elapsed_s: float = 0.0
    stopped_by: str | None = None  # the stage or check that stopped the claim (None: a verdict was reached)
    decoding: str = ""  # how the formulas were constrained: "grammar", "json_schema", or "" (none written)
    # Without unanimity: would all k candidates have passed and agreed (z3-equivalent)? None: not asked.
    unanimous_agreement: bool | None = None
    # Without unanimity: did the first two candidates both pass and agree (z3-equivalent), i.e. would k = 2 with
    # unanimity have reached the same verdict? None: not asked.
    first_two_agreement: bool | None = None
    # z3's verdict on the agreed candidates, once they passed every deterministic check and agreement: what the
    # model-judged checks (back-translation, witness) then accepted or stopped. None: agreement was not reached.
    agreed_verdict: str | None = None

    @property
    def formal(self) -> str | None:
        c = self.accepted
        return gate_z3.script(c.decls(), list(c.hypotheses), c.conclusion) if c else None

    @property
    def counterexample(self) -> dict[str, Any] | None:
        return self.facts.get("counterexample") if self.verdict == "refuted" else None

    def symbols(self) -> list[dict[str, str]]:
        return [v.model_dump() for v in self.accepted.variables] if self.accepted else []

    def counterexample_text(self) -> str:
        """The counterexample in the claim's words: `p (probability the check fires) = 1/2`."""
        cex = self.counterexample or {}
        means = {v.name: v.meaning for v in self.accepted.variables} if self.accepted else {}
        return ", ".join(f"{k} ({means.get(k, '?')}) = {v}" for k, v in cex.items())

    def as_json(self) -> dict[str, Any]:
        """The `gauntlet formalise --json` document (docs/contracts.md) plus timing and calls."""
        return {"verdict": self.verdict, "reason": self.reason, "counterexample": self.counterexample,
                "counterexample_text": self.counterexample_text() or None,
                "checks": [c.as_json() for c in self.checks], "formal": self.formal, "symbols": self.symbols(),
                "candidates": self.candidates, "stopped_by": self.stopped_by, "decoding": self.decoding,
                "unanimous_agreement": self.unanimous_agreement, "first_two_agreement": self.first_two_agreement,
                "agreed_verdict": self.agreed_verdict,
                "llm_calls": len(self.calls), "elapsed_s": round(self.elapsed_s, 3)}


def call_record(label: str, messages: list[Message], comp: Completion) -> dict[str, Any]:
    return {"label": label, "messages": messages, "response": comp.text, "model": comp.model,
            "prompt_tokens": comp.prompt_tokens, "completion_tokens": comp.completion_tokens,
            "latency_s": round(comp.latency_s, 4), "queued_s": round(comp.queued_s, 4), "attempts": comp.attempts,
            "faults": comp.faults, "repaired": comp.repaired}


# A statement about quantities says how much or for which values: a number, a quantifier, a comparison or a
# mathematical noun. A sentence with none of them (most research prose) is not sent to the formaliser at all.
_MATH_SIGNAL = re.compile(r"\d|\b(every|all|any|always|never|whenever|each|if|at (least|most)|(more|less|fewer) "
                          r"than|greater|smaller|larger|equals?|sum|product|average|mean|probabilit\w*|squared?|"
                          r"integers?|reals?|bound\w*|majority|half|thirds?|percent)\b", re.IGNORECASE)


def triage(claim_kind: str | None, quantities: list[str] | None, text: str = "") -> Check:
    """The author's own marking: only a claim marked as math and naming its quantities goes on to the formaliser.
    `None` means no marking was given (a sentence from the command line): the formaliser triages it, unless the
    sentence has no sign of being about quantities at all."""
    if text and not _MATH_SIGNAL.search(text):
        return Check("triage", False, "no number, quantifier, comparison or mathematical term: not a statement "
                                      "about quantities")
    if claim_kind is not None and claim_kind != "theorem":
        return Check("triage", False, f"its author marked it {claim_kind!r}, not a theorem")
    if quantities is not None and not [q for q in quantities if q.strip()]:
        return Check("triage", False, "its author named no quantities it is about")
    if claim_kind is None and quantities is None:
        return Check("triage", True, "no marking by an author: the formaliser decides whether it is mathematical")
    return Check("triage", True, "marked a theorem about: " + "; ".join(quantities or []))


class _Run:
    """One claim's pass through the gate; collects the records as it goes."""

    def __init__(self, llm: LLM, text: str, quantities: list[str] | None, claim_kind: str | None,
                 s: GateSettings, seed: int, context: str = "") -> None:
        self.llm, self.text, self.quantities, self.s, self.seed = llm, text, quantities, s, seed
        self.claim_kind, self.context = claim_kind, context
        self.calls: list[dict[str, Any]] = []
        self.n = 0
        self.grammar: bool | None = None  # does the backend enforce grammars? (None: not yet asked)

    async def call(self, label: str, msgs: list[Message], model: type, temperature: float,
                   schema: dict[str, Any] | None = None) -> Any:
        self.n += 1
        value, comp = await ask(self.llm, msgs, model, seed=self.seed + 104729 * self.n,
                                max_tokens=self.s.max_tokens, temperature=temperature, schema=schema)
        self.calls.append(call_record(label, msgs, comp))
        return value

    def record_score(self, label: str, msgs: list[Message], scores: Any) -> None:
        self.calls.append({"label": label, "messages": msgs, "response": "", "model": scores.model,
                           "prompt_tokens": scores.prompt_tokens, "completion_tokens": 0,
                           "latency_s": round(scores.latency_s, 4), "queued_s": 0.0, "attempts": 1,
                           "faults": scores.faults, "repaired": False,
                           "logprobs": {k: round(v, 4) if math.isfinite(v) else None for k, v in scores.logprobs.items()},
                           "scored": scores.scored})

    async def symbols(self, label: str, temperature: float) -> Symbols:
        """Stage 1: is it maths, and its variables, each meaning made of the claim's words; names made plain."""
        syms: Symbols = await self.call(label, symbols_messages(self.text, self.quantities, self.context), Symbols,
                                        temperature, schema=symbols_schema(self.text))
        return syms.model_copy(update={"variables": plain_names(list(syms.variables))})

    async def formula(self, label: str, syms: Symbols, problem: tuple[Formula, str] | None = None) -> Formula:
        """Stage 2 under the claim's grammar; a backend that cannot enforce grammars gets the JSON schema (from
        then on, for this claim). `problem`: a previous formula and what the gate said of it (a repair).
        Raises FormulaTextError when a backend ignored the grammar."""
        if self.grammar is not False:
            msgs = formula_messages(self.text, list(syms.variables), self.context)
            if problem is not None:
                msgs = msgs + repair_turn(problem[0], problem[1])
            self.n += 1
            try:
                comp = await self.llm.complete(
                    msgs, seed=self.seed + 104729 * self.n, max_tokens=self.s.max_tokens,
                    temperature=self.s.temperature if problem is None else 0.2,
                    grammar=formula_grammar(syms.decls(), draft_chars=self.s.draft_chars,
                                            numbers=claim_constants(self.text) if self.s.claim_numerals else None))
            except TypeError as exc:  # a backend written before grammars existed
                if "grammar" not in str(exc):
                    raise
                self.grammar = False
            except LLMError:
                if self.grammar is True:
                    raise  # grammars worked for this claim before: a real failure
                self.grammar = False
            else:
                self.grammar = True
                self.calls.append({**call_record(label, msgs, comp), "decoding": "grammar"})
                return parse_formula_text(comp.text)[0]
        if problem is not None:
            msgs = repair_messages(self.text, list(syms.variables), problem[0], problem[1], self.context)
            return await self.call(label, msgs, Formula, 0.2)
        msgs = formula_messages(self.text, list(syms.variables), self.context, as_json=True)
        return await self.call(label, msgs, Formula, self.s.temperature)

    async def candidate(self, i: int, syms: Symbols | None) -> tuple[Candidate, Screened, int]:
        """Candidate i: its symbols (shared, or sampled now), its formula; while z3 cannot parse the formula (only
        without a grammar) and the repair budget lasts, show z3's error and retry."""
        if syms is None:
            syms = await self.symbols(f"candidate {i + 1} symbols", self.s.temperature)
        if not syms.formalisable or not syms.variables:
            return _no_formula(syms), Screened(), 0
        try:
            formula = await self.formula(f"candidate {i + 1}", syms)
            cand, repairs = candidate(syms, formula), 0
        except FormulaTextError as exc:
            cand = candidate(syms, Formula.model_construct(hypotheses=[], conclusion=""))
            return cand, Screened([Check("parse", False, f"the answer is not a formula: {exc}")]), 0
        while True:
            screened = await asyncio.to_thread(screen, cand, self.text, quantities=self.quantities,
                                               timeout_s=self.s.timeout_s)
            failed = screened.failed
            if failed is None or failed.check not in self.s.repair_checks or repairs >= self.s.repairs:
                return cand, screened, repairs
            repairs += 1
            try:
                formula = await self.formula(f"candidate {i + 1} repair {repairs}", syms, (formula, failed.reason))
                cand = candidate(syms, formula)
            except FormulaTextError as exc:
                return cand, Screened([Check("parse", False, f"the answer is not a formula: {exc}")]), repairs

    async def faithful(self, cand: Candidate) -> Check:
        """Back-translation without the claim, then a narrow judge asked both ways round: the same statement
        (must be yes), then any difference between them (must be no)."""
        words: BackTranslation = await self.call("back-translation", back_translation_messages(cand),
                                                 BackTranslation, 0.0)
        if self.s.scored_judge:
            scored = await judged.judge(self.llm, self.text, cand, words.statement, self.seed, self.record_score)
            if scored is not None:
                return scored.__class__(scored.check, scored.passed,
                                        f"formal text reads: {words.statement!r}; {scored.reason}")
        verdict: Judgement = await self.call("judge", judge_messages(self.text, cand, words.statement),
                                             Judgement, 0.0)
        why = f"formal text reads: {words.statement!r}; judge: {verdict.reason}"
        if not verdict.same:
            return Check("back_translation", False, why)
        other: Difference = await self.call("judge differ", judge_messages(self.text, cand, words.statement,
                                                                           DIFFER_SYSTEM), Difference, 0.0)
        why += f"; asked for a difference: {other.reason}"
        return Check("back_translation", not other.differ, why)

    async def witness(self, cand: Candidate, facts: dict[str, Any]) -> Check:
        """The counterexample in the claim's words, judged both ways round without the formula, then a control
        point where the formula's conclusion holds (provers.witness)."""
        where = witness.situation(cand, facts.get("counterexample") or {})
        holds = await self.call("witness holds", witness.messages(self.text, where, witness.HOLDS),
                                witness.Reading, 0.0)
        breaks = await self.call("witness breaks", witness.messages(self.text, where, witness.BREAKS),
                                 witness.Reading, 0.0)
        if holds.answer or not breaks.answer or not facts.get("example"):
            return witness.verdict(holds, breaks, where)  # already failed, or no control point exists
        control_where = witness.situation(cand, facts["example"])
        control = await self.call("witness control", witness.messages(self.text, control_where, witness.HOLDS),
                                  witness.Reading, 0.0)
        return witness.verdict(holds, breaks, where, control, control_where)


async def run_gate(llm: LLM, text: str, *, quantities: list[str] | None = None, claim_kind: str | None = None,
                   context: str = "", settings: GateSettings = GateSettings(), seed: int = 0) -> GateResult:
    """The gate on one claim. `quantities`/`claim_kind`: the author's triage (None: none given, the formaliser
    triages the bare sentence)."""
    t0 = time.perf_counter()
    run = _Run(llm, text, quantities, claim_kind, settings, seed, context)
    result = await _decide(run)
    result.calls, result.elapsed_s = run.calls, time.perf_counter() - t0
    result.decoding = {True: "grammar", False: "json_schema"}.get(run.grammar, "")  # type: ignore[arg-type]
    if result.verdict not in ("proved", "refuted") and result.stopped_by is None:
        result.stopped_by = next((c.check for c in result.checks if not c.passed), None)
    return result


async def _decide(run: _Run) -> GateResult:
    s = run.s
    checks = [triage(run.claim_kind, run.quantities, run.text)]
    if not checks[0].passed:
        return GateResult("not_formalisable", checks[0].reason, checks)
    shared: Symbols | None = None
    if s.shared_symbols:
        try:
            shared = await run.symbols("symbols", s.symbols_temperature)
        except LLMError as exc:
            checks.append(Check("symbols", False, f"no valid answer from the model: {exc}"[:300]))
            return GateResult("error", "the formaliser gave no valid symbols", checks, stopped_by="symbols")
    candidates: list[dict[str, Any]] = []
    survivors: list[tuple[Candidate, Screened]] = []
    errors, first_failure, failed_check = 0, "", ""  # the first candidate's failure, and its check
    for i in range(s.k):
        try:
            cand, screened, repairs = await run.candidate(i, shared)
        except LLMError as exc:
            errors += 1
            candidates.append({"index": i + 1, "status": "error", "reason": str(exc)[:300]})
            first_failure = first_failure or f"candidate {i + 1}: no valid answer from the model"
            failed_check = failed_check or "formula"
            if s.unanimous:
                break
            continue
        row = {"index": i + 1, "candidate": cand.model_dump(), "repairs": repairs,
               "checks": [c.as_json() for c in screened.checks]}
        candidates.append(row)
        if not cand.formalisable:  # one honest "not maths" is enough to abstain: abstaining is always safe
            row.update(status="not_formalisable", reason=cand.reason)
            checks.append(Check("triage", False, f"formaliser: {cand.reason or 'not a mathematical claim'}"))
            return GateResult("not_formalisable", checks[-1].reason, checks, candidates, stopped_by="symbols")
        failed = screened.failed
        row.update(status="rejected" if failed else "passed", reason=failed.reason if failed else "",
                   verdict=None if failed else screened.verdict)
        if failed:
            first_failure = first_failure or f"candidate {i + 1} failed {failed.check}: {failed.reason[:160]}"
            failed_check = failed_check or failed.check
        else:
            survivors.append((cand, screened))
        verdicts = {sc.verdict for _, sc in survivors}
        if len(verdicts & {"proved", "refuted"}) > 1:
            first_failure = first_failure or (f"candidate {i + 1} is {screened.verdict} by z3, an earlier one "
                                              f"{survivors[0][1].verdict}: they disagree")
            break  # survivors already disagree: nothing more can make them agree
        need = s.k if s.unanimous else s.min_agree
        if len(survivors) + (s.k - i - 1) < need:
            break  # too few candidates left to reach agreement: stop paying for calls
    if errors == len(candidates):
        return GateResult("error", "the formaliser gave no valid answer", checks, candidates, stopped_by="formula")
    for row in candidates:
        for c in row.get("checks", []):
            if not c["passed"]:
                checks.append(Check(c["check"], False, f"candidate {row['index']}: {c['reason']}"))
    if s.unanimous:
        checks.append(unanimity(s.k, len(survivors), first_failure))
        if not checks[-1].passed:
            return GateResult("rejected", checks[-1].reason, checks, candidates,
                              stopped_by=failed_check or "unanimity")
    agreed = await asyncio.to_thread(agreement, survivors, k=s.k, min_agree=s.min_agree, unanimous=s.unanimous,
                                     timeout_s=s.timeout_s)
    checks.append(agreed)
    if not agreed.passed:
        why = f"; {first_failure}" if first_failure and first_failure not in agreed.reason else ""
        # too few survivors: what the first failing candidate failed; else the survivors disagreed
        short = len(survivors) < (s.k if s.unanimous else s.min_agree)
        return GateResult("rejected", agreed.reason + why, checks, candidates,
                          stopped_by=failed_check if short and failed_check else "agreement")
    strict = first_two = None
    if not s.unanimous:  # what the unanimous rules would have said, for the record (they decide nothing here)
        strict = unanimity(s.k, len(survivors)).passed and (await asyncio.to_thread(
            agreement, survivors, k=s.k, min_agree=s.k, unanimous=True, timeout_s=s.timeout_s)).passed
        first_two = [r.get("status") for r in candidates[:2]] == ["passed", "passed"] and (await asyncio.to_thread(
            agreement, survivors[:2], k=2, min_agree=2, unanimous=True, timeout_s=s.timeout_s)).passed
    result = await _faithful_verdict(run, checks, candidates, survivors)
    result.unanimous_agreement, result.first_two_agreement = strict, first_two
    result.agreed_verdict = survivors[0][1].verdict
    return result


async def _faithful_verdict(run: _Run, checks: list[Check], candidates: list[dict[str, Any]],
                            survivors: list[tuple[Candidate, Screened]]) -> GateResult:
    """The agreed candidate through z3's verdict, the back-translation and, for a refutation, the witness."""
    s = run.s
    cand, screened = survivors[0]
    if screened.verdict == "unknown":
        return GateResult("unknown", "z3 could not decide the agreed formalisation in time", checks, candidates,
                          cand, screened.facts, stopped_by="solver")
    row = candidates[_index(candidates, cand)]
    if s.back_translate:
        faithful = await _llm_check(run.faithful(cand), "back_translation")
        checks.append(faithful)
        row["back_translation"] = faithful.as_json()
        if not faithful.passed:
            return GateResult("rejected", "back-translation does not say what the claim says: " + faithful.reason,
                              checks, candidates, stopped_by="back_translation")
    if screened.verdict == "refuted" and s.witness:
        witnessed = await _llm_check(run.witness(cand, screened.facts), "witness")
        checks.append(witnessed)
        row["witness"] = witnessed.as_json()
        if not witnessed.passed:
            return GateResult("rejected", "the counterexample does not break the sentence: " + witnessed.reason,
                              checks, candidates, stopped_by="witness")
    reason = ("z3: no values meeting the hypotheses break the conclusion" if screened.verdict == "proved"
              else "z3: counterexample " + screened.facts.get("counterexample_text", ""))
    return GateResult(screened.verdict, reason, checks, candidates, cand, screened.facts)


async def _llm_check(pending: Any, name: str) -> Check:
    """An LLM-judged check; a model that gives no valid answer fails it (abstaining is the safe side)."""
    try:
        return await pending
    except LLMError as exc:
        return Check(name, False, f"no answer from the model: {exc}"[:300])


def _no_formula(syms: Symbols) -> Candidate:
    """The formaliser's own "not maths" (or a maths claim with no quantity named): nothing to write a formula for."""
    reason = syms.reason if not syms.formalisable else "the formaliser named no quantity the claim is about"
    return Candidate(formalisable=False, reason=reason[:200], variables=[], hypotheses=[], conclusion="")


def _index(rows: list[dict[str, Any]], cand: Candidate) -> int:
    dumped = cand.model_dump()
    return next(i for i, r in enumerate(rows) if r.get("candidate") == dumped and r.get("status") == "passed")
