"""`gauntlet eval rulings FILE --use-calibration`: the calibration debates use for this model, fitted elsewhere,
applied unchanged to FILE's test items. Nothing is fitted and no calibration item is read, so a fresh held-out file
measures the juror exactly as a debate runs it; the baselines are those that need no fit (a constant label, the
content-free input, the same calibration on shuffled proposals)."""

from __future__ import annotations

from typing import Any, Sequence

from gauntlet.agents.calibration import calibration_for
from gauntlet.agents.probe import PROBE_FEATURE, LinearProbe
from gauntlet.agents.scoring import Calibration
from gauntlet.errors import InputError
from gauntlet.graphs.evals.rulings_set import LABELS, RulingCase
from gauntlet.metrics import error_upper_95


def shipped_calibration(model: str) -> Calibration:
    """The model's own rulings calibration (runs/calibrations/<model>.json); a model without one is refused: the
    shipped default is not fitted on anything, so applying it would measure nothing."""
    cal, note = calibration_for(model, "rulings", LABELS)
    if note:
        raise InputError(f"--use-calibration: {note}", field="--use-calibration",
                         fix="fit one first: gauntlet eval rulings --save-calibration")
    return cal


def with_probe(cal: Calibration, rows: Sequence[dict[str, Any]]) -> None:
    """Write the calibration's probe score into each read (and its shuffled copy) that holds a hidden state."""
    if PROBE_FEATURE not in cal.features:
        return
    if not cal.probe:
        raise InputError(f"calibration {cal.id} weighs a probe it does not carry", field="--use-calibration",
                         fix="refit it: gauntlet eval rulings --save-calibration")
    probe = LinearProbe.from_dict(cal.probe)
    for row in rows:
        for r in (row, row.get("shuffled") or {}):
            if "hidden" in r:
                r[PROBE_FEATURE] = probe.score(r["hidden"])
    if any(PROBE_FEATURE not in r for r in rows):
        raise InputError(f"calibration {cal.id} weighs a probe, and this backend gave no hidden states",
                         field="--use-calibration", fix="run it on the model it was fitted on")


def report_fixed(test_cases: Sequence[RulingCase], reads: dict[str, dict[str, Any]], cal: Calibration,
                 verdicts: Any, summary: Any, by_kind: Any) -> dict[str, Any]:
    """The report's figures for `cal` on the test items (`verdicts`, `summary`, `by_kind`: rulings.py's own
    helpers, passed in so the two reports cannot drift apart)."""
    rows = [reads[c.id] for c in test_cases]
    with_probe(cal, rows)
    truth = [c.sustained for c in test_cases]
    scored = [bool(r.get("scored", True)) for r in rows]
    main = verdicts(cal, rows, truth, scored)
    n = len(test_cases)
    baselines: dict[str, Any] = {}
    for label in LABELS:  # no calibration split here to take a majority from: both constant answers
        right = sum(1 for c in test_cases if c.label == label)
        baselines[f"always_{label}"] = {"label": label, "right": right, "wrong": n - right, "abstained": 0,
                                        "accepted": n, "coverage": 1.0, "auc": 0.5,
                                        "error_upper_95": round(error_upper_95(n - right, n), 4)}
    free = [r.get("content_free_margin", 0.0) for r in rows]
    free_label = "sustained" if sum(free) > 0 else "overruled"
    free_right = sum(1 for c in test_cases if c.label == free_label)
    baselines["content_free"] = {"label": free_label, "right": free_right, "wrong": n - free_right,
                                 "abstained": 0, "accepted": n, "coverage": 1.0, "auc": 0.5,
                                 "error_upper_95": round(error_upper_95(n - free_right, n), 4),
                                 "note": "the label the model prefers with no content (its label bias)"}
    shuffled = [r.get("shuffled") or {} for r in rows]
    if all(shuffled):
        baselines["shuffled_proposal"] = {**summary(verdicts(cal, shuffled, truth, scored)),
                                          "note": "the same calibration with another proposal in place of each "
                                                  "item's own: what survives is bias"}
    per_case = []
    for c, d, r in zip(test_cases, main["decisions"], rows):
        outcome = "abstained" if not d.accepted else ("right" if (d.label == "sustained") == c.sustained else "wrong")
        per_case.append({"id": c.id, "split": c.split, "kind": c.kind, "label": c.label, "outcome": outcome,
                         "decided": d.accepted, "verdict": d.label, "p_sustained": round(d.p, 4),
                         "confidence": round(d.confidence, 4),
                         **{f: round(float(r[f]), 4) for f in cal.features if f in r},
                         "seconds": r.get("seconds", 0.0)})
    seconds = [r.get("seconds", 0.0) for r in rows]
    return {"eval": "rulings", "cases": n, "calibration_applied": cal.id, "fitted": False,
            **{k: main[k] for k in ("right", "wrong", "abstained", "accepted", "coverage", "error_upper_95", "auc",
                                    "aurc", "risk_coverage", "accuracy_all")},
            "threshold": cal.thresholds, "target_error": cal.target_error, "threshold_rule": cal.threshold_rule,
            "calibration": cal.to_dict(),
            "by_kind": by_kind(test_cases, per_case), "baselines": baselines,
            "seconds_per_case": round(sum(seconds) / len(seconds), 2) if seconds else 0.0, "per_case": per_case}
