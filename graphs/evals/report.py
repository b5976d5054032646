"""The one report every eval gives: right / wrong / abstained, coverage, the risk-coverage curve, a 95% upper bound
on the error of accepted verdicts, baselines from the same run, cost, model and the per-case results.

`EvalReport` is the shape (its JSON schema, `report_schema()`, is what every eval's `--json` is checked against);
`build_report` fills the common figures from the per-case results and merges the eval's own figures beside them.
"""

from __future__ import annotations

from statistics import fmean
from typing import Any, Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field

from gauntlet.metrics import aurc, error_upper_95, risk_coverage

Outcome = Literal["right", "wrong", "abstained"]
OUTCOMES: tuple[Outcome, ...] = ("right", "wrong", "abstained")


class CaseResult(BaseModel):
    """One finished case. Eval-specific fields ride along as extra keys (they are journaled and reported)."""
    model_config = ConfigDict(extra="allow")

    id: str
    outcome: Outcome
    confidence: float | None = Field(default=None, description="how sure the verdict was, for the risk-coverage "
                                                               "curve (None: every decided verdict counts as 1)")
    decided: bool | None = Field(default=None, description="a verdict was issued (default: the outcome is not "
                                                           "abstained); e.g. a correct refusal is right but undecided")
    split: str = "test"
    seconds: float = 0.0

    def is_decided(self) -> bool:
        return self.outcome != "abstained" if self.decided is None else self.decided


class RiskPoint(BaseModel):
    threshold: float
    coverage: float
    risk: float
    accepted: int
    wrong: int


class Figures(BaseModel):
    """Right / wrong / abstained and what follows from them; a baseline carries the same (and may add its own)."""
    model_config = ConfigDict(extra="allow")

    right: int
    wrong: int
    abstained: int
    coverage: float | None = Field(description="decided verdicts / cases (an eval may define its own: see its "
                                               "docs)")
    error_upper_95: float | None = Field(default=None, description="one-sided 95% Clopper-Pearson bound on the "
                                                                   "error of the decided verdicts")


class EvalReport(Figures):
    eval: str
    cases: int
    risk_coverage: list[RiskPoint]
    aurc: float | None
    baselines: dict[str, Figures]
    seconds_per_case: float | None
    model: str
    interrupted: bool = False
    resumed: int = Field(default=0, description="cases read from the journal of an earlier, stopped run")
    per_case: list[CaseResult]


def report_schema() -> dict[str, Any]:
    """The JSON schema every `gauntlet eval NAME --json` report satisfies."""
    return EvalReport.model_json_schema()


def figures(outcomes: Sequence[str], decided: Sequence[bool] | None = None) -> dict[str, Any]:
    """right / wrong / abstained / coverage / error_upper_95 of a list of outcomes (a baseline's, or the eval's)."""
    if decided is None:
        decided = [o != "abstained" for o in outcomes]
    n = len(outcomes)
    accepted = sum(decided)
    wrong = sum(o == "wrong" and d for o, d in zip(outcomes, decided))
    return {"right": sum(o == "right" for o in outcomes), "wrong": sum(o == "wrong" for o in outcomes),
            "abstained": sum(o == "abstained" for o in outcomes),
            "coverage": round(accepted / n, 4) if n else None,
            "error_upper_95": _round(error_upper_95(wrong, accepted))}


def curve(results: Sequence[CaseResult]) -> tuple[list[dict[str, float]], float | None]:
    """The risk-coverage curve over the decided verdicts, most confident first, with coverage over all cases; and
    its area (AURC, over the decided verdicts)."""
    decided = [r for r in results if r.is_decided()]
    conf = [1.0 if r.confidence is None else r.confidence for r in decided]
    right = [r.outcome == "right" for r in decided]
    scale = len(decided) / len(results) if results else 0.0
    points = [{**p, "coverage": round(p["coverage"] * scale, 4), "risk": round(p["risk"], 4)}
              for p in risk_coverage(conf, right)]
    return points, _round(aurc(conf, right))


def build_report(name: str, results: Sequence[CaseResult], own: dict[str, Any], *, model: str,
                 interrupted: bool = False, resumed: int = 0) -> dict[str, Any]:
    """The report: the common figures from `results`, then the eval's own figures (`own`, from its summarise,
    with `baselines`), then the per-case results. An eval's own figure of the same name wins (documented there)."""
    own = dict(own)
    if "per_case" in own:  # the scorer settled the outcomes only once every case was in (e.g. a calibration)
        results = [r if isinstance(r, CaseResult) else CaseResult.model_validate(r) for r in own.pop("per_case")]
    points, area = curve(results)
    seconds = [r.seconds for r in results]
    doc: dict[str, Any] = {
        "eval": name, "cases": len(results),
        **figures([r.outcome for r in results], [r.is_decided() for r in results]),
        "risk_coverage": points, "aurc": area, "baselines": {},
        "seconds_per_case": round(fmean(seconds), 2) if seconds else None,
        "model": model, "interrupted": interrupted, "resumed": resumed}
    doc.update(own)
    doc["per_case"] = [r.model_dump(exclude_none=False) for r in results]
    EvalReport.model_validate(doc)  # a report that breaks the shape is a bug, caught here rather than downstream
    return doc


def _round(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(x, nd)
