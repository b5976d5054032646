"""Graded strength beside the verdict: DF-QuAD (Rago et al. 2016) on the weighted bipolar argument graph, the
gradual semantics Argumentative LLMs (Freedman et al. 2025) use to score claims from attacks and supports.

strength(a) = C(τ(a), F(attackers), F(supporters)), where F(v₁…vₙ) = 1 − Π(1 − wᵢvᵢ) aggregates the weighted
strengths of a's attackers (or supporters) and C moves the base score τ(a) down by the attack, up by the support:
    C(τ, va, vs) = τ − τ·(va − vs) if va ≥ vs, else τ + (1 − τ)·(vs − va).
Base scores: the judge's latest 1–10 score for an idea ((s − 0.5)/10), a formal result's verdict (proved or
refuted by a prover: 1), 0.5 otherwise. Pins hold here as in the Dung semantics: a pinned-in node keeps
strength 1, a pinned-out one 0, whatever attacks it. Attack weights: the critique's severity (fatal 1, major 0.8,
minor 0.4, nit 0.2) times its ruling's agreement (sustained 1, contested 0.5, overruled 0.1) where present, 1
otherwise. On acyclic graphs the iteration below is exact after (longest path + 1) rounds; on cycles DF-QuAD may
oscillate, so after a number of plain rounds the update is damped and the result reported as is.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

SEVERITY_WEIGHT = {"fatal": 1.0, "critical": 1.0, "major": 0.8, "moderate": 0.6, "minor": 0.4, "nit": 0.2}
RULING_WEIGHT = {"sustained": 1.0, "contested": 0.5, "overruled": 0.1}
_PLAIN_ROUNDS = 200
_DAMPED_ROUNDS = 200


def attack_weight(data: Mapping[str, Any]) -> float:
    """Weight of a critique's attack from its data (severity, ruling); 1.0 where neither is recorded."""
    w = SEVERITY_WEIGHT.get(str(data.get("severity", "")).lower(), 1.0)
    ruling = data.get("ruling")
    if isinstance(ruling, Mapping):
        ruling = ruling.get("outcome") or ruling.get("ruling")
    return w * RULING_WEIGHT.get(str(ruling or "").lower(), 1.0)


def df_quad(n: int, base: np.ndarray, attacks: tuple[np.ndarray, np.ndarray, np.ndarray],
            supports: tuple[np.ndarray, np.ndarray, np.ndarray], pinned: Mapping[int, float] | None = None
            ) -> np.ndarray:
    """DF-QuAD strengths of nodes 0..n-1; attacks and supports are (src, dst, weight) arrays."""
    pin_idx = np.asarray(list((pinned or {}).keys()), dtype=np.int64)
    pin_val = np.asarray(list((pinned or {}).values()), dtype=np.float64)
    v = np.asarray(base, dtype=np.float64).copy()
    v[pin_idx] = pin_val

    def aggregate(edges: tuple[np.ndarray, np.ndarray, np.ndarray], v: np.ndarray) -> np.ndarray:
        src, dst, w = edges
        keep = np.ones(n, dtype=np.float64)
        np.multiply.at(keep, dst, 1.0 - w * v[src])
        return 1.0 - keep

    for k in range(_PLAIN_ROUNDS + _DAMPED_ROUNDS):
        va, vs = aggregate(attacks, v), aggregate(supports, v)
        new = np.where(va >= vs, base - base * (va - vs), base + (1 - base) * (vs - va))
        new[pin_idx] = pin_val
        if k >= _PLAIN_ROUNDS:
            new = 0.5 * (v + new)  # damping for cycles that oscillate
        if np.abs(new - v).max(initial=0.0) < 1e-9:
            return new
        v = new
    return v


def strengths(graph: Any) -> dict[str, float]:
    """Strength in [0, 1] of every node of an ArgumentGraph."""
    ids = list(graph.nodes)
    pos = {x: i for i, x in enumerate(ids)}
    scores = graph.scores()
    base = np.full(len(ids), 0.5)
    for x, s in scores.items():
        base[pos[x]] = min(max((s - 0.5) / 10.0, 0.0), 1.0)
    pins = graph.fixed()
    for x, node in graph.nodes.items():
        if node.kind == "formal_result" and x in pins:
            base[pos[x]] = 1.0
    # The attacks are the graph's own (whatever rule decides which critique edges count), weighted by the critique.
    edges = {"attacks": [(pos[a], pos[b], attack_weight(graph.nodes[a].data)) for a, b in graph.attacks],
             "supports": [(pos[e.src], pos[e.dst], 1.0) for e in graph.edges if e.kind == "supports"]}
    pinned = {pos[x]: 1.0 if label == "in" else 0.0 for x, label in pins.items()}
    got = df_quad(len(ids), base, _arrays(edges["attacks"]), _arrays(edges["supports"]), pinned)
    return {x: round(float(got[i]), 4) for i, x in enumerate(ids)}


def _arrays(rows: Iterable[tuple[int, int, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = list(rows)
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    src, dst, w = zip(*rows)
    return np.asarray(src, np.int64), np.asarray(dst, np.int64), np.asarray(w, np.float64)
