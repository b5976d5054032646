"""The array path of grounded semantics (large frameworks) gives exactly the plain algorithm's labelling."""

from __future__ import annotations

import random

import pytest

import gauntlet.graphs.argument.semantics as sem


def both(args, attacks, fixed, monkeypatch):
    monkeypatch.setattr(sem, "_ARRAY_MIN_ARGS", 10**12)
    plain = sem.grounded(args, attacks, fixed).as_json()
    monkeypatch.setattr(sem, "_ARRAY_MIN_ARGS", 0)
    arrays = sem.grounded(args, attacks, fixed).as_json()
    return plain, arrays


@pytest.mark.parametrize("wave,list_tail", [(1, 20_000), (64, 20_000), (64, 5)])
@pytest.mark.parametrize("seed", range(40))
def test_same_labelling_on_random_frameworks(seed, wave, list_tail, monkeypatch):
    monkeypatch.setattr(sem, "_ARRAY_MIN_WAVE", wave)
    monkeypatch.setattr(sem, "_LIST_TAIL", list_tail)  # 5: the tail switches from array elements to lists
    rng = random.Random(seed)
    n = rng.randint(1, 400)
    args = [f"a{i}" for i in range(n)] if seed % 2 else list(range(7, n + 7))
    attacks = [(rng.choice(args), rng.choice(args)) for _ in range(rng.randint(0, 3 * n))]
    if seed % 3 == 0:
        attacks += [(args[i], args[i + 1]) for i in range(n - 1)]  # long chains: the thin-tail path
    fixed = {rng.choice(args): rng.choice(["in", "out"]) for _ in range(rng.randint(0, 3))}
    plain, arrays = both(args, attacks, fixed, monkeypatch)
    assert plain == arrays


def test_unknown_arguments_are_the_same_errors(monkeypatch):
    monkeypatch.setattr(sem, "_ARRAY_MIN_ARGS", 0)
    with pytest.raises(ValueError, match="unknown argument: 9"):
        sem.grounded([1, 2, 3], [(1, 9)])
    with pytest.raises(ValueError, match="unknown argument: 'z'"):
        sem.grounded(["a", "b"], [("a", "z")])
    with pytest.raises(ValueError, match="fixed label for an unknown argument"):
        sem.grounded(["a"], [], {"q": "in"})
