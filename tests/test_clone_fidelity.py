"""`gauntlet eval clone`: the split keeps held-out text from the clone, the figures are computed right, a clone
that does not beat its baselines says so, and the command runs end to end (synthetic server here; the embedded
model in test_clone_embedded.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gauntlet.agents.corpus_files import CorpusFile, read_corpus
from gauntlet.agents.fidelity import in_part, report, split, wilson
from gauntlet.agents.persona import Stance
from gauntlet.ui.cli import app

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "runs" / "corpora" / "ines-varga"


def test_file_split_is_seeded_and_disjoint():
    files = read_corpus(CORPUS)
    a, b = split(files, 1), split(files, 1)
    assert a.mode == "file" and [f.source for f in a.held_out] == [f.source for f in b.held_out]
    assert len(a.held_out) == 2 and len(a.train) == 3
    assert not {f.source for f in a.train} & {f.source for f in a.held_out}
    assert len({tuple(f.source for f in split(files, s).held_out) for s in range(6)}) > 1  # the seed matters


def test_small_corpora_split_by_passage_and_stances_follow_their_quotes():
    text = "\n\n".join(f"Paragraph {i} says the author holds position number {i} firmly." for i in range(6))
    files = [CorpusFile("a.md", "0" * 64, text)]
    sp = split(files, 0)
    assert sp.mode == "passage"
    held, train = sp.held_out[0].text, sp.train[0].text
    assert held.count("Paragraph") == 2 and train.count("Paragraph") == 4
    stances = [Stance(claim=f"c{i}", stance="agree", source="a.md",
                      quote=f"Paragraph {i} says the author holds position number {i} firmly.") for i in range(6)]
    assert len(in_part(stances, sp.held_out)) == 2 and len(in_part(stances, sp.train)) == 4
    assert not {s.claim for s in in_part(stances, sp.held_out)} & {s.claim for s in in_part(stances, sp.train)}


def test_report_figures_and_an_honest_verdict():
    truth = ["agree", "disagree", "disagree", "agree", "disagree"]
    clone = ["agree", "disagree", "agree", "agree", "agree"]          # 3/5
    clone2 = ["agree", "disagree", "agree", "disagree", "agree"]      # agrees with clone on 4/5
    baseline = ["agree", "agree", "agree", "agree", "agree"]          # 2/5
    generic = ["disagree", "disagree", "disagree", "disagree", "agree"]  # 2/5
    r = report(truth, clone, clone2, baseline, generic)
    assert (r["n"], r["agreement"], r["baseline_agreement"], r["generic_agreement"]) == (5, 0.6, 0.4, 0.4)
    assert r["majority_stance"] == "disagree" and r["majority_agreement"] == 0.6
    assert r["self_consistency"] == 0.8 and r["normalised_agreement"] == 0.75
    # Beats the no-corpus card, but not "always disagree": the verdict says it does not beat its baselines.
    assert r["beats_baseline"] is True and r["beats_all_baselines"] is False and "does NOT beat" in r["verdict"]
    assert report([], [], [], [], [])["agreement"] is None
    lo, hi = wilson(3, 5)
    assert lo < 0.6 < hi and hi - lo > 0.5  # five claims cannot tell much, and the interval says so


def test_eval_clone_end_to_end_on_the_synthetic_server(tmp_path, monkeypatch, synthetic_url):
    monkeypatch.setenv("GAUNTLET_PERSONAS", str(tmp_path))
    runner = CliRunner()
    made = runner.invoke(app, ["persona", "new", "ines-varga", "--from", str(CORPUS), "--model-url", synthetic_url,
                               "--json"])
    assert made.exit_code == 0, made.output
    res = runner.invoke(app, ["eval", "clone", "ines-varga", "--model-url", synthetic_url, "--max-claims", "4",
                              "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert {"agreement", "baseline_agreement", "n", "self_consistency", "generic_agreement", "verdict"} <= set(doc)
    assert 1 <= doc["n"] <= 4 and len(doc["items"]) == doc["n"]
    held = set(doc["split"]["held_out"])
    assert all(item["source"] in held for item in doc["items"])
    assert doc["cost"]["calls"] >= 4 * doc["n"] + 1
    table = runner.invoke(app, ["eval", "clone", "ines-varga", "--model-url", synthetic_url, "--max-claims", "2"])
    assert table.exit_code == 0 and "self-consistency" in table.stdout and "beat" in table.stdout


def test_the_shipped_eval_card_quotes_its_corpus_verbatim_and_is_balanced():
    from gauntlet.agents.cloning import unverified
    from gauntlet.agents.persona import load_card
    card = load_card(ROOT / "runs" / "evals" / "clone" / "ines-varga.yaml")
    files = read_corpus(Path(card.corpus))
    assert unverified(card, files) == [] and len(card.stances) >= 15
    agree = sum(s.stance == "agree" for s in card.stances)
    assert 0.35 <= agree / len(card.stances) <= 0.65  # "always agree" must not look like fidelity
    held = in_part(card.stances, split(files, 0).held_out)
    assert len(held) >= 6 and {s.stance for s in held} == {"agree", "disagree"}


@pytest.mark.parametrize("field", ["agreement", "baseline_agreement", "n"])
def test_contract_fields_exist_even_with_nothing_held_out(field):
    assert field in report([], [], [], [], [])
