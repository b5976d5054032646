"""Scored decisions: from answer-token probabilities to a calibrated probability, accepted only above a threshold.

A small model is read, not asked to write: `score` gives log P of each answer. Three steps turn that into a verdict
(pure functions, fitted and tested on fixed data):
1. **Label bias removed, order averaged.** The same question is asked with the options listed in both orders, and
   each order's margin log P(pos) - log P(neg) has the margin on a content-free input ("N/A" in place of the
   content) subtracted (contextual calibration, Zhao et al. 2021). `debiased_margin` averages the two.
2. **Combined and calibrated.** A logistic model over named features (the debiased margin, embedding similarities)
   fitted on a calibration split by Newton's method (IRLS) with an L2 penalty: `fit_logistic`.
3. **Thresholded for a target error.** On the same split, per label (or one for both), the lowest confidence whose
   accepted verdicts stay within the target error, observed or as the posterior median of the error
   (`THRESHOLD_RULES`, gauntlet.metrics.threshold_for_error). Below it the verdict is an abstention that still
   shows p.

A `Calibration` is a versioned JSON file tied to a model name (agents/calibration_files.py finds and writes them).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Mapping, Sequence

import numpy as np

from gauntlet.agents.llm import ChoiceScores
from gauntlet.metrics import threshold_for_error

DEFAULT_TARGET_ERROR = 0.05
# How a calibration's acceptance thresholds are chosen on its split: per label or one for both labels ("pooled"),
# against the observed error or the posterior median of the error (gauntlet.metrics.threshold_for_error).
THRESHOLD_RULES = ("per-label-observed", "per-label-posterior", "pooled-observed", "pooled-posterior")
DEFAULT_THRESHOLD_RULE = "per-label-observed"


@dataclass(frozen=True)
class Decision:
    """A scored verdict: `p` = calibrated P(positive label); `label` the likelier label; `accepted` when its
    confidence (p, or 1 - p for the negative label) reaches that label's `threshold` and the call was scored."""

    p: float
    threshold: float | None
    accepted: bool
    calibration: str
    scored: bool
    label: str
    note: str = ""

    @property
    def confidence(self) -> float:
        return max(self.p, 1.0 - self.p)


@dataclass
class Calibration:
    """Weights of a logistic model over `features` (bias first), and per-label acceptance thresholds."""

    id: str
    model: str
    task: str
    labels: tuple[str, str]  # (positive, negative), e.g. ("sustained", "overruled")
    features: list[str]
    weights: list[float]
    thresholds: dict[str, float | None]
    target_error: float = DEFAULT_TARGET_ERROR
    fitted_on: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)  # what the fit measured on its own split
    # The linear probe behind the `probe` feature (agents/probe.py `LinearProbe.to_dict`), when it weighs one.
    probe: dict[str, Any] | None = None
    threshold_rule: str = DEFAULT_THRESHOLD_RULE  # how `thresholds` were chosen (THRESHOLD_RULES)

    def probability(self, values: Mapping[str, float]) -> float:
        z = self.weights[0] + sum(w * float(values.get(f, 0.0)) for f, w in zip(self.features, self.weights[1:]))
        return _sigmoid(z)

    def decide(self, values: Mapping[str, float], *, scored: bool = True, note: str = "") -> Decision:
        return decide(self.probability(values), self, scored=scored, note=note)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["labels"] = list(self.labels)
        return out

    def versioned(self) -> "Calibration":
        """This calibration with 8 hex digits of what it decides with (model, features, weights, thresholds,
        probe) appended to its id: two fits on one day differ in every vote that records the id."""
        body = {k: v for k, v in self.to_dict().items() if k not in ("id", "created", "metrics", "fitted_on")}
        digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:8]
        return replace(self, id=f"{self.id}-{digest}")

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "Calibration":
        labels = tuple(raw["labels"])
        features = [str(f) for f in raw["features"]]
        weights = [float(w) for w in raw["weights"]]
        if len(labels) != 2 or len(weights) != len(features) + 1:
            raise ValueError("a calibration needs two labels and one weight per feature plus a bias")
        thresholds = {str(k): (None if v is None else float(v)) for k, v in dict(raw["thresholds"]).items()}
        return cls(id=str(raw["id"]), model=str(raw["model"]), task=str(raw.get("task", "rulings")),
                   labels=(str(labels[0]), str(labels[1])), features=features, weights=weights,
                   thresholds=thresholds, target_error=float(raw.get("target_error", DEFAULT_TARGET_ERROR)),
                   fitted_on=dict(raw.get("fitted_on") or {}), created=str(raw.get("created", "")),
                   metrics=dict(raw.get("metrics") or {}),
                   probe=dict(raw["probe"]) if isinstance(raw.get("probe"), Mapping) else None,
                   threshold_rule=str(raw.get("threshold_rule", DEFAULT_THRESHOLD_RULE)))


def decide(p: float, cal: Calibration, *, scored: bool = True, note: str = "") -> Decision:
    """The verdict p supports under `cal`: the likelier label, accepted only at or above its threshold."""
    positive, negative = cal.labels
    label = positive if p >= 0.5 else negative
    confidence = p if label == positive else 1.0 - p
    threshold = cal.thresholds.get(label)
    accepted = scored and threshold is not None and confidence >= threshold
    return Decision(p=p, threshold=threshold, accepted=accepted, calibration=cal.id, scored=scored, label=label,
                    note=note)


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def order_margin(scores: ChoiceScores, positive: str, negative: str) -> float:
    """log P(positive) - log P(negative) over the choices, clipped so a choice outside the top tokens stays finite."""
    norm = scores.normalised()
    floor = math.log(1e-6)
    return max(norm[positive], floor) - max(norm[negative], floor)


def debiased_margin(orders: Sequence[ChoiceScores], content_free: Sequence[ChoiceScores], positive: str,
                    negative: str) -> float:
    """The margin averaged over the option orders, each with its order's content-free margin subtracted.

    `orders[i]` and `content_free[i]` are the same prompt with the same option order, the latter with "N/A" for
    the content; a missing content-free score subtracts nothing."""
    total = 0.0
    for i, s in enumerate(orders):
        bias = order_margin(content_free[i], positive, negative) if i < len(content_free) else 0.0
        total += order_margin(s, positive, negative) - bias
    return total / max(1, len(orders))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 50) -> np.ndarray:
    """Weights (bias first) of an L2-penalised logistic regression, by Newton's method / IRLS.

    `x`: (n, d) features; `y`: (n,) 0/1 labels. The bias is not penalised. Converges in a handful of steps on
    the few features used here; the penalty keeps a separable split from driving weights to infinity."""
    n, d = x.shape
    xb = np.hstack([np.ones((n, 1)), x.astype(float)])
    w = np.zeros(d + 1)
    pen = np.full(d + 1, float(l2))
    pen[0] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -35, 35)))
        grad = xb.T @ (y - p) - pen * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(pen) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        w = w + step
        if float(np.max(np.abs(step))) < 1e-8:
            break
    return w


def label_thresholds(p: Sequence[float], truth: Sequence[bool], target_error: float,
                     labels: tuple[str, str], min_accepted: int = 1,
                     rule: str = DEFAULT_THRESHOLD_RULE) -> dict[str, float | None]:
    """Per label, the lowest confidence at which the verdicts on this split meet `target_error` under `rule`
    (None: no threshold does, so the label is never accepted). `truth[i]` is True for the positive label.
    A pooled rule ranks both labels' verdicts by confidence together and gives both labels its one threshold."""
    if rule not in THRESHOLD_RULES:
        raise ValueError(f"unknown threshold rule {rule!r}; one of {', '.join(THRESHOLD_RULES)}")
    scope, statistic = rule.rsplit("-", 1)
    if scope == "pooled":
        conf = [max(pi, 1.0 - pi) for pi in p]
        right = [(pi >= 0.5) == t for pi, t in zip(p, truth)]
        t = threshold_for_error(conf, right, target_error, min_accepted, statistic) if conf else None
        return {labels[0]: t, labels[1]: t}
    out: dict[str, float | None] = {}
    for positive_side, label in ((True, labels[0]), (False, labels[1])):
        conf = [pi if positive_side else 1.0 - pi for pi in p if (pi >= 0.5) == positive_side]
        right = [t == positive_side for pi, t in zip(p, truth) if (pi >= 0.5) == positive_side]
        out[label] = threshold_for_error(conf, right, target_error, min_accepted, statistic) if conf else None
    return out


def fit_calibration(rows: Sequence[Mapping[str, float]], truth: Sequence[bool], features: Sequence[str], *,
                    id: str, model: str, task: str, labels: tuple[str, str],
                    target_error: float = DEFAULT_TARGET_ERROR, l2: float = 1.0, min_accepted: int = 1,
                    fitted_on: dict[str, Any] | None = None, created: str = "",
                    threshold_rule: str = DEFAULT_THRESHOLD_RULE) -> Calibration:
    """Fit weights and per-label thresholds on a calibration split (`rows` of feature values, `truth` True for
    the positive label). The L2 penalty applies to standardised features."""
    x = np.array([[float(r.get(f, 0.0)) for f in features] for r in rows], dtype=float).reshape(len(rows),
                                                                                             len(features))
    y = np.array([1.0 if t else 0.0 for t in truth])
    # Fitted on z-scores so the penalty weighs every feature alike (a cosine spans 0.1 where a margin spans 3),
    # then mapped back: the file's weights apply to the raw feature values.
    mean = x.mean(axis=0) if len(rows) else np.zeros(len(features))
    scale = x.std(axis=0) if len(rows) else np.ones(len(features))
    scale = np.where(scale > 1e-9, scale, 1.0)
    wz = fit_logistic((x - mean) / scale, y, l2=l2)
    w = np.concatenate([[wz[0] - float(np.sum(wz[1:] * mean / scale))], wz[1:] / scale])
    cal = Calibration(id=id, model=model, task=task, labels=labels, features=list(features),
                      weights=[round(float(v), 6) for v in w], thresholds={}, target_error=target_error,
                      fitted_on=dict(fitted_on or {}), created=created, threshold_rule=threshold_rule)
    probs = [cal.probability(r) for r in rows]
    cal.thresholds = label_thresholds(probs, truth, target_error, labels, min_accepted, threshold_rule)
    return cal


def default_calibration(task: str, labels: tuple[str, str], features: Sequence[str] = ("margin",)) -> Calibration:
    """What a model without its own calibration gets: p = sigmoid(debiased margin), accepted at 0.9 either way.

    Not fitted for any model, so conservative; every decision made with it says so in its note."""
    return Calibration(id=f"default-{task}-v1", model="*", task=task, labels=labels, features=list(features),
                       weights=[0.0] + [1.0 if f == "margin" else 0.0 for f in features],
                       thresholds={labels[0]: 0.9, labels[1]: 0.9}, target_error=DEFAULT_TARGET_ERROR,
                       fitted_on={"file": "", "note": "not fitted: the shipped default for models without one"})
