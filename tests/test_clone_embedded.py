"""`gauntlet eval clone` end to end on the embedded model (slow: about two minutes on two cores).

The card is written here by hand with stances quoted from the shipped corpus, so the test spends its model time
on the evaluation itself: re-drafting the clone from the training files (verbatim evidence under llama.cpp's
grammar), then three held-out claims asked of the clone at two seeds, the no-corpus baseline and the generic
panelist. Building a card with `persona new` is covered against the synthetic server in test_clone_cards.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from gauntlet.agents.corpus_files import read_corpus
from gauntlet.agents.fidelity import split
from gauntlet.ui.cli import app

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "runs" / "corpora" / "ines-varga"
# (claim, stance, file, verbatim quote): one or two per file, so whichever files the seed holds out have some.
STANCES = [
    ("Mechanistic interpretability will give a weight-level account of frontier models in time.", "disagree",
     "interpretability-will-not-arrive-in-time.md", "I no longer believe mechanistic interpretability will give us "
     "a weight-level account of frontier models before those models are dangerous."),
    ("Interpretability tools can verify that a model has no deceptive circuits.", "disagree",
     "interpretability-will-not-arrive-in-time.md", "When a colleague says we will soon be able to verify that a "
     "model has no deceptive circuits, I disagree."),
    ("Safety evaluations must assume the model is adversarial.", "agree", "control-before-alignment.md",
     "I agree with the view that safety evaluations must assume the model is adversarial."),
    ("Scaling up human feedback will fix reward hacking on its own.", "disagree",
     "reward-models-are-exploitable.txt", "I reject the claim that scaling up human feedback will fix this on its "
     "own."),
    ("Training runs above a compute threshold should be reported to a regulator.", "agree", "compute-and-policy.rst",
     "Training runs above a fixed amount of compute should be reported to a regulator along with the evaluations "
     "that were run on the resulting model."),
    ("Releasing frontier model weights is harmless because the information is available anyway.", "disagree",
     "compute-and-policy.rst", "I disagree that releasing the weights of frontier models is harmless because the "
     "information is available anyway."),
    ("Current debate experiments show weak judges reliably pick the honest side.", "disagree",
     "what-would-change-my-mind.md", "So far the gains shrink as the capability gap grows."),
]


@pytest.mark.slow
def test_eval_clone_on_the_embedded_model(tmp_path: Path):
    shutil.copytree(CORPUS, tmp_path / "corpus")
    held = {f.source for f in split(read_corpus(tmp_path / "corpus"), 0).held_out}
    assert sum(s[2] in held for s in STANCES) >= 2, "the seed-0 split must hold out some stances"
    card = {"name": "ines-varga", "display_name": "Ines Varga", "discipline": "empirical ML safety",
            "worldview": "We will deploy models we cannot verify, so control them.", "corpus": "corpus",
            "stances": [{"claim": c, "stance": s, "source": f, "quote": q} for c, s, f, q in STANCES]}
    (tmp_path / "ines.yaml").write_text(yaml.safe_dump(card))
    res = CliRunner().invoke(app, ["eval", "clone", str(tmp_path / "ines.yaml"), "--max-claims", "3", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["n"] == min(3, sum(s[2] in held for s in STANCES))
    assert doc["model"].startswith("embedded:")
    for key in ("agreement", "self_consistency", "baseline_agreement", "generic_agreement"):
        assert 0.0 <= doc[key] <= 1.0
    assert doc["verdict"].startswith("clone beats") == (doc["agreement"] > max(
        doc["baseline_agreement"], doc["generic_agreement"], doc["majority_agreement"]))
    # The clone was re-drafted from the training files only, and its evidence is verbatim there.
    assert doc["clone_card"]["discipline"] and set(doc["split"]["train"]).isdisjoint(held)
    assert doc["clone_unverified_quotes"] == []
    assert {e["source"] for e in doc["clone_card"]["evidence"]} <= set(doc["split"]["train"])
    assert all(item["clone"] in ("agree", "disagree") for item in doc["items"])
