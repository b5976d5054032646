"""Is one text a near-copy of another? difflib's ratio, answered fast when the answer is no.

The echo checks (a rebuttal or a juror's reason that only repeats a critique) ask `ratio >= threshold` for every
reason against every critique of its batch: ~15,000 pairs in one round at 256 critics, where difflib's matcher
(even cdifflib's C one, ~40 us a pair here) was a third of the debate's CPU.

difflib's ratio is 2*M/T, with M the characters in its matching blocks, which are a common subsequence of the two
texts, so M <= the longest common subsequence and the ratio <= rapidfuzz's Indel similarity (2*LCS/T), computed
bit-parallel in C++ (~0.6 us a pair). Only a pair whose bound reaches the threshold pays for the matcher, so the
answer is always difflib's own; the bound settles >99% of pairs, all of the "no"s among them.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from rapidfuzz.distance import Indel

_SLACK = 1e-9  # relative: float rounding in `threshold * T` must never turn away a pair exactly at the threshold


def ratio_at_least(a: str, b: str, threshold: float) -> bool:
    """`difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= threshold`, exactly."""
    total = len(a) + len(b)
    # Indel.similarity is the integer 2*LCS. (Not its normalized form with score_cutoff: rapidfuzz turns that
    # cutoff into a distance bound with rounding of its own, and returned 0 for a pair just above it.)
    if Indel.similarity(a, b) < threshold * total * (1 - _SLACK):
        return False
    return SequenceMatcher(None, a, b, autojunk=False).ratio() >= threshold
