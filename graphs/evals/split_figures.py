"""A scored verdict fitted on a calibration split and reported on a test split, for any pair of labels.

`fit` fits a calibration (agents/scoring.py) on the calibration split's feature rows, with the threshold for a
target error resting on a few verdicts at least. `decided` applies it to the test split: each item's decision, and
the figures every eval reports (right / wrong / abstained among accepted verdicts, coverage, the 95% upper bound on
their error), with AUC of p over the truth, the risk-coverage curve and AURC over confidence, and the accuracy if
every item were decided. `constant` is the baseline that always answers one label.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from gauntlet.agents.scoring import DEFAULT_TARGET_ERROR, Calibration, fit_calibration
from gauntlet.graphs.evals.report import figures
from gauntlet.graphs.evals.rulings import MIN_ACCEPTED
from gauntlet.metrics import auc, aurc, risk_coverage


def fit(rows: Sequence[Mapping[str, float]], truth: Sequence[bool], features: Sequence[str], *, name: str,
        model: str, task: str, labels: tuple[str, str], target_error: float = DEFAULT_TARGET_ERROR,
        fitted_on: dict[str, Any] | None = None, min_accepted: int = MIN_ACCEPTED) -> Calibration:
    """A calibration over `features` fitted on `rows` (`truth` True for the first label), named
    `name-<date>-<digest>` (`Calibration.versioned`).

    A label's threshold must rest on at least `min_accepted` calibration verdicts of that label, however few the
    items: on a handful, "no error among those accepted" is no evidence of a low error, so the label abstains."""
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return fit_calibration(rows, truth, features, id=f"{name}-{created[:10].replace('-', '')}", model=model,
                           task=task, labels=labels, target_error=target_error,
                           min_accepted=min_accepted, fitted_on=fitted_on,
                           created=created).versioned()


def decided(cal: Calibration, rows: Sequence[Mapping[str, float]], truth: Sequence[bool],
            scored: Sequence[bool] | None = None) -> dict[str, Any]:
    """The calibration's decisions on a split (`decisions`, `outcomes`) and their figures."""
    scored = [True] * len(rows) if scored is None else scored
    decisions = [cal.decide(r, scored=s) for r, s in zip(rows, scored)]
    correct = [(d.label == cal.labels[0]) == t for d, t in zip(decisions, truth)]
    outcomes = ["abstained" if not d.accepted else "right" if ok else "wrong" for d, ok in zip(decisions, correct)]
    confidence = [d.confidence for d in decisions]
    n = len(decisions)
    return {**figures(outcomes), "accepted": sum(d.accepted for d in decisions),
            "auc": _r(auc([d.p for d in decisions], list(truth))), "aurc": _r(aurc(confidence, correct)),
            "risk_coverage": [{k: _r(v) for k, v in pt.items()} for pt in risk_coverage(confidence, correct)],
            "accuracy_all": _r(sum(correct) / n) if n else None, "threshold": cal.thresholds,
            "decisions": decisions, "outcomes": outcomes}


def summary(got: Mapping[str, Any]) -> dict[str, Any]:
    """`decided`'s figures without the per-item lists and the curve (a baseline's entry in a report)."""
    return {k: v for k, v in got.items() if k not in ("decisions", "outcomes", "risk_coverage")}


def constant(label: str, truth: Sequence[str], note: str = "") -> dict[str, Any]:
    """Always `label`: every item decided, right where the truth is that label."""
    got = {**figures(["right" if t == label else "wrong" for t in truth]), "label": label, "accepted": len(truth),
           "auc": 0.5, "accuracy_all": _r(sum(t == label for t in truth) / len(truth)) if truth else None}
    return {**got, "note": note} if note else got


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(float(x), nd)
