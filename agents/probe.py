"""A linear probe: a logistic direction in a model's hidden state, fitted on labelled items, read as a feature.

A small model's written or scored answer can miss what its hidden state already separates (agents/hidden_states.py
says where it is read and what it measured). A probe maps the state at a question's prompt to a log-odds: the
state is standardised per dimension, then an L2-penalised logistic regression (agents/scoring.py `fit_logistic`)
gives the direction. Its output is one more calibration feature (`PROBE_FEATURE`): the calibration that weighs it
carries the probe (`Calibration.probe`), tied like the rest to the model it was fitted on.

Fitting a probe and a calibration on the same items would make the calibration trust the probe's own fit, so the
calibration is fitted on *cross-fitted* scores: each item scored by a probe fitted without its group (its
proposal), as an unseen item would be (`cross_fitted_scores`).

A probe can learn a critique's style instead of its fit to the proposal. The rulings probe is therefore also
trained on each calibration item shown with another proposal, labelled unsound (a critique of a proposal it was not
written for is one): a style that marks a real flaw then marks its mismatched copy too, and only the fit between
the two texts can tell them apart. On the calibration split this took the shuffled-proposal AUC from 0.78 to 0.70
while the real items stayed at 0.87, and a real flaw outranked its own mismatched copy in 98% of pairs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from gauntlet.agents.scoring import fit_logistic

PROBE_FEATURE = "probe"
# The penalty on standardised dimensions: with ~130 items and 1,536 dimensions the probe must be strongly
# regularised; on the rulings calibration split (layer 18, leave-one-proposal-out) 10, 100 and 1000 gave AUC 0.89,
# 0.88 and 0.85.
DEFAULT_L2 = 100.0


@dataclass(frozen=True)
class LinearProbe:
    """log-odds = weights[0] + sum_i weights[i+1] * (h_i - mean_i) / scale_i, for the state of `layer` at the
    prompt of `question`."""

    layer: int
    question: str
    mean: list[float]
    scale: list[float]
    weights: list[float]  # bias first
    l2: float = DEFAULT_L2

    def score(self, state: Sequence[float] | np.ndarray) -> float:
        h = np.asarray(state, dtype=float)
        if h.shape != (len(self.mean),):
            raise ValueError(f"a probe of width {len(self.mean)} was given a state of shape {h.shape}")
        z = (h - np.asarray(self.mean)) / np.asarray(self.scale)
        return float(self.weights[0] + z @ np.asarray(self.weights[1:]))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("mean", "scale", "weights"):
            out[key] = [round(float(v), 6) for v in out[key]]
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "LinearProbe":
        mean, scale, weights = ([float(v) for v in raw[k]] for k in ("mean", "scale", "weights"))
        if not mean or len(scale) != len(mean) or len(weights) != len(mean) + 1:
            raise ValueError("a probe needs mean and scale of one width and one weight per dimension plus a bias")
        if not all(math.isfinite(v) for v in (*mean, *weights)) or not all(s > 0 and math.isfinite(s)
                                                                           for s in scale):
            raise ValueError("a probe's numbers must be finite, its scales positive")
        return cls(layer=int(raw["layer"]), question=str(raw["question"]), mean=mean, scale=scale,
                   weights=weights, l2=float(raw.get("l2", DEFAULT_L2)))


def fit_probe(states: Sequence[Sequence[float]], truth: Sequence[bool], *, layer: int, question: str,
              l2: float = DEFAULT_L2) -> LinearProbe:
    """The probe fitted on `states` (one hidden state per item) with `truth` True for the positive label."""
    x = np.asarray(states, dtype=float)
    if x.ndim != 2 or len(x) != len(truth) or len(set(truth)) < 2:
        raise ValueError("a probe needs one state per item and items of both labels")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0  # a constant dimension carries nothing; keep it from dividing by zero
    w = fit_logistic((x - mean) / scale, np.array([1.0 if t else 0.0 for t in truth]), l2=l2)
    return LinearProbe(layer=layer, question=question, mean=mean.tolist(), scale=scale.tolist(),
                       weights=w.tolist(), l2=l2)


def cross_fitted_scores(states: Sequence[Sequence[float]], truth: Sequence[bool], groups: Sequence[str], *,
                        layer: int, question: str, l2: float = DEFAULT_L2,
                        train_only: Sequence[tuple[Sequence[float], bool, str]] = ()) -> list[float]:
    """Each item's probe score from a probe fitted on the other groups' items (0.0 where those hold one label).
    `train_only`: (state, label, group) items that only train, left out with their group like the rest."""
    out = [0.0] * len(truth)
    for g in dict.fromkeys(groups):
        train = [(states[i], truth[i]) for i, h in enumerate(groups) if h != g]
        train += [(s, t) for s, t, h in train_only if h != g]
        if len({t for _, t in train}) < 2:
            continue
        probe = fit_probe([s for s, _ in train], [t for _, t in train], layer=layer, question=question, l2=l2)
        for i, h in enumerate(groups):
            if h == g:
                out[i] = probe.score(states[i])
    return out


async def read_probe(llm: Any, probe: Mapping[str, Any], messages: list[Any]) -> tuple[float, Any]:
    """(the probe's log-odds on `llm`'s hidden state at `messages`, the HiddenState read). `llm` must read hidden
    states (agents/llm.py `reads_hidden_states`); `probe` is a calibration's `probe` dict."""
    fitted = LinearProbe.from_dict(probe)
    got = await llm.hidden_state(messages, fitted.layer)
    return fitted.score(got.values), got
