"""SCC-recursive enumeration and the DS-PR CEGAR loop: the same answers as the whole-framework engine."""

from __future__ import annotations

import random
import time

import networkx as nx
import numpy as np
import pytest

from gauntlet.graphs.argument import scc
from gauntlet.graphs.argument.framework import AF
from gauntlet.graphs.argument.sat_engine import Engine
from gauntlet.ui.bench.bench_af import even_pairs_case, floating_case


def _random_af(rng: random.Random) -> AF:
    n = rng.randint(0, 14)
    density = rng.choice([0.05, 0.1, 0.2, 0.35])
    return AF.from_pairs(list(range(n)), [(a, b) for a in range(n) for b in range(n) if rng.random() < density])


def test_components_are_the_sccs_in_topological_order():
    rng = random.Random(7)
    for _ in range(200):
        af = _random_af(rng)
        comp, count = scc.components(af.n, af.src, af.dst)
        graph = nx.DiGraph(list(zip(af.src.tolist(), af.dst.tolist())))
        graph.add_nodes_from(range(af.n))
        expected = {frozenset(c) for c in nx.strongly_connected_components(graph)}
        assert {frozenset(np.flatnonzero(comp == c).tolist()) for c in range(count)} == expected
        assert (comp[af.src] <= comp[af.dst]).all()  # attacks never go back up the order


def test_recursive_extensions_equal_the_whole_engine_with_pins(monkeypatch):
    # Decompose wherever the components are disjoint, however few or lopsided.
    monkeypatch.setattr(scc, "worth_it", lambda comp, count, src, dst: not (comp[src] != comp[dst]).any())
    monkeypatch.setattr(scc, "_SWITCH_AFTER", 1)  # and switch after the first extension
    rng = random.Random(14)
    for _ in range(400):
        af = _random_af(rng)
        fixed = {rng.randrange(af.n): rng.choice(["in", "out"])} if af.n and rng.random() < 0.3 else {}
        for sem in ("complete", "preferred", "stable"):
            whole = sorted(Engine(af, fixed).extensions(sem))
            assert sorted(scc.extensions(af, fixed, sem)) == whole, (sem, af.pairs(), fixed)
            if not fixed:  # straight from the components, no whole-core start
                comp, count = scc.components(af.n, af.src, af.dst)
                recursive = scc.Recursive(af, sem, comp, count)
                assert sorted(recursive.extensions()) == whole
                if not (comp[af.src] != comp[af.dst]).any():  # disjoint components: the plain product
                    assert sorted(sorted(e) for e in recursive.product()) == whole
                some = recursive.some()
                assert (some is None) == (not whole) and (some is None or some in whole)


def test_disjoint_components_are_decomposed_and_chained_ones_are_not():
    n, src, dst = even_pairs_case(6)
    comp, count = scc.components(n, src, dst)
    assert count == 6 and scc.worth_it(comp, count, src, dst)
    chained_src, chained_dst = np.append(src, 0), np.append(dst, 2)  # a → c links two of the cycles
    comp, count = scc.components(n, chained_src, chained_dst)
    assert not scc.worth_it(comp, count, chained_src, chained_dst)
    assert len(list(scc.extensions(AF(n, src, dst), None, "preferred"))) == 2 ** 6
    big = AF(*even_pairs_case(10))  # 1,024 extensions: the first 256 from the solver, the rest as a product
    for sem in ("complete", "preferred", "stable"):
        streamed = list(scc.extensions(big, {"1": "in"}, sem))
        assert len(streamed) == len({tuple(e) for e in streamed})
        assert sorted(streamed) == sorted(Engine(big, {"1": "in"}).extensions(sem))


@pytest.mark.parametrize("cycles", [3, 40])
def test_sceptical_preferred_with_floating_acceptance(cycles):
    """a is in every one of the 2^(cycles+1) preferred extensions but in no admissible set on its own side."""
    n, src, dst = floating_case(cycles)
    engine = Engine(AF(n, src, dst))
    t0 = time.perf_counter()
    assert engine.sceptical(0, "preferred") == (True, None)
    assert time.perf_counter() - t0 < 5
    # b (1) is in some preferred extensions and not others: NO, with a preferred counterexample without it.
    yes, counter = engine.sceptical(1, "preferred")
    assert not yes and 1 not in counter and 2 in counter and 0 in counter
    if cycles <= 3:
        assert counter in list(engine.extensions("preferred"))
