"""The scored parts of `gauntlet eval clone`, on fixed data (no model): the stance question's layout, the fixed
calibration/test split of the items, the MiniLM-style similarity feature, and the report (calibrated on one split,
reported on the other, with its baselines) from fixed scores."""

from __future__ import annotations

import random

import numpy as np
import pytest

from gauntlet.agents.corpus import Passage
from gauntlet.agents.fidelity import GENERIC
from gauntlet.agents.persona import Persona, Stance
from gauntlet.agents.prompts import CONTENT_FREE
from gauntlet.agents.stance_questions import (ANSWERS, stance_question, stance_question_content_free,
                                              stance_similarity)
from gauntlet.graphs.evals.clone import item_splits, scored_report
from gauntlet.graphs.evals.report import build_report

CARD = Persona(name="ines", display_name="Ines Varga", discipline="empirical ML safety",
               worldview="We must be able to control models we cannot verify.")
POSITIONS = [Stance(claim="RLHF removes deception.", stance="disagree", quote="RLHF does not remove it.",
                    source="a.md"),
             Stance(claim="Compute reporting is good.", stance="agree", quote="Runs should be reported.",
                    source="b.md")]


def test_the_question_shares_its_persona_prefix_and_differs_by_claim_and_order_only_at_the_end():
    passages = [Passage("a.md", "Control is an engineering problem.", 0.5)]
    one = stance_question(CARD, "Claim one.", ANSWERS, stances=POSITIONS, passages=passages)
    two = stance_question(CARD, "Claim two.", ANSWERS, stances=POSITIONS, passages=passages)
    swapped = stance_question(CARD, "Claim one.", ANSWERS[::-1], stances=POSITIONS, passages=passages)
    assert [m["role"] for m in one] == ["system", "user", "user", "user"]
    assert one[0] == two[0]  # the persona card and its positions: one prefix for every claim
    assert "Ines Varga" in one[0]["content"] and "You disagree that RLHF removes deception" in one[0]["content"]
    assert "Control is an engineering problem." in one[1]["content"] and "Claim one." in one[2]["content"]
    assert swapped[:-1] == one[:-1] and one[-1]["content"] == "Answer Yes or No."
    assert swapped[-1]["content"] == "Answer No or Yes."
    # A persona without a corpus gets the same question with no passages and no positions.
    generic = stance_question(GENERIC, "Claim one.", ANSWERS)
    assert len(generic) == 3 and generic[1] == one[2] and "Positions" not in generic[0]["content"]
    # The clone with nothing retrieved keeps the prompt's shape.
    assert "none bear" in stance_question(CARD, "c", ANSWERS, stances=POSITIONS, passages=[])[1]["content"]


def test_the_content_free_question_is_the_same_prompt_with_na_for_the_content():
    free = stance_question_content_free(CARD, ANSWERS, stances=POSITIONS, with_passages=True)
    real = stance_question(CARD, "Claim one.", ANSWERS, stances=POSITIONS, passages=[Passage("a.md", "x", 1.0)])
    assert free[0] == real[0] and len(free) == len(real)
    assert CONTENT_FREE in free[1]["content"] and f"Claim: {CONTENT_FREE}" in free[2]["content"]
    assert len(stance_question_content_free(GENERIC, ANSWERS)) == 3


def _stances(n_agree: int, n_disagree: int) -> list[Stance]:
    return [Stance(claim=f"Claim number {i} about {side}.", stance=side, quote="q", source="s.md")
            for side, n in (("agree", n_agree), ("disagree", n_disagree)) for i in range(n)]


def test_the_item_split_is_fixed_by_the_items_and_keeps_both_stances_on_both_sides():
    items = _stances(4, 4)
    sides = item_splits(items)
    by_claim = dict(zip((s.claim for s in items), sides))
    shuffled = random.Random(3).sample(items, len(items))
    assert dict(zip((s.claim for s in shuffled), item_splits(shuffled))) == by_claim  # order does not matter
    for stance in ("agree", "disagree"):
        assert sorted(side for s, side in zip(items, sides) if s.stance == stance) == ["calibration"] * 2 + ["test"] * 2
    assert item_splits(_stances(1, 1)).count("test") == 1  # two items: one to fit on, one to test
    assert item_splits([]) == []


def test_similarity_leans_to_the_stance_of_the_nearest_position():
    vectors = {"RLHF removes deception.": [1.0, 0.0], "Compute reporting is good.": [0.0, 1.0],
               "RLHF makes models honest.": [0.9, 0.1], "Report big training runs.": [0.2, 0.8]}

    def embed(texts):
        mat = np.array([vectors[t] for t in texts])
        return mat / np.linalg.norm(mat, axis=1, keepdims=True)

    near_rejected, near_held = stance_similarity(["RLHF makes models honest.", "Report big training runs."],
                                                 POSITIONS, embed)
    assert near_rejected < 0 < near_held
    assert stance_similarity(["x"], [], embed) == [0.0] and stance_similarity([], POSITIONS, embed) == []


def _read(margin: float, *, scored: bool = True, free: float = 0.4) -> dict:
    return {"margin": margin, "scored": scored, "raw_margin": margin + free, "content_free_margin": free,
            "orders_agree": True, "model": "fixed", "model_s": 0.1, "reads": 2}


def _rows(n: int = 24, seed: int = 0) -> list[dict]:
    """Fixed scores: the clone's margin follows the author (with noise), the baselines' do not."""
    rng = random.Random(seed)
    stances = _stances(n // 2, n // 2)
    rows = []
    for i, (s, side) in enumerate(zip(stances, item_splits(stances))):
        sign = 1.0 if s.stance == "agree" else -1.0
        rows.append({"id": f"stance-{i + 1}", "split": side, "claim": s.claim, "stance": s.stance, "quote": "q",
                     "source": "s.md", "passages": [], "seconds": 1.0, "similarity": rng.uniform(-0.1, 0.1),
                     "clone": _read(sign * (1.0 + 3 * rng.random())), "baseline": _read(rng.uniform(-1, 1)),
                     "generic": _read(rng.uniform(-1, 1))})
    return rows


def test_the_report_fits_on_the_calibration_split_and_reports_the_test_split_against_its_baselines():
    rows = _rows()
    doc = scored_report(rows, model="fixed", target_error=0.05)
    test = [r for r in rows if r["split"] == "test"]
    assert doc["cases"] == len(doc["per_case"]) == len(test) == 12 and doc["calibration_split"]["cases"] == 12
    assert [c["id"] for c in doc["per_case"]] == [r["id"] for r in test]
    # The clone's margin separates the stances: AUC 1, and what it accepts at the threshold is right.
    assert doc["auc"] == 1.0 and doc["wrong"] == 0 and doc["accepted"] == doc["right"] >= 6
    assert doc["coverage"] == round(doc["accepted"] / 12, 4) and doc["error_upper_95"] < 0.4
    assert doc["calibration"]["task"] == "stance" and doc["calibration"]["fitted_on"]["cases"] == 12
    assert set(doc["threshold"]) == {"agree", "disagree"}
    assert {"majority", "content_free", "same_discipline", "generic", "similarity"} == set(doc["baselines"])
    b = doc["baselines"]
    assert b["majority"]["label"] == "agree" and b["majority"]["accuracy_all"] == 0.5  # balanced: a tie is agree
    assert b["content_free"]["label"] == "agree"  # the prompt's bias leans Yes in these scores
    assert b["generic"]["auc"] < 1.0 and b["same_discipline"]["auc"] < 1.0
    assert doc["agreement"] == 1.0 and doc["n"] == 24 and doc["order_consistency"] == 1.0
    for c in doc["per_case"]:
        assert c["outcome"] == ("right" if c["decided"] else "abstained")
        assert c["decided"] == (c["threshold"] is not None and c["confidence"] >= c["threshold"])
    # The report has the shape every eval's has (the runner builds it the same way).
    built = build_report("clone", [], doc, model="fixed")
    assert built["cases"] == 12 and built["right"] == doc["right"] and built["risk_coverage"]


def test_unscored_readings_are_never_accepted_and_too_few_items_say_so():
    rows = _rows()
    for r in rows:
        r["clone"]["scored"] = False
    doc = scored_report(rows, model="fixed")
    assert doc["accepted"] == 0 and doc["abstained"] == 12 and doc["coverage"] == 0.0
    few = scored_report(_rows(2)[:1], model="fixed")
    assert few["baselines"] == {} and "too few" in few["note"] and "per_case" not in few


@pytest.mark.parametrize("target", [0.1, 0.3])
def test_a_looser_target_error_never_covers_less(target):
    rows = _rows(40, seed=1)
    for r in rows:  # a noisier clone: some readings point the wrong way
        r["clone"]["margin"] += random.Random(r["id"]).uniform(-3, 3)
    strict = scored_report(rows, model="fixed", target_error=0.05)
    loose = scored_report(rows, model="fixed", target_error=target)
    assert loose["coverage"] >= strict["coverage"] and loose["target_error"] == target
