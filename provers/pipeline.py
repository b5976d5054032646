"""The whole formalisation pipeline for one claim: triage → k candidates (with bounded repair) → deterministic
checks (provers.gate) → agreement → back-translation + judge → a verdict, or an abstention with its reason.

Verdicts: `proved` / `refuted` only from a candidate that passed every check; `not_formalisable` (triage, or
the formaliser's own answer), `rejected` (no candidate survived, or the survivors disagree), `unknown` (z3 timed
out on every survivor), `error` (the model never answered). A wrong machine-checked verdict is worse than none,
so every shortcut here stops early towards abstention, never towards a verdict.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any

from gauntlet.agents.llm import LLM, Completion, LLMError, Message
from gauntlet.kinds import FORMAL_VERDICTS
from gauntlet.provers import gate_z3
from gauntlet.provers.formalise import (BackTranslation, Candidate, Judgement, ask, back_translation_messages,
                                        formalise_messages, judge_messages, repair_messages)
from gauntlet.provers.gate import Check, Screened, screen

GATE_VERDICTS = FORMAL_VERDICTS  # the core vocabulary (gauntlet.kinds)


@dataclass(frozen=True)
class GateSettings:
    k: int = 3  # candidates sampled
    repairs: int = 1  # repair calls per candidate when z3 cannot parse it
    min_agree: int = 2  # surviving candidates that must agree before a verdict
    back_translate: bool = True
    temperature: float = 0.5
    timeout_s: float = 5.0
    max_tokens: int = 240

    @classmethod
    def from_config(cls, cfg: Any) -> "GateSettings":
        """From gauntlet.config.ProverConfig (its k, repairs, min_agree, back_translate, timeout_s)."""
        return cls(k=cfg.k, repairs=cfg.repairs, min_agree=min(cfg.min_agree, cfg.k),
                   back_translate=cfg.back_translate, timeout_s=cfg.timeout_s)


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
        """The `gauntlet formalise --json` document (DESIGN.md contract) plus timing and calls."""
        return {"verdict": self.verdict, "reason": self.reason, "counterexample": self.counterexample,
                "counterexample_text": self.counterexample_text() or None,
                "checks": [c.as_json() for c in self.checks], "formal": self.formal, "symbols": self.symbols(),
                "candidates": self.candidates, "llm_calls": len(self.calls), "elapsed_s": round(self.elapsed_s, 3)}


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

    async def call(self, label: str, msgs: list[Message], model: type, temperature: float) -> Any:
        self.n += 1
        value, comp = await ask(self.llm, msgs, model, seed=self.seed + 104729 * self.n,
                                max_tokens=self.s.max_tokens, temperature=temperature)
        self.calls.append(call_record(label, msgs, comp))
        return value

    async def candidate(self, i: int) -> tuple[Candidate, Screened, int]:
        """Sample candidate i; while z3 cannot parse it and the repair budget lasts, show z3's error and retry."""
        msgs = formalise_messages(self.text, self.quantities, self.context)
        cand: Candidate = await self.call(f"candidate {i + 1}", msgs, Candidate, self.s.temperature)
        repairs = 0
        while True:
            if not cand.formalisable:
                return cand, Screened(), repairs
            screened = await asyncio.to_thread(screen, cand, self.text, quantities=self.quantities,
                                               timeout_s=self.s.timeout_s)
            failed = screened.failed
            if failed is None or failed.check not in ("parse", "names") or repairs >= self.s.repairs:
                return cand, screened, repairs
            repairs += 1
            msgs = repair_messages(self.text, self.quantities, cand, failed.reason, self.context)
            cand = await self.call(f"candidate {i + 1} repair {repairs}", msgs, Candidate, 0.2)

    async def faithful(self, cand: Candidate) -> Check:
        """Back-translation without the claim, then a narrow judge: the same statement or not."""
        words: BackTranslation = await self.call("back-translation", back_translation_messages(cand),
                                                 BackTranslation, 0.0)
        verdict: Judgement = await self.call("judge", judge_messages(self.text, cand, words.statement),
                                             Judgement, 0.0)
        why = f"formal text reads: {words.statement!r}; judge: {verdict.reason}"
        return Check("back_translation", verdict.same, why)


async def run_gate(llm: LLM, text: str, *, quantities: list[str] | None = None, claim_kind: str | None = None,
                   context: str = "", settings: GateSettings = GateSettings(), seed: int = 0) -> GateResult:
    """The gate on one claim. `quantities`/`claim_kind`: the author's triage (None: none given, the formaliser
    triages the bare sentence)."""
    t0 = time.perf_counter()
    run = _Run(llm, text, quantities, claim_kind, settings, seed, context)
    result = await _decide(run)
    result.calls, result.elapsed_s = run.calls, time.perf_counter() - t0
    return result


async def _decide(run: _Run) -> GateResult:
    s = run.s
    checks = [triage(run.claim_kind, run.quantities, run.text)]
    if not checks[0].passed:
        return GateResult("not_formalisable", checks[0].reason, checks)
    candidates: list[dict[str, Any]] = []
    survivors: list[tuple[Candidate, Screened]] = []
    errors = 0
    for i in range(s.k):
        try:
            cand, screened, repairs = await run.candidate(i)
        except LLMError as exc:
            errors += 1
            candidates.append({"index": i + 1, "status": "error", "reason": str(exc)[:300]})
            continue
        row = {"index": i + 1, "candidate": cand.model_dump(), "repairs": repairs,
               "checks": [c.as_json() for c in screened.checks]}
        candidates.append(row)
        if not cand.formalisable:  # one honest "not maths" is enough to abstain: abstaining is always safe
            row.update(status="not_formalisable", reason=cand.reason)
            checks.append(Check("triage", False, f"formaliser: {cand.reason or 'not a mathematical claim'}"))
            return GateResult("not_formalisable", checks[-1].reason, checks, candidates)
        failed = screened.failed
        row.update(status="rejected" if failed else "passed", reason=failed.reason if failed else "",
                   verdict=None if failed else screened.verdict)
        if not failed:
            survivors.append((cand, screened))
        verdicts = {sc.verdict for _, sc in survivors}
        if len(verdicts & {"proved", "refuted"}) > 1:
            break  # survivors already disagree: nothing more can make them agree
        if len(survivors) + (s.k - i - 1) < s.min_agree:
            break  # too few candidates left to reach agreement: stop paying for calls
    if errors == len(candidates):
        return GateResult("error", "the formaliser gave no valid answer", checks, candidates)
    for row in candidates:
        for c in row.get("checks", []):
            if not c["passed"]:
                checks.append(Check(c["check"], False, f"candidate {row['index']}: {c['reason']}"))
    agreement = await asyncio.to_thread(_agreement, survivors, s)
    checks.append(agreement)
    if not agreement.passed:
        return GateResult("rejected", agreement.reason, checks, candidates)
    cand, screened = survivors[0]
    if screened.verdict == "unknown":
        return GateResult("unknown", "z3 could not decide the agreed formalisation in time", checks, candidates,
                          cand, screened.facts)
    if s.back_translate:
        try:
            faithful = await run.faithful(cand)
        except LLMError as exc:
            faithful = Check("back_translation", False, f"no answer from the model: {exc}"[:300])
        checks.append(faithful)
        candidates[_index(candidates, cand)]["back_translation"] = faithful.as_json()
        if not faithful.passed:
            return GateResult("rejected", "back-translation does not say what the claim says: " + faithful.reason,
                              checks, candidates)
    reason = ("z3: no values meeting the hypotheses break the conclusion" if screened.verdict == "proved"
              else "z3: counterexample " + screened.facts.get("counterexample_text", ""))
    return GateResult(screened.verdict, reason, checks, candidates, cand, screened.facts)


def _index(rows: list[dict[str, Any]], cand: Candidate) -> int:
    dumped = cand.model_dump()
    return next(i for i, r in enumerate(rows) if r.get("candidate") == dumped and r.get("status") == "passed")


def _agreement(survivors: list[tuple[Candidate, Screened]], s: GateSettings) -> Check:
    """At least `min_agree` survivors, one verdict among them, and no pair z3 shows to be different formulas."""
    if len(survivors) < s.min_agree:
        return Check("agreement", False, f"{len(survivors)} of {s.k} candidates passed the checks; "
                                         f"{s.min_agree} must agree")
    verdicts = sorted({sc.verdict for _, sc in survivors})
    if len(verdicts) > 1:
        return Check("agreement", False, "the surviving candidates disagree: " + " vs ".join(verdicts))
    first = survivors[0][0]
    compared = 0
    for other, _ in survivors[1:]:
        if sorted(first.decls()) != sorted(other.decls()):
            continue  # different names or sorts: z3 cannot line them up; the verdicts still agree
        same = gate_z3.equivalence(_plain(first), _plain(other), timeout_s=s.timeout_s)
        compared += 1
        if same == "no":
            return Check("agreement", False, "two surviving candidates are different formulas (z3 finds a "
                                             "point where they differ)")
    how = f"; {compared} pair(s) z3-equivalent" if compared else ""
    return Check("agreement", True, f"{len(survivors)} candidates agree: {verdicts[0]}{how}")


def _plain(c: Candidate) -> dict[str, Any]:
    return {"decls": c.decls(), "hypotheses": list(c.hypotheses), "conclusion": c.conclusion}
