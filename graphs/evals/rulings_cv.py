"""Which features a rulings calibration should weigh, judged on the calibration split alone.

Leave-one-proposal-out cross-validation: each proposal's items are predicted by a calibration fitted (exactly as
`gauntlet eval rulings` fits it) on the other proposals' items, and the pooled predictions give one AUC per
candidate feature set. Grouping by proposal keeps a proposal's own items from vouching for each other, as the fixed
calibration/test split does. The test split is never read here, so a feature set chosen by these figures has not
seen it.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from gauntlet.agents.scoring import fit_calibration
from gauntlet.metrics import auc

LABELS = ("sustained", "overruled")


def grouped_predictions(rows: Sequence[Mapping[str, float]], truth: Sequence[bool], groups: Sequence[str],
                        features: Sequence[str], l2: float = 1.0) -> list[float]:
    """P(sustained) for each row from a calibration fitted without the rows of its group."""
    p = [0.5] * len(rows)
    for g in dict.fromkeys(groups):
        train = [i for i, h in enumerate(groups) if h != g]
        if not train or len({truth[i] for i in train}) < 2:
            continue
        cal = fit_calibration([rows[i] for i in train], [truth[i] for i in train], features, id="cv", model="",
                              task="rulings", labels=LABELS, l2=l2)
        for i, h in enumerate(groups):
            if h == g:
                p[i] = cal.probability(rows[i])
    return p


def candidate_aucs(rows: Sequence[Mapping[str, Any]], truth: Sequence[bool], groups: Sequence[str],
                   candidates: Mapping[str, Sequence[str]], l2: float = 1.0) -> dict[str, dict[str, Any]]:
    """name -> {features, cv_auc} for each candidate set whose features every row holds (the others are left out)."""
    out: dict[str, dict[str, Any]] = {}
    for name, features in candidates.items():
        if not features or not all(f in r for r in rows for f in features):
            continue
        p = grouped_predictions(rows, truth, groups, features, l2)
        out[name] = {"features": list(features), "cv_auc": round(float(auc(p, list(truth))), 4)}
    return out
