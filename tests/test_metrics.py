"""The statistics every eval report and calibration rests on, against values computed independently."""

import math
import random

import pytest

from gauntlet.metrics import auc, aurc, error_upper_95, risk_coverage, threshold_for_error, wilson


def test_zero_errors_bound_is_the_rule_of_three():
    # 0 wrong of n accepted: the exact bound is 1 - 0.05^(1/n), about 3/n.
    for n in (8, 30, 100):
        assert math.isclose(error_upper_95(0, n), 1 - 0.05 ** (1 / n), rel_tol=1e-9)
    assert 0.31 < error_upper_95(0, 8) < 0.32
    assert error_upper_95(0, 0) is None
    assert error_upper_95(5, 5) == 1.0


def test_bound_matches_the_binomial_tail():
    # At the bound p, seeing <= k errors in n has probability 5% (the Clopper-Pearson definition).
    k, n = 3, 40
    p = error_upper_95(k, n)
    tail = sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k + 1))
    assert math.isclose(tail, 0.05, abs_tol=1e-6)


def test_auc_is_the_pairwise_ordering_probability():
    rng = random.Random(3)
    scores = [rng.choice([0.1, 0.2, 0.5, 0.7, 0.9]) for _ in range(60)]
    labels = [rng.random() < 0.5 for _ in range(60)]
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    brute = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in pos for q in neg) / (len(pos) * len(neg))
    assert math.isclose(auc(scores, labels), brute, rel_tol=1e-12)
    assert auc([1.0, 2.0], [True, True]) is None


def test_risk_coverage_accepts_ties_together_and_picks_the_threshold():
    conf = [0.9, 0.8, 0.8, 0.1]
    right = [True, True, False, False]
    points = risk_coverage(conf, right)
    assert [p["accepted"] for p in points] == [1, 3, 4]
    assert points[1]["risk"] == 1 / 3
    assert threshold_for_error(conf, right, 0.05) == 0.9
    assert threshold_for_error(conf, [False] * 4, 0.05) is None
    assert math.isclose(aurc(conf, right), (0 * 1 + (1 / 3) * 2 + 0.5 * 1) / 4)


def test_wilson_interval_contains_the_proportion():
    lo, hi = wilson(7, 10)
    assert lo < 0.7 < hi
    assert wilson(0, 0) is None


def test_posterior_median_error_matches_closed_forms():
    from gauntlet.metrics import posterior_median_error
    # No error in n: the posterior is Beta(1, n + 1), whose median is 1 - 2^(-1/(n+1)).
    for n in (1, 5, 13, 40):
        assert posterior_median_error(0, n) == pytest.approx(1 - 2 ** (-1 / (n + 1)), abs=1e-9)
    # All wrong: Beta(n + 1, 1), median 2^(-1/(n+1)); half wrong: symmetric, median 1/2.
    assert posterior_median_error(7, 7) == pytest.approx(2 ** (-1 / 8), abs=1e-9)
    assert posterior_median_error(3, 6) == pytest.approx(0.5, abs=1e-9)
    assert posterior_median_error(0, 0) is None
    # Between the observed rate and the Clopper-Pearson bound.
    assert 1 / 20 < posterior_median_error(1, 20) < error_upper_95(1, 20)


def test_the_posterior_rule_refuses_a_top_of_few_verdicts():
    # One wrong at rank 13 of 43: observed 1/43 and the posterior median of 1 in 43 (3.8%) both accept all 43.
    conf = [1 - i / 100 for i in range(43)]
    right = [i != 12 for i in range(43)]
    assert threshold_for_error(conf, right, 0.05, rule="observed") == conf[-1]
    assert threshold_for_error(conf, right, 0.05, rule="posterior") == conf[-1]
    # 0 wrong of 12: observed 0 accepts 12; the posterior median of 0 in 12 is 5.2% > 5%, so none.
    assert threshold_for_error(conf[:12], [True] * 12, 0.05, rule="observed") == conf[11]
    assert threshold_for_error(conf[:12], [True] * 12, 0.05, rule="posterior") is None
    assert threshold_for_error(conf[:13], [True] * 13, 0.05, rule="posterior") == conf[12]  # 4.8%
    with pytest.raises(ValueError):
        threshold_for_error(conf, right, 0.05, rule="laplace")
