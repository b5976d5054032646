"""Calibrated scored decisions on fixed data: the logistic fit, per-label thresholds for a target error, abstention
below the threshold, label-bias removal and order averaging, calibration files and the shipped default."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace

import numpy as np
import pytest

from gauntlet.agents.calibration import Scorer, calibration_for, load_calibration, recorded_path, save_calibration
from gauntlet.agents.llm import ChoiceScores
from gauntlet.agents.scoring import (Calibration, debiased_margin, decide, fit_calibration, fit_logistic,
                                     label_thresholds)

LABELS = ("sustained", "overruled")


def test_logistic_fit_recovers_known_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 2))
    p = 1 / (1 + np.exp(-(0.5 + 2.0 * x[:, 0] - 1.0 * x[:, 1])))
    y = (rng.random(4000) < p).astype(float)
    w = fit_logistic(x, y, l2=0.01)
    assert w == pytest.approx([0.5, 2.0, -1.0], abs=0.15)


def test_l2_keeps_a_separable_split_finite():
    x = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    w = fit_logistic(x, np.array([0.0, 0.0, 1.0, 1.0]), l2=1.0)
    assert np.all(np.isfinite(w)) and 0 < w[1] < 10


def test_thresholds_meet_the_target_error_per_label():
    # Sustained side: confidences 0.95, 0.9, 0.8, 0.7 with the 0.7 one wrong; overruled side: 0.2 wrong, 0.1 right.
    p = [0.95, 0.9, 0.8, 0.7, 0.2, 0.1]
    truth = [True, True, True, False, True, False]
    t = label_thresholds(p, truth, 0.05, LABELS)
    assert t["sustained"] == 0.8  # accepting 0.95, 0.9, 0.8: 0 wrong; adding 0.7 would make 1 in 4
    assert t["overruled"] == pytest.approx(0.9)  # only the 0.1 verdict (confidence 0.9) is right
    assert label_thresholds([0.6], [False], 0.05, LABELS)["sustained"] is None  # nothing meets it: never accept


def test_a_pooled_rule_gives_both_labels_one_threshold_and_the_posterior_is_stricter():
    # 20 sustained verdicts at 0.99..0.80, all right; 20 overruled at 0.01..0.20 with one wrong at 0.05.
    p = [0.99 - i / 100 for i in range(20)] + [0.01 + i / 100 for i in range(20)]
    truth = [True] * 20 + [i == 4 for i in range(20)]
    per_label = label_thresholds(p, truth, 0.05, LABELS)
    assert per_label["sustained"] == pytest.approx(0.80) and per_label["overruled"] == pytest.approx(0.80)
    pooled = label_thresholds(p, truth, 0.05, LABELS, rule="pooled-observed")
    assert pooled["sustained"] == pooled["overruled"] == pytest.approx(0.80)  # 1 wrong of 40
    strict = label_thresholds(p, truth, 0.05, LABELS, rule="per-label-posterior")
    # Overruled: 0 wrong above 0.95 (4 verdicts, posterior median 13%); 1 of 20 is 8%: never accepted.
    assert strict["sustained"] == pytest.approx(0.80) and strict["overruled"] is None
    assert label_thresholds(p, truth, 0.05, LABELS, rule="pooled-posterior")["overruled"] == pytest.approx(0.80)
    with pytest.raises(ValueError):
        label_thresholds(p, truth, 0.05, LABELS, rule="strict")


def test_the_threshold_rule_is_fitted_with_and_kept_in_the_file():
    rows = [{"margin": m} for m in (3.0, 2.0, 1.5, 1.0, -1.0, -1.5, -2.0, -3.0)] * 3
    truth = [True, True, True, False, False, False, False, True] * 3
    cal = fit_calibration(rows, truth, ["margin"], id="c", model="m", task="rulings", labels=LABELS,
                          threshold_rule="pooled-posterior")
    assert cal.threshold_rule == "pooled-posterior" and cal.thresholds["sustained"] == cal.thresholds["overruled"]
    assert Calibration.from_dict(cal.to_dict()).threshold_rule == "pooled-posterior"
    old = {k: v for k, v in cal.to_dict().items() if k != "threshold_rule"}  # a file from before the field
    assert Calibration.from_dict(old).threshold_rule == "per-label-observed"


def test_below_the_threshold_the_verdict_is_an_abstention_that_shows_p():
    cal = Calibration(id="c1", model="m", task="rulings", labels=LABELS, features=["margin"], weights=[0.0, 1.0],
                      thresholds={"sustained": 0.9, "overruled": 0.8})
    sure = cal.decide({"margin": 3.0})
    assert sure.label == "sustained" and sure.accepted and sure.p == pytest.approx(1 / (1 + math.exp(-3)))
    unsure = cal.decide({"margin": 1.0})
    assert unsure.label == "sustained" and not unsure.accepted and unsure.p == pytest.approx(0.731, abs=1e-3)
    assert unsure.threshold == 0.9 and unsure.calibration == "c1"
    no = cal.decide({"margin": -1.5})
    assert no.label == "overruled" and no.accepted and no.threshold == 0.8
    assert not cal.decide({"margin": 5.0}, scored=False).accepted  # an unscored call is never accepted
    assert not decide(0.99, Calibration(**{**cal.__dict__, "thresholds": {"sustained": None}})).accepted


def test_fit_calibration_on_fixed_data():
    rows = [{"margin": m, "similarity": s} for m, s in
            [(2.5, 0.6), (1.8, 0.5), (1.2, 0.4), (0.3, 0.5), (-0.2, 0.2), (-1.0, 0.1), (-2.2, 0.2), (-0.5, 0.6)]]
    truth = [True, True, True, True, False, False, False, True]
    cal = fit_calibration(rows, truth, ["margin", "similarity"], id="rulings-m-1", model="m", task="rulings",
                          labels=LABELS, target_error=0.05, l2=0.1)
    probs = [cal.probability(r) for r in rows]
    assert probs[0] > probs[3] > probs[6] and cal.weights[1] > 0
    assert cal.thresholds["sustained"] is not None and cal.thresholds["sustained"] >= 0.5
    accepted = [(p, t) for p, t in zip(probs, truth) if p >= 0.5 and p >= cal.thresholds["sustained"]]
    assert accepted and all(t for _, t in accepted)


def test_a_versioned_id_follows_what_the_calibration_decides_with():
    cal = Calibration(id="rulings-m-20261207", model="m", task="rulings", labels=LABELS, features=["probe"],
                      weights=[0.3, 1.1], thresholds={"sustained": 0.9, "overruled": 0.87},
                      probe={"layer": 18, "weights": [0.0, 1.0]})
    first = cal.versioned()
    assert first.id.startswith("rulings-m-20261207-") and len(first.id) == len(cal.id) + 9
    assert cal.versioned().id == first.id  # the same fit, the same id
    assert replace(cal, created="later", metrics={"test_auc": 0.9}).versioned().id == first.id
    for changed in (replace(cal, thresholds={"sustained": 0.91, "overruled": 0.87}),
                    replace(cal, weights=[0.3, 1.2]), replace(cal, probe={"layer": 18, "weights": [0.0, 0.9]})):
        assert changed.versioned().id != first.id


def scores(yes: float, no: float) -> ChoiceScores:
    return ChoiceScores({"Yes": yes, "No": no})


def test_content_free_bias_is_subtracted_and_orders_averaged():
    # The model says Yes more to everything (content-free margin +1 in order 1, +0.5 in order 2).
    asked = [scores(-0.2, -2.2), scores(-0.5, -1.5)]  # margins 2.0 and 1.0
    free = [scores(-0.3, -1.3), scores(-0.6, -1.1)]   # margins 1.0 and 0.5
    assert debiased_margin(asked, free, "Yes", "No") == pytest.approx(((2.0 - 1.0) + (1.0 - 0.5)) / 2)
    assert debiased_margin(asked, [], "Yes", "No") == pytest.approx(1.5)


def test_calibration_files_round_trip_and_a_model_without_one_gets_the_default(tmp_path):
    cal = Calibration(id="rulings-x-20261206", model="embedded:x", task="rulings", labels=LABELS,
                      features=["margin"], weights=[0.1, 0.9], thresholds={"sustained": 0.8, "overruled": None},
                      fitted_on={"file": "a.yaml", "sha256": "ab", "cases": 3}, created="2026-12-06")
    path = save_calibration(cal, tmp_path)
    assert path.name == "embedded_x.json" and load_calibration(path) == cal
    assert calibration_for("embedded:x", "rulings", LABELS, tmp_path) == (cal, "")
    default, note = calibration_for("other", "rulings", LABELS, tmp_path)
    assert default.id.startswith("default-rulings") and "has no rulings calibration" in note



def test_a_calibration_records_its_data_file_relative_to_the_checkout(tmp_path, monkeypatch):
    # A shipped calibration must not name the fitting machine's checkout (it once read /work/main/runs/...).
    (tmp_path / "runs").mkdir()
    data = tmp_path / "runs" / "set.yaml"
    data.write_text("x")
    monkeypatch.chdir(tmp_path)
    assert recorded_path(data.resolve()) == "runs/set.yaml"
    assert recorded_path("runs/set.yaml") == "runs/set.yaml"
    outside = tmp_path.parent / "elsewhere.yaml"
    assert recorded_path(outside) == str(outside)

class FixedLLM:
    """A backend stand-in for the pure Scorer logic: Yes-biased, more so on content-free prompts."""

    name = "fixed"

    def __init__(self):
        self.calls = []

    async def score(self, messages, choices, *, seed=None):
        self.calls.append(messages[-1]["content"])
        text = messages[-1]["content"]
        if text.startswith("N/A"):
            return ChoiceScores({"Yes": -0.4, "No": -1.4}, model="fixed")
        return ChoiceScores({"Yes": -0.1, "No": -2.5}, model="fixed")


def test_scorer_asks_both_orders_and_caches_the_content_free_pass(tmp_path):
    llm = FixedLLM()
    scorer = Scorer("rulings", LABELS, root=tmp_path)

    def build(order):
        return [{"role": "user", "content": f"claim. Answer {order[0]} or {order[1]}."}]

    def free(order):
        return [{"role": "user", "content": f"N/A. Answer {order[0]} or {order[1]}."}]

    async def go():
        a = await scorer.decide(llm, build, free)
        b = await scorer.decide(llm, build, free)
        return a, b
    (d1, rec), (d2, _) = asyncio.run(go())
    assert len(llm.calls) == 2 + 2 + 2  # both orders twice, content-free both orders once
    assert rec["margin"] == pytest.approx(2.4 - 1.0, abs=1e-3)
    assert d1 == d2 and d1.label == "sustained" and "has no rulings calibration" in d1.note
