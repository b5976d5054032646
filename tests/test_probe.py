"""Linear probes on hidden states (agents/probe.py) and the rulings calibration that weighs one
(graphs/evals/rulings.py `add_probe`, agents/calibration.py): fitted, cross-fitted by group, trained against
mismatched copies, saved inside the calibration file and refused when malformed. Hidden states here are made
with a planted direction; the real reader is tested on the embedded model (tests/test_embedded.py)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from gauntlet.agents.calibration import calibration_path, load_calibration, save_calibration, usable
from gauntlet.agents.hidden_states import default_layer
from gauntlet.agents.probe import PROBE_FEATURE, LinearProbe, cross_fitted_scores, fit_probe
from gauntlet.errors import InputError
from gauntlet.graphs.evals.rulings import report
from gauntlet.graphs.evals.rulings_set import load_cases
from gauntlet.metrics import auc

WIDTH = 24


def planted(n: int, seed: int, signal: float = 4.0,
            direction: np.ndarray | None = None) -> tuple[np.ndarray, list[bool], np.ndarray]:
    """(states, labels, direction): labels shift the states along one direction, plus noise in every dimension."""
    rng = np.random.default_rng(seed)
    if direction is None:
        direction = rng.normal(size=WIDTH)
        direction /= np.linalg.norm(direction)
    labels = [bool(i % 2) for i in range(n)]
    states = rng.normal(size=(n, WIDTH)) * 3.0 + 10.0
    states += np.outer([signal if t else -signal for t in labels], direction)
    return states, labels, direction


def test_a_fitted_probe_ranks_unseen_states_by_the_planted_direction():
    train, y_train, direction = planted(200, seed=1)
    probe = fit_probe(train, y_train, layer=7, question="margin", l2=1.0)
    test, y_test, _ = planted(80, seed=2, direction=direction)  # the same direction, fresh noise
    scores = [probe.score(s) for s in test]
    assert auc(scores, y_test) > 0.9
    assert probe.layer == 7 and probe.question == "margin" and len(probe.weights) == WIDTH + 1


def test_a_probe_survives_its_file_format_and_refuses_a_malformed_one():
    states, labels, _ = planted(40, seed=2)
    probe = fit_probe(states, labels, layer=3, question="margin")
    again = LinearProbe.from_dict(json.loads(json.dumps(probe.to_dict())))
    assert again.score(states[0]) == pytest.approx(probe.score(states[0]), abs=1e-3)
    raw = probe.to_dict()
    for broken in ({**raw, "weights": raw["weights"][:-1]}, {**raw, "scale": [0.0] * WIDTH},
                   {**raw, "mean": [float("nan")] * WIDTH}):
        with pytest.raises(ValueError):
            LinearProbe.from_dict(broken)
    with pytest.raises(ValueError, match="width"):
        probe.score(states[0][:5])
    with pytest.raises(ValueError, match="both labels"):
        fit_probe(states[:3], [True, True, True], layer=3, question="margin")


def test_cross_fitted_scores_never_use_the_items_own_group():
    states, labels, _ = planted(60, seed=3)
    groups = [f"g{(i // 2) % 6}" for i in range(60)]  # both labels in each group
    # Group g0's labels are flipped: a probe that had seen them would score g0 the flipped way.
    flipped = [not t if g == "g0" else t for t, g in zip(labels, groups)]
    scores = cross_fitted_scores(states, flipped, groups, layer=0, question="margin", l2=1.0)
    g0 = [i for i, g in enumerate(groups) if g == "g0"]
    assert auc([scores[i] for i in g0], [flipped[i] for i in g0]) < 0.2  # predicted from the other groups
    manual = fit_probe([states[i] for i in range(60) if groups[i] != "g0"],
                       [flipped[i] for i in range(60) if groups[i] != "g0"], layer=0, question="margin", l2=1.0)
    assert scores[g0[0]] == pytest.approx(manual.score(states[g0[0]]))


def test_training_against_mismatched_copies_moves_the_probe_off_a_style_that_ignores_the_proposal():
    """A 'style' dimension marks sound critiques whatever proposal they are shown with; a 'fit' dimension marks
    them only with their own. Mismatched copies labelled unsound take the weight off style."""
    rng = np.random.default_rng(4)
    n = 120
    labels = [bool(i % 2) for i in range(n)]
    style = np.array([1.0 if t else -1.0 for t in labels]) + rng.normal(size=n) * 0.2
    fit = np.array([1.0 if t else -1.0 for t in labels]) + rng.normal(size=n) * 1.2
    real = np.column_stack([style, fit, rng.normal(size=(n, 4))])
    copies = np.column_stack([style, -1.0 + rng.normal(size=n) * 1.2, rng.normal(size=(n, 4))])
    groups = [f"p{(i // 2) % 10}" for i in range(n)]
    plain = cross_fitted_scores(real, labels, groups, layer=0, question="margin", l2=1.0)
    trained = cross_fitted_scores(real, labels, groups, layer=0, question="margin", l2=1.0,
                                  train_only=[(c, False, g) for c, g in zip(copies, groups)])
    plain_probe = fit_probe(real, labels, layer=0, question="margin", l2=1.0)
    both = fit_probe(np.vstack([real, copies]), labels + [False] * n, layer=0, question="margin", l2=1.0)
    sound = [i for i in range(n) if labels[i]]
    copy_auc = {name: auc([p.score(real[i]) for i in sound] + [p.score(copies[i]) for i in sound],
                          [True] * len(sound) + [False] * len(sound))
                for name, p in (("plain", plain_probe), ("against copies", both))}
    assert copy_auc["against copies"] > copy_auc["plain"] + 0.05  # it tells a flaw from its mismatched copy
    ratio = {name: abs(p.weights[2] / p.weights[1]) for name, p in (("plain", plain_probe), ("against copies", both))}
    assert ratio["against copies"] > 2 * ratio["plain"]  # weight moved from style (dim 0) to fit (dim 1)
    assert auc(trained, labels) > 0.8 and auc(plain, labels) > 0.8  # and still ranks the real items


@pytest.fixture()
def rulings_reads():
    """The shipped set's items with synthetic reads: a hidden state that carries the label plus noise, question
    margins that carry nothing, and shuffled copies whose states carry nothing."""
    cases = load_cases("runs/evals/rulings.yaml")
    rng = np.random.default_rng(5)
    direction = rng.normal(size=WIDTH)
    reads = {}
    for c in cases:
        state = rng.normal(size=WIDTH) + (1.2 if c.sustained else -1.2) * direction / np.linalg.norm(direction)
        row = {"scored": True, "margin": float(rng.normal()), "q_unanswered": float(rng.normal()),
               "raw_margin": 0.0, "content_free_margin": -0.1, "similarity": float(rng.normal()),
               "sim_anchor": float(rng.normal()), "hidden": state.tolist(), "probe_layer": 18, "seconds": 1.0}
        row["shuffled"] = {**row, "hidden": rng.normal(size=WIDTH).tolist()}
        reads[c.id] = row
    return cases, reads


def test_the_rulings_report_weighs_the_probe_where_reads_hold_hidden_states(rulings_reads, tmp_path):
    cases, reads = rulings_reads
    doc, cal = report(cases, reads, model="embedded:test", fitted_on={"file": "x", "sha256": "0" * 64})
    assert cal.features == [PROBE_FEATURE] and cal.probe is not None
    assert cal.probe["layer"] == 18 and cal.probe["trained_on"]["mismatched_copies"] == 132
    assert doc["auc"] > 0.85 and doc["accepted"] > 0
    assert doc["baselines"]["shuffled_proposal"]["auc"] < 0.7  # the probe reads the state, not the item's label
    assert doc["baselines"]["without_probe"]["features"] == ["margin", "q_unanswered", "sim_anchor"]
    assert doc["calibration_split"]["grouped_cv"]["probe"]["cv_auc"] > 0.8
    assert all("hidden" not in row for row in doc["per_case"])
    # Saved and loaded, the calibration keeps its probe and scores a state as before.
    path = save_calibration(cal, tmp_path)
    loaded = load_calibration(path)
    state = reads[cases[0].id]["hidden"]
    assert LinearProbe.from_dict(loaded.probe).score(state) == pytest.approx(
        LinearProbe.from_dict(cal.probe).score(state), abs=1e-3)


def test_without_hidden_states_the_report_keeps_the_question_features(rulings_reads):
    cases, reads = rulings_reads
    for row in reads.values():
        row.pop("hidden")
        row["shuffled"].pop("hidden")
    doc, cal = report(cases, reads, model="served:test")
    assert cal.features == ["margin", "q_unanswered", "sim_anchor"] and cal.probe is None
    assert "without_probe" not in doc["baselines"]


def test_a_calibration_weighing_a_probe_without_one_is_refused_in_one_line(rulings_reads, tmp_path):
    cases, reads = rulings_reads
    _, cal = report(cases, reads, model="embedded:test")
    path = save_calibration(replace(cal, probe=None), tmp_path)
    assert path == calibration_path("embedded:test", root=tmp_path)
    with pytest.raises(InputError) as err:
        load_calibration(path)
    assert str(path) in str(err.value.field) and "\n" not in str(err.value)


def test_a_vote_on_a_backend_without_hidden_states_falls_back_to_the_default(rulings_reads):
    cases, reads = rulings_reads
    _, cal = report(cases, reads, model="embedded:test")
    fallback, note = usable(cal, "", ["margin", "q_unanswered", "sim_anchor"])
    assert fallback.id.startswith("default-") and "probe" in note
    kept, same = usable(cal, "", ["margin", PROBE_FEATURE])
    assert kept is cal and same == ""


@pytest.mark.parametrize("n_layer,layer", [(28, 18), (24, 16), (1, 0), (40, 26)])
def test_the_default_layer_sits_at_two_thirds_of_the_depth(n_layer, layer):
    assert default_layer(n_layer) == layer



@pytest.mark.parametrize("hidden", [True, False])
def test_calibration_items_get_mismatched_copies_only_where_hidden_states_are_read(hidden):
    from types import SimpleNamespace

    from gauntlet.graphs.evals.rulings import SHUFFLED, SHUFFLED_CALIBRATION, TASK
    from gauntlet.graphs.evals.rulings_set import shuffled_proposals

    cases = load_cases("runs/evals/rulings.yaml")
    ctx = SimpleNamespace(state={"shuffled": shuffled_proposals(cases), "hidden": hidden}, settings={})
    prepared = TASK.prepared_cases(cases, ctx)
    splits = {s: sum(c.split == s for c in prepared) for s in ("calibration", "test", SHUFFLED,
                                                               SHUFFLED_CALIBRATION)}
    assert splits[SHUFFLED] == splits["test"] == 132
    assert splits[SHUFFLED_CALIBRATION] == (132 if hidden else 0)
    copy = next(c for c in prepared if c.split in (SHUFFLED, SHUFFLED_CALIBRATION))
    original = next(c for c in cases if c.id == copy.id.split("~")[0])
    assert copy.proposal != original.proposal and copy.critique == original.critique
    # Every calibration read comes before the first test read: a run stopped between them has read no test item.
    tested = [c.split in ("test", SHUFFLED) for c in prepared]
    assert tested == sorted(tested) and tested[0] is False and tested[-1] is True
