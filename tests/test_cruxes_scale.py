"""Cruxes decided on each candidate's descendants give exactly the definition's answer (a full grounded run with
the node pinned), on random graphs with pins, and stay fast on a large debate-shaped graph."""

from __future__ import annotations

import random
import time

from gauntlet.graphs.argument import analysis
from gauntlet.graphs.argument.argument_graph import ArgumentGraph
from gauntlet.graphs.argument.semantics import grounded

STATUS = {"in": "standing", "out": "shot_down", "undec": "undecided"}


def by_definition(graph: ArgumentGraph) -> dict[str, dict[str, str]]:
    ideas = [n.id for n in analysis.top_ideas(graph)]
    base, pins = graph.labelling, graph.fixed()
    out = {}
    for nid in graph.nodes:
        if nid in pins:
            continue
        flipped = "out" if base.label(nid) == "in" else "in"
        lab = grounded(list(graph.nodes), graph.attacks, {**pins, nid: flipped})
        changed = {i: STATUS[lab.label(i)] for i in ideas if i != nid and lab.label(i) != base.label(i)}
        if changed:
            out[nid] = changed
    return out


def random_graph(rng: random.Random) -> ArgumentGraph:
    n = rng.randint(2, 40)
    kinds = ["idea"] * rng.randint(1, 4) + ["critique"] * (n - 1)
    nodes = [{"id": f"n{i}", "kind": kinds[i % len(kinds)], "data": {}, "seq": i} for i in range(n)]
    edges = [{"src": f"n{rng.randrange(n)}", "dst": f"n{rng.randrange(n)}", "kind": "attacks"}
             for _ in range(rng.randint(0, 2 * n))]
    overrides = [{"kind": "override", "node_id": f"n{rng.randrange(n)}", "verdict": rng.choice(["valid", "invalid"])}
                 for _ in range(rng.randint(0, 2))]
    return ArgumentGraph(nodes, edges, overrides)


def test_same_cruxes_as_the_definition():
    rng = random.Random(5)
    for _ in range(300):
        g = random_graph(rng)
        found = {c["id"]: {f["idea"]: f["to"] for f in c["flips"]} for c in analysis.cruxes(g, limit=10**6)}
        assert found == by_definition(g)


def test_large_debate_graph_is_fast():
    # 2,000 ideas, each under a chain of critique / rebuttal / counter-critique: 20,000 nodes.
    nodes, edges = [], []
    for i in range(2000):
        nodes.append({"id": f"i{i}", "kind": "idea", "data": {}, "seq": len(nodes)})
        prev = f"i{i}"
        for d in range(9):
            nid = f"c{i}_{d}"
            nodes.append({"id": nid, "kind": "critique", "data": {}, "seq": len(nodes)})
            edges.append({"src": nid, "dst": prev, "kind": "attacks"})
            prev = nid
    g = ArgumentGraph(nodes, edges)
    t0 = time.perf_counter()
    found = analysis.cruxes(g, limit=10**6)
    elapsed = time.perf_counter() - t0
    assert len(found) == 18_000  # every critique in every chain flips its idea
    assert elapsed < 20, elapsed  # one full grounded run per node took minutes here
