"""Blind, order-free judging, as pure functions.

A judge who sees who wrote an idea, or always reads it first, scores the author and the position, not the idea
(position and identity bias are known LLM-judge failures). So the judge sees neutral labels (I1, I2, …) in a seeded
per-call order, never node ids (they carry persona names) or author names (scrubbed from the text too), and no
persona scores an idea it defends: those go to a stand-in panellist.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Collection, Iterable, Mapping, Sequence

from gauntlet.graphs.protocols.allocation import rng_for, shuffled

REDACTED = "a panellist"


def labels_for(ids: Sequence[str], seed: int, key: str, prefix: str = "I") -> dict[str, str]:
    """label → id, the labels numbered in a seeded order of the ids (so label I1 is not always the first idea)."""
    return {f"{prefix}{k}": i for k, i in enumerate(shuffled(ids, seed, f"labels/{key}"), 1)}


def scrubber(names: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern matching any persona name or display label (longest first, whole words, any case); with the
    hyphens of a name also matched as spaces ("ml-empiricist" / "ML empiricist")."""
    forms = set()
    for n in names:
        n = n.strip()
        if len(n) >= 3:
            forms.add(re.escape(n).replace(r"\-", r"[-\s]"))
    if not forms:
        return None
    return _alternation(tuple(sorted(forms, key=lambda f: (-len(f), f))))


@functools.lru_cache(maxsize=32)  # the same panel every round; compiling hundreds of names took ~10 ms
def _alternation(forms: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(forms) + r")\b", re.IGNORECASE)


def scrub(text: str, pattern: re.Pattern[str] | None) -> str:
    return pattern.sub(REDACTED, text) if pattern else text


def impartial(judge: str, owners: Collection[str], panel: Sequence[str], seed: int, key: str) -> str:
    """Who scores: the judge, unless the judge defends one of the ideas at stake (`owners`); then a seeded pick
    among the panellists defending none of them ("" when there is no one)."""
    if judge not in owners:
        return judge
    others = [p for p in dict.fromkeys(panel) if p != judge and p not in owners]
    return rng_for(seed, f"stand-in/{key}").choice(others) if others else ""


def decided(first: str, second: str) -> str | None:
    """The winner of a match asked in both orders, or None (a tie) when the two answers disagree."""
    return first if first == second else None


def idea_block(label: str, idea: Mapping[str, Any], status: str, examined: bool, critiques: Sequence[Mapping[str, Any]],
               pattern: re.Pattern[str] | None, *, excerpts: int = 2) -> str:
    """One idea as the judge reads it: label, title, claim, status, how examined, and a few critique excerpts —
    no ids, no names."""
    head = f"[{label}] {scrub(idea.get('title', ''), pattern)}: {scrub(idea.get('text', ''), pattern)}"
    state = status.replace("_", " ") + ("" if examined else
                                        ", UNEXAMINED (too few critics reached it, or no juror ruled its critiques)")
    lines = [head, f"  status: {state}; critiques received: {len(critiques)}"]
    # Attacks first: what a critic found wrong says more about an idea than a support.
    ranked = sorted(critiques, key=lambda c: (c.get("data") or {}).get("critique_kind") == "support")
    for c in ranked[:excerpts]:
        kind = (c.get("data") or {}).get("critique_kind", c.get("title", "critique"))
        lines.append(f"  - {str(kind).replace('_', ' ')}: {scrub(c.get('text', ''), pattern)[:200]}")
    return "\n".join(lines)


def panels(ideas: Sequence[Mapping[str, Any]], owners: Mapping[str, str], judge: str, panel: Sequence[str],
           seed: int, rnd: int) -> dict[str, list[Mapping[str, Any]]]:
    """scorer → the ideas it scores: the judge, except for ideas it defends (a stand-in scores those)."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for n in ideas:
        scorer = impartial(judge, {owners[n["id"]]}, panel, seed, f"r{rnd}/{n['id']}")
        if scorer:
            groups.setdefault(scorer, []).append(n)
    return groups


def sheet(group: Sequence[Mapping[str, Any]], status: Mapping[str, str], examined: Mapping[str, bool],
          against: Mapping[str, Sequence[Mapping[str, Any]]], pattern: re.Pattern[str] | None, seed: int,
          key: str) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """What one scorer reads: (label → idea id, the labels in this call's shuffled order, label → blind block)."""
    labels = labels_for([n["id"] for n in group], seed, key)
    by_id = {n["id"]: n for n in group}
    order = shuffled(list(labels), seed, f"{key}/order")
    blocks = {lab: idea_block(lab, by_id[i], status[i], examined[i], against.get(i, []), pattern)
              for lab, i in labels.items()}
    return labels, order, blocks
