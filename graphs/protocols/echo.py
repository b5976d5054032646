"""Rebuttals that only repeat their critique. A small model asked to answer a critique often copies it back, labelled
"concede" or "counter"; such an answer defends nothing and, as a counter, would even attack the critique with its
own words. Each echo is re-asked once with a note; an answer that still echoes is dropped."""

from __future__ import annotations

import re
from typing import Any

from gauntlet.agents.schemas import RebuttalItem, RebuttalSet
from gauntlet.similarity import ratio_at_least

ECHO_RATIO = 0.75  # SequenceMatcher ratio of the normalised texts at or above which an answer is a copy
_WORD = re.compile(r"[a-z0-9]+")
_MIN_WORDS = 4


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def is_echo(answer: str, critique: str) -> bool:
    """True when `answer` is a near-copy of `critique`: the same words nearly in the same order, or the critique's
    text (of at least a few words) contained in the answer with little added, or the answer inside the critique."""
    a, c = _words(answer), _words(critique)
    if not a or not c:
        return not a  # an empty answer says nothing either
    sa, sc = " ".join(a), " ".join(c)
    if ratio_at_least(sa, sc, ECHO_RATIO):
        return True
    if len(c) >= _MIN_WORDS and sc in sa and len(a) <= 1.5 * len(c):
        return True
    return len(a) >= _MIN_WORDS and sa in sc


def echoes(rs: RebuttalSet, critique_text: dict[str, str]) -> list[RebuttalItem]:
    """The responses that repeat the critique they answer."""
    return [r for r in rs.responses if r.target in critique_text and is_echo(r.text, critique_text[r.target])]


def without(rs: RebuttalSet, dropped: list[RebuttalItem]) -> list[RebuttalItem]:
    gone = {id(r) for r in dropped}
    return [r for r in rs.responses if id(r) not in gone]


def reask_note(targets: list[str]) -> str:
    return (f"Your answer to {', '.join(targets)} only repeated the critique. Answer each in your own "
            "words: say why the critique is right (concede), how the idea changes (revise), or why it is wrong "
            "(counter). Do not copy the critique's text.")


def merged(first: list[RebuttalItem], second: RebuttalSet | None, critique_text: dict[str, str],
           asked: list[str]) -> tuple[list[RebuttalItem], list[dict[str, Any]]]:
    """The answers kept after a re-ask: the first call's non-echoes plus the re-ask's non-echoes for the targets it
    was asked about; and a record of each dropped target (so the transcript shows why an attack went unanswered)."""
    kept = list(first)
    answered = {r.target for r in kept}
    dropped = []
    for target in asked:
        again = [r for r in (second.responses if second else []) if r.target == target]
        good = [r for r in again if not is_echo(r.text, critique_text[target])]
        if good and target not in answered:
            kept.append(good[0])
            answered.add(target)
        elif not good:
            dropped.append({"target": target, "why": "rebuttal repeated the critique twice; dropped"})
    return kept, dropped
