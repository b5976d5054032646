"""gauntlet.similarity answers exactly as difflib does: the LCS bound only ever skips pairs difflib rejects."""

from __future__ import annotations

import random
from difflib import SequenceMatcher

from gauntlet.similarity import ratio_at_least


def _difflib(a: str, b: str, threshold: float) -> bool:
    return SequenceMatcher(None, a, b, autojunk=False).ratio() >= threshold


def test_same_answer_as_difflib_on_random_and_near_copy_pairs():
    rng = random.Random(18)
    words = "deceptive model probe reward overseer honest the a of game reports".split()
    pairs = [("", ""), ("", "x"), ("x", ""), ("abc", "abc"), ("ab", "ba")]
    for _ in range(4000):
        b = " ".join(rng.choice(words) for _ in range(rng.randint(1, 20)))
        r = rng.random()
        if r < 0.4:  # edits at a rate that straddles the thresholds below
            a = "".join(ch if rng.random() > rng.uniform(0.05, 0.4) else rng.choice("abcdeor ") for ch in b)
        elif r < 0.6:
            a = b[rng.randint(0, len(b)):] + b[:rng.randint(0, len(b))]
        else:
            a = " ".join(rng.choice(words) for _ in range(rng.randint(1, 20)))
        pairs.append((a, b))
    for threshold in (0.5, 0.75, 0.8, 0.9):
        got = [ratio_at_least(a, b, threshold) for a, b in pairs]
        assert got == [_difflib(a, b, threshold) for a, b in pairs], threshold
        assert 50 < sum(got) < len(got) - 50  # both answers well represented at every threshold


def test_pairs_exactly_at_the_threshold_are_not_skipped():
    """Ratios that land exactly on the threshold (2M/T = 0.75): rounding in the bound must not turn them away."""
    exact = [(a, b) for a, b in (("abc", "abd"), ("abcdef", "abcxyz"), ("abcd", "abcdxyzw"), ("aaab", "aaac"))
             if SequenceMatcher(None, a, b, autojunk=False).ratio() in (0.75, 2 / 3, 0.5)]
    assert exact  # the cases above do hit those ratios
    for a, b in exact:
        r = SequenceMatcher(None, a, b, autojunk=False).ratio()
        assert ratio_at_least(a, b, r)
        assert not ratio_at_least(a, b, r + 1e-6)
