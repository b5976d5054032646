"""Anchors: the verbatim words of a target that a critique attacks. Pure functions, no I/O.

A critique's `anchor` must be a substring of its target's text after normalising whitespace and case. A near
miss (a dropped word, a changed inflection) is snapped to the closest real span; anything further is no anchor.
`spans` offers the quotable pieces of a text (sentences and clauses), which the critique schema turns into an
enum so a grammar-constrained model can only quote real words.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

SNAP_RATIO = 0.8  # how alike a near miss and a real span must be (difflib ratio on normalised text)
MIN_ANCHOR_CHARS = 8  # "the", "model": too short to say what is attacked
_QUOTES = "\"'“”‘’«»`…. "


@dataclass(frozen=True)
class Anchor:
    """Where a quoted anchor sits in a target text: `exact`, `snapped` (near miss moved to a real span) or
    `none`. `quote` is the target's own words (verbatim, original case), `start`/`end` index the text."""

    match: Literal["exact", "snapped", "none"]
    quote: str = ""
    start: int = -1
    end: int = -1
    ratio: float = 0.0


@functools.lru_cache(maxsize=4096)  # a target's text is located by every critic that attacks it
def _normalised(text: str) -> tuple[str, tuple[int, ...]]:
    """Text with whitespace runs collapsed to one space and case folded, plus each character's index in `text`."""
    chars, index = [], []
    prev_space = True
    for i, ch in enumerate(text):
        if ch.isspace():
            if not prev_space:
                chars.append(" ")
                index.append(i)
            prev_space = True
            continue
        folded = ch.casefold()
        chars.extend(folded)
        index.extend([i] * len(folded))
        prev_space = False
    while chars and chars[-1] == " ":
        chars.pop()
        index.pop()
    return "".join(chars), tuple(index)


def _span(text: str, index: tuple[int, ...], lo: int, hi: int) -> Anchor:
    return Anchor("exact", text[index[lo]:index[hi - 1] + 1], index[lo], index[hi - 1] + 1, 1.0)


def locate(anchor: str, text: str) -> Anchor:
    """Find `anchor` in `text`: exact (normalised), else the closest word window when alike enough, else none."""
    needle, _ = _normalised(anchor.strip(_QUOTES))
    hay, index = _normalised(text)
    if len(needle) < MIN_ANCHOR_CHARS or not hay:
        return Anchor("none")
    at = hay.find(needle)
    if at >= 0:
        return _span(text, index, at, at + len(needle))
    best: tuple[float, int, int] = (0.0, 0, 0)
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", hay)]
    n = len(needle.split())
    for size in range(max(1, n - 2), n + 3):
        for i in range(0, len(words) - size + 1):
            lo, hi = words[i][0], words[i + size - 1][1]
            ratio = SequenceMatcher(None, needle, hay[lo:hi], autojunk=False).ratio()
            if ratio > best[0]:
                best = (ratio, lo, hi)
    ratio, lo, hi = best
    if ratio < SNAP_RATIO:
        return Anchor("none", ratio=round(ratio, 3))
    found = _span(text, index, lo, hi)
    return Anchor("snapped", found.quote, found.start, found.end, round(ratio, 3))


def spans(text: str, *, max_spans: int = 8, max_chars: int = 120) -> list[str]:
    """Quotable pieces of `text`, verbatim, in reading order: its sentences, except that a long sentence which
    splits into clauses is offered as its clauses (a critique quotes the words it attacks, not a whole sentence:
    the anchor is copied token by token, so a 200-character quote cost ~40 generated tokens a critique). Each piece
    is at least MIN_ANCHOR_CHARS long and at most `max_chars` (longer ones are cut at a word)."""
    text = " ".join(text.split())
    out: list[str] = []
    for sentence in re.split(r"(?<=[.;:!?])\s+", text):
        pieces = [sentence]
        if len(sentence) > 90:
            clauses = [c.strip(" ,;:") for c in re.split(r",\s+|\s+(?:but|while|because|so that|whereas)\s+",
                                                          sentence)]
            clauses = [c for c in clauses if len(c) >= MIN_ANCHOR_CHARS]
            pieces = clauses if len(clauses) >= 2 else pieces
        for piece in pieces:
            piece = piece.strip(" ,;:")
            if len(piece) > max_chars:
                piece = piece[:max_chars].rsplit(" ", 1)[0]
            if len(piece) >= MIN_ANCHOR_CHARS and piece not in out:
                out.append(piece)
    return out[:max_spans]


def _words_key(text: str) -> str:
    return _normalised(text.strip(_QUOTES))[0]


def openings(pieces: list[str], *, min_words: int = 4) -> list[str]:
    """Each quotable piece's opening words: the fewest of its first words (at least `min_words` and
    MIN_ANCHOR_CHARS) that no other piece starts with, so the opening names its piece. The critique schema's anchor
    enum offers these instead of whole pieces: a grammar-constrained model then copies ~5 tokens instead of ~20,
    and `widen` turns the opening back into its piece (the words the critique attacks)."""
    split = [p.split() for p in pieces]
    out: list[str] = []
    for i, words in enumerate(split):
        n = min(min_words, len(words))
        while n < len(words) and (len(" ".join(words[:n])) < MIN_ANCHOR_CHARS or any(
                j != i and [w.casefold() for w in other[:n]] == [w.casefold() for w in words[:n]]
                for j, other in enumerate(split))):
            n += 1
        out.append(" ".join(words[:n]))
    return out


def widen(anchor: str, pieces: list[str]) -> str:
    """The piece whose opening (`openings(pieces)`) `anchor` is, or `anchor` itself when it is no opening (a model
    without a grammar may quote any words; `locate` then finds them as they are)."""
    key = _words_key(anchor)
    for opening, piece in zip(openings(pieces), pieces):
        if _words_key(opening) == key:
            return piece
    return anchor
