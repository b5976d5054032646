"""`gauntlet eval clone` end to end on the embedded model (slow: about two minutes on two cores).

The card is the shipped eval card (runs/evals/clone/ines-varga.yaml: stances labelled by hand), so the test spends its model time
on the evaluation itself: re-drafting the clone from the training files (verbatim evidence under llama.cpp's
grammar), then three held-out claims read by score (P(Yes) vs P(No), both orders) from the clone, the no-corpus
baseline and the generic panelist, calibrated on one split and reported on the other. Building a card with `persona new` is covered against the synthetic server in test_clone_cards.py.
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
EVAL_CARD = ROOT / "runs" / "evals" / "clone" / "ines-varga.yaml"  # stances labelled by hand, quotes verbatim


@pytest.mark.slow
def test_eval_clone_on_the_embedded_model(tmp_path: Path):
    shutil.copytree(CORPUS, tmp_path / "corpus")
    card = yaml.safe_load(EVAL_CARD.read_text())
    card["corpus"] = "corpus"
    (tmp_path / "ines.yaml").write_text(yaml.safe_dump(card))
    held = {f.source for f in split(read_corpus(tmp_path / "corpus"), 0).held_out}
    assert sum(s["source"] in held for s in card["stances"]) >= 3, "the seed-0 split must hold out some stances"
    res = CliRunner().invoke(app, ["eval", "clone", str(tmp_path / "ines.yaml"), "--max-claims", "3", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["n"] == 3 and all(item["source"] in held for item in doc["items"])
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
    assert doc["cost"]["score_reads"] == 3 * 2 * 3 and doc["cases"] == len(doc["per_case"]) >= 1
    assert all(0.0 <= c["p_agree"] <= 1.0 and c["split"] == "test" for c in doc["per_case"])
    assert {"majority", "content_free", "same_discipline", "generic"} <= set(doc["baselines"])
