"""`gauntlet eval clone`: the split keeps held-out text from the clone, the figures are computed right, a clone
that does not beat its baselines says so, and the command runs end to end on a real HTTP server (the synthetic
double's logprobs here; the embedded model in test_clone_embedded.py; the scored parts on fixed scores in
test_clone_scored.py)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from gauntlet.agents.corpus_files import CorpusFile, read_corpus
from gauntlet.agents.fidelity import in_part, report, split, wilson
from gauntlet.agents.persona import Stance
from gauntlet.graphs.evals.report import report_schema
from gauntlet.ui.cli import app

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "runs" / "corpora" / "ines-varga"
EVAL_CARD = ROOT / "runs" / "evals" / "clone" / "ines-varga.yaml"


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
    baseline = ["agree", "agree", "agree", "agree", "agree"]          # 2/5
    generic = ["disagree", "disagree", "disagree", "disagree", "agree"]  # 2/5
    r = report(truth, clone, baseline, generic, orders_agree=[True, True, False, True, True])
    assert (r["n"], r["agreement"], r["baseline_agreement"], r["generic_agreement"]) == (5, 0.6, 0.4, 0.4)
    assert r["majority_stance"] == "disagree" and r["majority_agreement"] == 0.6
    assert r["order_consistency"] == 0.8
    # Beats the no-corpus card, but not "always disagree": the verdict says it does not beat its baselines.
    assert r["beats_baseline"] is True and r["beats_all_baselines"] is False and "does NOT beat" in r["verdict"]
    # The majority stance given (from the calibration split) is used, not the one the truth would suggest.
    assert report(truth, clone, baseline, generic, majority="agree")["majority_agreement"] == 0.4
    assert report([], [], [], [])["agreement"] is None
    lo, hi = wilson(3, 5)
    assert lo < 0.6 < hi and hi - lo > 0.5  # five claims cannot tell much, and the interval says so


def _eval(runner, url: str, *extra: str):
    return runner.invoke(app, ["eval", "clone", "ines-varga", "--model-url", url, *extra])


def test_eval_clone_end_to_end_on_the_synthetic_server(tmp_path, monkeypatch, synthetic_url):
    monkeypatch.setenv("GAUNTLET_PERSONAS", str(tmp_path))
    monkeypatch.setenv("GAUNTLET_CACHE", str(tmp_path / "cache"))
    runner = CliRunner()
    made = runner.invoke(app, ["persona", "new", "ines-varga", "--from", str(CORPUS), "--model-url", synthetic_url,
                               "--json"])
    assert made.exit_code == 0, made.output
    res = _eval(runner, synthetic_url, "--max-claims", "4", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    jsonschema.validate(doc, report_schema())
    assert {"agreement", "baseline_agreement", "n", "order_consistency", "generic_agreement", "verdict", "auc",
            "aurc", "accepted", "threshold", "calibration", "error_upper_95", "coverage"} <= set(doc)
    assert {"majority", "content_free", "same_discipline", "generic", "similarity"} <= set(doc["baselines"])
    assert 2 <= doc["n"] <= 4 and len(doc["items"]) == doc["n"]
    held = set(doc["split"]["held_out"])
    assert all(item["source"] in held for item in doc["items"])
    # Calibrated on one split, reported on the other: per_case is the test split only.
    assert doc["cases"] == len(doc["per_case"]) == sum(i["split"] == "test" for i in doc["items"]) >= 1
    assert doc["calibration_split"]["cases"] == doc["n"] - doc["cases"]
    assert all(r["split"] == "test" and 0 <= r["p_agree"] <= 1 for r in doc["per_case"])
    assert doc["cost"]["score_reads"] == 3 * 2 * doc["n"]  # three panelists, two answer orders each
    table = _eval(runner, synthetic_url, "--max-claims", "2")
    assert table.exit_code == 0 and "beat" in table.stdout


def _claims_read_as(truth: dict[str, str], mode: str = "hash") -> dict:
    """A server plan: every prompt naming a claim leans hard to its author's stance (a model that knows her)."""
    yes = {"Yes": -0.01, "No": -6.0}
    no = {"Yes": -6.0, "No": -0.01}
    return {"mode": mode, "when": [[f"Claim: {c}", yes if s == "agree" else no] for c, s in truth.items()]}


def test_a_model_that_knows_the_author_is_read_right_and_one_without_logprobs_never_decides(tmp_path, monkeypatch):
    from gauntlet.agents.persona import load_card
    from gauntlet.testing.synthetic_server import running_server

    monkeypatch.setenv("GAUNTLET_CACHE", str(tmp_path / "cache"))
    card = load_card(EVAL_CARD)
    truth = {s.claim: s.stance for s in card.stances}
    with running_server(logprobs=_claims_read_as(truth)) as url:
        res = CliRunner().invoke(app, ["eval", "clone", str(EVAL_CARD), "--model-url", url, "--max-claims", "8",
                                       "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["n"] == 8 and doc["agreement"] == 1.0 and doc["auc"] == 1.0 and doc["order_consistency"] == 1.0
    assert doc["auc_all_items"]["clone"] == 1.0
    # Perfect readings, but 4 calibration items (2 per stance) cannot show a 5% error: every verdict abstains.
    assert doc["calibration_split"]["cases"] == 4 and doc["accepted"] == 0 and doc["abstained"] == doc["cases"] == 4
    assert doc["baselines"]["majority"]["accuracy_all"] == 0.5  # 2 agree / 2 disagree on the test split
    with running_server(logprobs=_claims_read_as(truth, "none")) as url:
        res = CliRunner().invoke(app, ["eval", "clone", str(EVAL_CARD), "--model-url", url, "--max-claims", "8",
                                       "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    # No probabilities: each read is one constrained pick, marked unscored, and never accepted on a threshold.
    assert doc["accepted"] == 0 and doc["abstained"] == doc["cases"] >= 1 and doc["coverage"] == 0.0


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
    assert field in report([], [], [], [])
