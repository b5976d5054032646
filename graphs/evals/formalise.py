"""`gauntlet eval formalise`: the faithfulness gate on a set of sentences with known truth (provers/evalset.py is
the case format and the scoring).

Right = proved on a true claim, refuted on a false one, any abstention on a non-math sentence; wrong = the opposite
verdict on a math claim, or any verdict on a non-math sentence; otherwise abstained. A verdict is `decided` only
when the gate said proved or refuted, so the error bound is over the verdicts it issued. This eval keeps its own
documented `coverage`: right math cases / math cases.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from gauntlet.graphs.evals.report import CaseResult, figures
from gauntlet.graphs.evals.task import EvalContext, Task
from gauntlet.provers import evalset

DECISIVE = ("proved", "refuted")
# What a trivial policy would answer on every case: the figures the gate must beat on the same cases.
BASELINES = {"always_abstain": "not_formalisable", "always_proved": "proved", "always_refuted": "refuted"}


def balanced(cases: list[evalset.Case], per_class: int) -> list[evalset.Case]:
    """The first `per_class` cases of each expect class, round-robin over the classes, so a run stopped part-way
    still has a balanced sample."""
    rank = {c.id: sum(d.expect == c.expect for d in cases[:i + 1]) for i, c in enumerate(cases)}
    return sorted((c for c in cases if rank[c.id] <= per_class), key=lambda c: rank[c.id])


def baseline(rows: list[dict[str, Any]], verdict: str) -> dict[str, Any]:
    """A trivial policy's figures on the same cases, with this eval's own coverage (right math / math cases)."""
    scored = [{"expect": r["expect"], "outcome": evalset.score(r["expect"], verdict)} for r in rows]
    return {**figures([r["outcome"] for r in scored], [verdict in DECISIVE] * len(rows)),
            "coverage": evalset.summarise(scored)["coverage"]}


def _brief(row: dict[str, Any]) -> dict[str, Any]:
    """One candidate as a reader of the report needs it: its formula, what stopped it, z3's verdict."""
    cand = row.get("candidate") or {}
    formula = "; ".join([*cand.get("hypotheses", []), "|- " + cand.get("conclusion", "")]) if cand else ""
    failed = next((c["check"] for c in row.get("checks", []) if not c["passed"]), None)
    return {"status": row.get("status"), "failed": failed, "verdict": row.get("verdict"),
            "repairs": row.get("repairs", 0), "formula": formula[:300],
            "variables": [f"{v['name']}:{v['sort']}={v['meaning']}" for v in cand.get("variables", [])]}


def by_rule(rows: list[dict[str, Any]], flag: str) -> dict[str, Any]:
    """The figures had a verdict needed `flag` as well (all k agreeing, or the first two): a verdict of this run
    without it becomes an abstention. Scored like the run itself, with this eval's coverage."""
    scored = [{"expect": r["expect"], "outcome": evalset.score(r["expect"], r["verdict"] if r.get(flag) else
                                                               "rejected")} for r in rows]
    decided = [r["verdict"] in DECISIVE and bool(r.get(flag)) for r in rows]
    return {**figures([r["outcome"] for r in scored], decided), "coverage": evalset.summarise(scored)["coverage"]}


def before_model_checks(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A diagnostic, not a verdict: the figures had z3's verdict on the agreed candidates been issued without the
    model-judged checks (back-translation, witness). It shows what those checks stop: its `wrong` is the risk
    they carry, its `right` the coverage they hold back."""
    verdicts = [r.get("agreed_verdict") or "rejected" for r in rows]
    scored = [{"expect": r["expect"], "outcome": evalset.score(r["expect"], v)} for r, v in zip(rows, verdicts)]
    return {**figures([r["outcome"] for r in scored], [v in DECISIVE for v in verdicts]),
            "coverage": evalset.summarise(scored)["coverage"]}


class FormaliseEval(Task):
    name = "formalise"
    default_file = evalset.DEFAULT_SET

    def load(self, path: Path) -> list[evalset.Case]:
        return evalset.load_cases(path)

    def select(self, cases: list[evalset.Case], ctx: EvalContext) -> list[evalset.Case]:
        chosen = ctx.resources.get("select", {})
        if chosen.get("per_class"):
            cases = balanced(cases, chosen["per_class"])
        return cases[:chosen.get("limit")]

    async def run_case(self, case: evalset.Case, ctx: EvalContext) -> CaseResult:
        from gauntlet.provers.pipeline import run_gate
        r = await run_gate(ctx.llm, case.text, quantities=case.quantities, settings=ctx.resources["gate"],
                           seed=ctx.seed)
        outcome = evalset.score(case.expect, r.verdict)
        return CaseResult(id=case.id, outcome=outcome, decided=r.verdict in DECISIVE, seconds=round(r.elapsed_s, 2),
                          expect=case.expect, verdict=r.verdict, reason=r.reason[:300],
                          failed_checks=sorted({c.check for c in r.checks if not c.passed}),
                          llm_calls=len(r.calls), elapsed_s=round(r.elapsed_s, 2),
                          # what a reviewer checks a decisive verdict against
                          formal=r.formal if r.verdict in DECISIVE else None,
                          counterexample=r.counterexample_text() or None,
                          # the stage or check that stopped an abstention; how the formulas were constrained;
                          # without unanimity, whether all k candidates would also have passed and agreed
                          stopped_by=r.stopped_by, decoding=r.decoding, unanimous_agreement=r.unanimous_agreement,
                          first_two_agreement=r.first_two_agreement, agreed_verdict=r.agreed_verdict, candidates=[_brief(c) for c in r.candidates],
                          note=f"{r.verdict}" + (f" at {r.stopped_by}" if r.stopped_by else "") +
                               f", {len(r.calls)} calls")

    def summarise(self, results: list[CaseResult], ctx: EvalContext) -> dict[str, Any]:
        rows = [r.model_dump() for r in results]
        settings = ctx.resources["gate"]
        calls = sum(r["llm_calls"] for r in rows)
        doc = {**evalset.summarise(rows), "k": settings.k, "repairs": settings.repairs,
               "min_agree": settings.min_agree, "unanimous": settings.unanimous,
               "back_translation": settings.back_translate, "witness": settings.witness,
               "llm_calls": calls, "elapsed_s": round(sum(r["elapsed_s"] for r in rows), 1),
               "baselines": {name: baseline(rows, verdict) for name, verdict in BASELINES.items()}}
        if rows:
            doc["calls_per_case"] = round(calls / len(rows), 2)
        if not settings.unanimous:  # the stricter rules read from the same run (each case records its flags)
            doc["by_rule"] = {"unanimous_k": by_rule(rows, "unanimous_agreement"),
                              "first_two": by_rule(rows, "first_two_agreement")}
        doc["before_model_checks"] = before_model_checks(rows)
        return doc

    def settings(self, gate: Any) -> dict[str, Any]:
        """The journal-key part of the gate's settings."""
        return asdict(gate)


TASK = FormaliseEval()
