"""The juror's decomposed questions and text features on fixed text, a calibration fitted over them, and a debate
vote that falls back to the shipped default when its calibration weighs a feature the vote cannot compute."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from gauntlet.agents import juror_questions
from gauntlet.agents.calibration import save_calibration, usable
from gauntlet.agents.juror_features import TEXT_FEATURES, anchor_sentences, text_features
from gauntlet.agents.scoring import Calibration, fit_calibration

LABELS = ("sustained", "overruled")
PROPOSAL = ("Reward the agent for approval. The overseer reviews every action before it runs. "
            "Actions are logged for audit.")


def bag_of_words(texts):
    """A deterministic unit-vector encoder: word counts over a hashed vocabulary (stands in for MiniLM's role,
    which is only to give unit vectors whose dot product grows with shared content)."""
    out = []
    for t in texts:
        v = np.zeros(64)
        for w in re.findall(r"[a-z]+", t.lower()):
            v[sum(map(ord, w)) % 64] += 1.0
        out.append(v / (np.linalg.norm(v) or 1.0))
    return out


def test_the_anchor_sentence_is_found_and_the_rest_kept_apart():
    held, rest = anchor_sentences(PROPOSAL, "reviews   every action")
    assert held == ["The overseer reviews every action before it runs."]
    assert rest == ["Reward the agent for approval.", "Actions are logged for audit."]
    # Not verbatim: the sentence holding its first words, failing that the first sentence.
    assert anchor_sentences(PROPOSAL, "Actions are logged for every reviewer")[0] == ["Actions are logged for audit."]
    assert anchor_sentences(PROPOSAL, "nothing like it")[0] == ["Reward the agent for approval."]


def test_text_features_on_fixed_text():
    near, far, replied = text_features([
        (PROPOSAL, "The overseer reviews every action too slowly.", "reviews every action", ""),
        (PROPOSAL, "Actions are logged for audit, which leaks secrets.", "reviews every action", ""),
        (PROPOSAL, "Approval is a proxy.", "Reward the agent for approval", "Approval is a proxy we accept."),
    ], bag_of_words)
    assert set(near) == set(TEXT_FEATURES)
    # A critique about the anchored sentence leans towards it; one about another sentence leans away.
    assert near["anchor_focus"] > 0 > far["anchor_focus"]
    assert near["has_reply"] == 0.0 and near["sim_reply"] == 0.0
    assert replied["has_reply"] == 1.0 and replied["sim_reply"] > 0.5
    assert all(-1.0 <= v <= 1.0 for row in (near, far, replied) for v in row.values())


def test_every_question_shares_the_prefix_and_differs_only_at_the_end():
    asked = {q: juror_questions.messages(q, "P", "C", "A", "", ("Yes", "No")) for q in juror_questions.QUESTIONS}
    prefixes = {json.dumps(m[:3]) for m in asked.values()}
    assert len(prefixes) == 1 and len({m[3]["content"] for m in asked.values()}) == len(asked)
    assert asked["margin"][2]["content"].endswith("Author's reply: (none)")
    free = juror_questions.content_free("q_applies", ("No", "Yes"))
    assert "N/A" in free[1]["content"] and free[-1]["content"] == "Answer No or Yes."
    assert juror_questions.asked(["similarity", "q_applies", "margin"]) == ["margin", "q_applies"]


def test_a_calibration_over_questions_and_text_features_fits_and_thresholds():
    rng = np.random.default_rng(3)
    features = ["margin", "q_applies", "anchor_focus"]
    truth = [bool(i % 2) for i in range(120)]
    rows = [{"margin": (1.5 if t else -1.5) + rng.normal(0, 1.0), "q_applies": rng.normal(0, 1.0),
             "anchor_focus": (0.1 if t else -0.1) + rng.normal(0, 0.05)} for t in truth]
    cal = fit_calibration(rows, truth, features, id="rulings-m-1", model="m", task="rulings", labels=LABELS,
                          min_accepted=5)
    assert cal.features == features and len(cal.weights) == 4
    assert cal.weights[1] > 0 and cal.weights[3] > 0 and abs(cal.weights[2]) < cal.weights[1]
    for label, positive in (("sustained", True), ("overruled", False)):
        t = cal.thresholds[label]
        assert t is not None
        took = [(r, y) for r, y in zip(rows, truth)
                if (cal.probability(r) >= 0.5) == positive and max(cal.probability(r), 1 - cal.probability(r)) >= t]
        assert len(took) >= 5 and sum(y != positive for _, y in took) <= 0.05 * len(took)


def test_a_calibration_weighing_a_feature_the_vote_cannot_compute_gives_way_to_the_default():
    cal = Calibration(id="rulings-m-2", model="m", task="rulings", labels=LABELS,
                      features=["margin", "similarity"], weights=[0.0, 1.0, 2.0],
                      thresholds={"sustained": 0.7, "overruled": 0.7})
    assert usable(cal, "", [*juror_questions.QUESTIONS, *TEXT_FEATURES]) == (cal, "")
    fallback, note = usable(cal, "", list(juror_questions.QUESTIONS))  # MiniLM missing
    assert fallback.id.startswith("default-rulings") and fallback.features == ["margin"]
    assert "rulings-m-2 weighs similarity" in note and "shipped default" in note


def _scripted_rule(demo, tmp_path, monkeypatch, cal: Calibration):
    from tests.test_rulings import debate, rule_scripted

    monkeypatch.setenv("GAUNTLET_CALIBRATIONS", str(tmp_path))
    save_calibration(cal, tmp_path)
    nodes, edges = debate(None)
    plan = {"when": [['"N/A"', {"Yes": -0.693, "No": -0.693}], ['"words"', {"Yes": -0.01, "No": -6.0}]]}
    return rule_scripted(demo, nodes, edges, [], logprobs=plan)


def test_a_vote_uses_its_models_calibration_and_asks_the_questions_it_weighs(demo, tmp_path, monkeypatch):
    cal = Calibration(id="rulings-synthetic-1", model="synthetic", task="rulings", labels=LABELS,
                      features=["margin", "q_applies"], weights=[0.0, 0.5, 0.5],
                      thresholds={"sustained": 0.8, "overruled": 0.8})
    update = _scripted_rule(demo, tmp_path, monkeypatch, cal)
    (ruling,) = update["nodes"]
    vote = ruling["data"]["votes"][0]
    assert vote["calibration"] == "rulings-synthetic-1" and "note" not in vote
    assert set(vote["features"]) == {"margin", "q_applies"} and vote["p_sustained"] > 0.99
    call = update["calls"][0]
    assert call["questions"] == ["margin", "q_applies"] and len(call["passes"]) == 8


def test_a_vote_whose_calibration_needs_an_unknown_feature_falls_back_and_says_so(demo, tmp_path, monkeypatch):
    cal = Calibration(id="rulings-synthetic-2", model="synthetic", task="rulings", labels=LABELS,
                      features=["margin", "a_feature_from_elsewhere"], weights=[0.0, 1.0, 1.0],
                      thresholds={"sustained": 0.6, "overruled": 0.6})
    update = _scripted_rule(demo, tmp_path, monkeypatch, cal)
    vote = update["nodes"][0]["data"]["votes"][0]
    assert vote["calibration"].startswith("default-rulings") and vote["threshold"] == 0.9
    assert "rulings-synthetic-2 weighs a_feature_from_elsewhere" in vote["note"]
    assert update["calls"][0]["questions"] == ["margin"]
