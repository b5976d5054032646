"""DF-QuAD strength: the closed forms on small graphs, pins, weights from severity and rulings."""

from __future__ import annotations

import numpy as np
import pytest

from gauntlet.graphs.argument.argument_graph import ArgumentGraph
from gauntlet.graphs.argument.strength import attack_weight, df_quad, strengths


def edges(*rows):
    src, dst, w = zip(*rows) if rows else ((), (), ())
    return np.asarray(src, np.int64), np.asarray(dst, np.int64), np.asarray(w, float)


def test_closed_forms():
    none = edges()
    # One attacker of strength 0.5 on a 0.5 base: 0.5 - 0.5 * 0.5 = 0.25.
    got = df_quad(2, np.array([0.5, 0.5]), edges((0, 1, 1.0)), none)
    assert got.tolist() == pytest.approx([0.5, 0.25])
    # Two attackers 0.5 and 0.5: F = 1 - 0.5 * 0.5 = 0.75; supporter 0.5 cancels part: C(0.5, .75, .5) = 0.375.
    got = df_quad(4, np.full(4, 0.5), edges((0, 3, 1.0), (1, 3, 1.0)), edges((2, 3, 1.0)))
    assert got[3] == pytest.approx(0.5 - 0.5 * (0.75 - 0.5))
    # Support alone raises toward 1: C(0.4, 0, 0.5) = 0.4 + 0.6 * 0.5.
    got = df_quad(2, np.array([0.5, 0.4]), none, edges((0, 1, 1.0)))
    assert got[1] == pytest.approx(0.7)
    # A weak attack (weight 0.2) hurts less than a full one.
    weak = df_quad(2, np.array([1.0, 0.8]), edges((0, 1, 0.2)), none)[1]
    full = df_quad(2, np.array([1.0, 0.8]), edges((0, 1, 1.0)), none)[1]
    assert full == pytest.approx(0.0) and weak == pytest.approx(0.8 - 0.8 * 0.2)


def test_cycles_settle_in_range():
    got = df_quad(3, np.full(3, 0.5), edges((0, 1, 1.0), (1, 2, 1.0), (2, 0, 1.0)), edges())
    assert ((got >= 0) & (got <= 1)).all() and np.allclose(got, got[0])


def test_weights_from_severity_and_ruling():
    assert attack_weight({}) == 1.0
    assert attack_weight({"severity": "minor"}) == pytest.approx(0.4)
    assert attack_weight({"severity": "fatal", "ruling": "overruled"}) == pytest.approx(0.1)
    assert attack_weight({"severity": "major", "ruling": {"outcome": "contested"}}) == pytest.approx(0.4)


def test_graph_strengths_use_judge_scores_verdicts_and_pins():
    nodes = [{"id": "i", "kind": "idea", "data": {}}, {"id": "c", "kind": "critique", "data": {"severity": "minor"}},
             {"id": "j", "kind": "judgement", "data": {"scores": [{"target": "i", "score": 8.5}]}},
             {"id": "f", "kind": "formal_result", "data": {"verdict": "refuted"}},
             {"id": "i2", "kind": "idea", "data": {}}]
    edges_ = [{"src": "c", "dst": "i", "kind": "attacks"}, {"src": "f", "dst": "i2", "kind": "attacks"}]
    s = strengths(ArgumentGraph(nodes, edges_))
    assert s["i"] == pytest.approx(0.8 - 0.8 * 0.4 * 0.5)  # judge 8.5 -> 0.8; a minor critique of base 0.5
    assert s["f"] == 1.0 and s["i2"] == 0.0  # the prover's counterexample is pinned and fully defeats i2
    # A reviewer accepting the idea pins it at 1 whatever attacks it.
    s = strengths(ArgumentGraph(nodes, edges_, [{"kind": "override", "node_id": "i2", "verdict": "valid"}]))
    assert s["i2"] == 1.0


def test_dashboard_colours_by_strength():
    from gauntlet.ui.dashboard.graph_view import STATUS_COLOURS, node_colour, strength_colour
    assert strength_colour(0.0) == STATUS_COLOURS["shot_down"] and strength_colour(1.0) == STATUS_COLOURS["standing"]
    assert strength_colour(0.5) == STATUS_COLOURS["undecided"] and strength_colour(None) == "#9e9e9e"
    node = {"status": "standing", "strength": 0.0}
    assert node_colour(node, "status") == STATUS_COLOURS["standing"]
    assert node_colour(node, "strength") == STATUS_COLOURS["shot_down"]


def test_show_json_gives_each_idea_a_strength(store, demo, synthetic_url):
    from tests.conftest import run_debate

    from gauntlet.graphs.store.views import show
    run_id = run_debate(store, demo, synthetic_url)
    doc = show(store, run_id, analyse=False)
    assert doc["ideas"] and all(0.0 <= i["strength"] <= 1.0 for i in doc["ideas"])
    assert all(i["status"] in ("standing", "shot_down", "undecided") for i in doc["ideas"])
