"""Statistics every verdict-producing part is measured with: error bounds, AUC, risk-coverage.

Pure functions on plain lists, shared by the calibration of scored verdicts and by every eval report.
"""

from __future__ import annotations

import math
from typing import Sequence


def error_upper_95(wrong: int, accepted: int) -> float | None:
    """One-sided 95% Clopper-Pearson upper bound on the error rate of accepted verdicts.

    Exact rather than Wilson because the counts are small and often zero: 0 wrong of n accepted gives about 3/n
    (the "rule of three"), so "0 wrong on 8" still allows 31%. None when nothing was accepted.
    """
    if accepted <= 0:
        return None
    if wrong >= accepted:
        return 1.0
    # The p at which seeing <= `wrong` errors has probability 5%: bisect the binomial CDF (decreasing in p).
    lo, hi = wrong / accepted, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if _binom_cdf(wrong, accepted, mid) > 0.05:
            lo = mid
        else:
            hi = mid
    return hi


def _binom_cdf(k: int, n: int, p: float) -> float:
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0 if k < n else 1.0
    lp, lq = math.log(p), math.log1p(-p)
    return sum(math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq)
               for i in range(k + 1))


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """Two-sided Wilson score interval for a proportion (None for n = 0)."""
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve: P(score of a random positive > score of a random negative), ties count half.

    Rank-based (Mann-Whitney U), O(n log n). None when either class is empty.
    """
    pairs = sorted(zip(scores, labels), key=lambda p: p[0])
    n_pos = sum(1 for _, y in pairs if y)
    n_neg = len(pairs) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    rank_sum = 0.0
    i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        mid_rank = (i + 1 + j) / 2  # average 1-based rank of the tied block
        rank_sum += mid_rank * sum(1 for _, y in pairs[i:j] if y)
        i = j
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def risk_coverage(confidence: Sequence[float], correct: Sequence[bool]) -> list[dict[str, float]]:
    """The risk-coverage curve: accept the k most confident verdicts, for every k.

    Each point is `{threshold, coverage, risk, accepted, wrong}`; ties in confidence are accepted together (a
    threshold cannot split them). Coverage is over all given items, risk over the accepted ones.
    """
    n = len(confidence)
    order = sorted(range(n), key=lambda i: -confidence[i])
    points: list[dict[str, float]] = []
    wrong = 0
    k = 0
    while k < n:
        level = confidence[order[k]]
        while k < n and confidence[order[k]] == level:
            wrong += 0 if correct[order[k]] else 1
            k += 1
        points.append({"threshold": float(level), "coverage": k / n, "risk": wrong / k,
                       "accepted": k, "wrong": wrong})
    return points


def aurc(confidence: Sequence[float], correct: Sequence[bool]) -> float | None:
    """Area under the risk-coverage curve (lower is better), averaged over every acceptance count k = 1..n.

    With ties, every k inside a tied block takes the block's risk (the order within a tie is not observable).
    """
    n = len(confidence)
    if n == 0:
        return None
    total = 0.0
    prev_k = 0
    for point in risk_coverage(confidence, correct):
        k = int(point["accepted"])
        total += point["risk"] * (k - prev_k)
        prev_k = k
    return total / n


def posterior_median_error(wrong: int, accepted: int) -> float | None:
    """The median of the error rate's posterior after `wrong` errors in `accepted` verdicts, from a uniform prior:
    Beta(wrong + 1, right + 1). Between the observed rate and the Clopper-Pearson bound: a few errors among few
    verdicts count for more than the raw rate says. None when nothing was accepted."""
    if accepted <= 0:
        return None
    # With integer parameters the Beta(a, b) CDF at x is P(Binomial(a + b - 1, x) >= a); bisect it to 1/2.
    a, n = wrong + 1, accepted + 1
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if 1.0 - _binom_cdf(a - 1, n, mid) < 0.5:
            lo = mid
        else:
            hi = mid
    return hi


THRESHOLD_RULES = ("observed", "posterior")


def threshold_for_error(confidence: Sequence[float], correct: Sequence[bool], target_error: float,
                        min_accepted: int = 1, rule: str = "observed") -> float | None:
    """The lowest confidence threshold whose accepted verdicts meet `target_error` on this (calibration) data.

    Chooses the largest coverage whose error meets the target (the "Trust or Escalate" selection on a calibration
    split): `rule` "observed" compares the observed rate, "posterior" the posterior median of the rate
    (`posterior_median_error`), which refuses a top made of few verdicts. None when no threshold does, so the
    caller abstains on everything.
    """
    if rule not in THRESHOLD_RULES:
        raise ValueError(f"unknown threshold rule {rule!r}; one of {', '.join(THRESHOLD_RULES)}")
    best: float | None = None
    for point in risk_coverage(confidence, correct):
        k, wrong = int(point["accepted"]), int(point["wrong"])
        error = point["risk"] if rule == "observed" else posterior_median_error(wrong, k)
        if k >= min_accepted and error is not None and error <= target_error:
            best = point["threshold"]
    return best
