"""Dung semantics on hand-built frameworks whose extensions are known from the literature."""

from __future__ import annotations

import itertools
import random

import pytest

from gauntlet.graphs.argument.sat_engine import TooMany, preferred
from gauntlet.graphs.argument.semantics import grounded


def lab(args, attacks, **kw):
    return grounded(args, attacks, **kw).as_json()


def test_empty_framework():
    assert lab([], []) == {"in": [], "out": [], "undec": []}
    assert preferred([], []) == [set()]


def test_unattacked_arguments_are_in():
    assert lab(["a", "b"], []) == {"in": ["a", "b"], "out": [], "undec": []}


def test_chain_reinstates_alternately():
    assert lab(list("abcd"), [("a", "b"), ("b", "c"), ("c", "d")]) == {"in": ["a", "c"], "out": ["b", "d"],
                                                                       "undec": []}


def test_odd_cycle_is_undecided_and_preferred_is_empty():
    args, att = list("abc"), [("a", "b"), ("b", "c"), ("c", "a")]
    assert lab(args, att) == {"in": [], "out": [], "undec": ["a", "b", "c"]}
    assert preferred(args, att) == [set()]


def test_even_cycle_has_two_preferred_extensions():
    args, att = list("ab"), [("a", "b"), ("b", "a")]
    assert lab(args, att)["undec"] == ["a", "b"]
    assert sorted(map(sorted, preferred(args, att))) == [["a"], ["b"]]


def test_self_attack_is_never_accepted_but_can_be_defeated():
    assert lab(["a"], [("a", "a")]) == {"in": [], "out": [], "undec": ["a"]}
    assert lab(["a", "b"], [("a", "a"), ("b", "a")]) == {"in": ["b"], "out": ["a"], "undec": []}
    assert preferred(["a"], [("a", "a")]) == [set()]


def test_floating_reinstatement_differs_between_grounded_and_preferred():
    # a <-> b, both attack c, c attacks d: grounded decides nothing; every preferred extension rejects c, accepts d.
    args = list("abcd")
    att = [("a", "b"), ("b", "a"), ("a", "c"), ("b", "c"), ("c", "d")]
    assert lab(args, att)["undec"] == ["a", "b", "c", "d"]
    exts = preferred(args, att)
    assert sorted(map(sorted, exts)) == [["a", "d"], ["b", "d"]]


def test_fixed_labels_pin_and_propagate():
    args, att = list("abc"), [("a", "b"), ("b", "c")]
    # A reviewer rejects a: b is then unattacked and c goes out.
    assert lab(args, att, fixed={"a": "out"}) == {"in": ["b"], "out": ["a", "c"], "undec": []}
    # A proof pins c in even though b attacks it.
    assert lab(args, att, fixed={"c": "in"})["in"] == ["a", "c"]
    # Pinning one side of an even cycle resolves it.
    assert lab(["x", "y"], [("x", "y"), ("y", "x")], fixed={"x": "in"}) == {"in": ["x"], "out": ["y"], "undec": []}


def test_unknown_argument_in_attack_is_an_error():
    with pytest.raises(ValueError, match="unknown argument"):
        grounded(["a"], [("a", "z")])


def _brute_force(args, att):
    """Reference implementations straight from the definitions (exponential; tiny inputs only)."""
    attackers = {a: {x for x, y in att if y == a} for a in args}

    def cf(s):
        return not any((x, y) in att for x in s for y in s)

    def defends(s, a):
        return all(any((d, b) in att for d in s) for b in attackers[a])

    subsets = [set(c) for r in range(len(args) + 1) for c in itertools.combinations(args, r)]
    admissible = [s for s in subsets if cf(s) and all(defends(s, a) for a in s)]
    pref = [s for s in admissible if not any(s < t for t in admissible)]
    g: set = set()
    while True:
        nxt = {a for a in args if defends(g, a)}
        if nxt == g:
            break
        g = nxt
    return g, pref


@pytest.mark.parametrize("seed", range(40))
def test_matches_definitions_on_random_frameworks(seed):
    rng = random.Random(seed)
    args = [f"a{i}" for i in range(rng.randint(1, 7))]
    att = list({(rng.choice(args), rng.choice(args)) for _ in range(rng.randint(0, 12))})
    g_ref, pref_ref = _brute_force(args, att)
    assert grounded(args, att).inside == g_ref
    assert sorted(map(sorted, preferred(args, att))) == sorted(map(sorted, pref_ref))


def test_preferred_handles_large_undecided_parts_and_bounds_enumeration():
    # 60 undecided arguments (the old hand enumeration refused more than 24): 30 disjoint 2-cycles.
    n = 60
    args = [str(i) for i in range(n)]
    att = [(args[i], args[i + 1]) for i in range(0, n, 2)] + [(args[i + 1], args[i]) for i in range(0, n, 2)]
    with pytest.raises(TooMany):
        preferred(args, att, limit=1000)  # 2**30 extensions
    # One self-attacker attacking 59 others: a single preferred extension, the empty set.
    att = [("0", "0")] + [("0", a) for a in args[1:]]
    assert preferred(args, att) == [set()]


def test_a_disputed_formalisation_is_argued_not_pinned():
    from gauntlet.graphs.argument.argument_graph import ArgumentGraph
    nodes = [{"id": "idea", "kind": "idea", "data": {}}, {"id": "claim", "kind": "claim", "data": {}},
             {"id": "f", "kind": "formal_result", "data": {"verdict": "refuted"}},
             {"id": "c", "kind": "critique", "data": {"critique_kind": "objection"}}]
    edges = [{"src": "f", "dst": "claim", "kind": "attacks"}, {"src": "f", "dst": "idea", "kind": "attacks"},
             {"src": "c", "dst": "f", "kind": "attacks"}]
    # An ordinary objection cannot overturn a counterexample z3 found: the idea stays shot down.
    assert ArgumentGraph(nodes, edges).status("idea") == "shot_down"
    # A critique saying the formal text does not match the claim unpins it, and then defeats it.
    nodes[3]["data"]["critique_kind"] = "unfaithful_formalisation"
    g = ArgumentGraph(nodes, edges)
    assert g.status("f") == "shot_down" and g.status("idea") == "standing"
