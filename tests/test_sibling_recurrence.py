"""`show --json` marks sustained critiques that recur in sibling runs (same config, another seed, same
database). The matching is a pure function, tested directly; the wiring on runs against a real HTTP server."""

from __future__ import annotations

import yaml

from gauntlet.graphs.argument.recurrence import recurs_in, same_objection
from gauntlet.graphs.run.loading import parse_config
from gauntlet.graphs.store.siblings import sibling_runs
from gauntlet.graphs.store.views import show

from tests.conftest import ROOT, run_debate

TEXT = "Train a reward model on human ratings, then optimise the policy hard against that reward model."


def crit(id: str, anchor: str, flaw: str = "proxy_goodhart", text: str = TEXT) -> dict:
    return {"id": id, "persona": "p", "flaw_type": flaw, "anchor": anchor, "target_text": text}


def test_same_objection_means_same_words_attacked_and_same_flaw_named():
    a = crit("a", "optimise the policy hard against that reward model")
    assert same_objection(a, crit("b", "the policy hard against"))                  # overlapping anchors
    assert same_objection(a, crit("c", "optimise the policy hard", text=TEXT.upper() + "  "))  # same text, normalised
    assert not same_objection(a, crit("d", "optimise the policy hard", flaw="does_not_scale"))
    assert not same_objection(a, crit("e", "Train a reward model on human ratings"))  # other words of the text
    assert not same_objection(a, crit("f", "optimise the policy hard", text="Another proposal entirely."))


def test_recurs_in_names_the_sibling_runs_that_raised_it_again():
    mine = [crit("a", "optimise the policy hard"), crit("b", "Train a reward model on human ratings",
                                                        flaw="evaluator_fooled")]
    siblings = {"run-2": [crit("x", "the policy hard against that reward")],
                "run-3": [crit("y", "the policy hard", flaw="evaluator_fooled")]}
    assert recurs_in(mine, siblings) == {"a": ["run-2"]}
    assert recurs_in(mine, {}) == {}


def test_show_marks_recurrence_against_sibling_runs_only(store, synthetic_url):
    cfg = yaml.safe_load((ROOT / "runs/configs/eval-panel.yaml").read_text())
    cfg["seed_proposals"] = [{"title": "RLHF", "claim": TEXT}]

    def run(**changes) -> str:
        text = yaml.safe_dump({**cfg, **changes})
        return run_debate(store, parse_config(text, "cfg.yaml", ROOT / "runs" / "configs"), synthetic_url)
    first, second, third = run(seed=1), run(seed=2), run(seed=3)
    other_topic = run(seed=4, topic="Something else entirely?")
    assert sibling_runs(store, first) == [third, second]  # newest first; another topic is no sibling
    assert other_topic not in sibling_runs(store, second)
    doc = show(store, first, analyse=False)
    assert doc["sibling_runs"] == [third, second]
    for idea in doc["ideas"]:
        for why in idea["shot_down_by"]:
            if why["kind"] == "critique":
                assert set(why["recurs_in"]) <= {second, third}
    assert "sibling_runs" not in show(store, first, until=3, analyse=False)  # a past step: no siblings asked
