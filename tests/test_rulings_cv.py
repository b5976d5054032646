"""Feature choice on the calibration split: leave-one-proposal-out predictions on fixed rows."""

from __future__ import annotations

import numpy as np

from gauntlet.graphs.evals.rulings_cv import candidate_aucs, grouped_predictions


def rows_and_truth():
    rng = np.random.default_rng(7)
    truth = [bool(i % 2) for i in range(60)]
    groups = [f"p{i // 6}" for i in range(60)]
    rows = [{"useful": (1.0 if t else -1.0) + rng.normal(0, 0.8), "noise": rng.normal(0, 1.0)} for t in truth]
    return rows, truth, groups


def test_a_groups_prediction_never_comes_from_a_fit_that_saw_it():
    rows, truth, groups = rows_and_truth()
    p = grouped_predictions(rows, truth, groups, ["useful"])
    # Flip the labels of one group: its own predictions cannot move, another group's can.
    flipped = [(not t) if g == "p0" else t for t, g in zip(truth, groups)]
    q = grouped_predictions(rows, flipped, groups, ["useful"])
    assert [p[i] for i in range(6)] == [q[i] for i in range(6)] and p[6:] != q[6:]


def test_candidate_sets_are_ranked_by_their_cross_validated_auc_and_unread_features_left_out():
    rows, truth, groups = rows_and_truth()
    got = candidate_aucs(rows, truth, groups, {"useful": ["useful"], "noise": ["noise"],
                                                "unread": ["useful", "a_question_never_asked"]})
    assert set(got) == {"useful", "noise"}
    assert got["useful"]["cv_auc"] > 0.75 > got["noise"]["cv_auc"]
