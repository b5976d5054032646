"""Cheap text features of an anchored critique, computed the same way by the rulings eval and a debate's vote.

Each uses only what a debate has (the proposal's text, the critique, the words it anchors on, the author's reply)
and the local MiniLM encoder (agents/embeddings.py):
- `similarity`: cos(proposal, critique) — a critique written for another proposal tends to sit further away;
- `sim_anchor`: cos(anchor, critique);
- `anchor_focus`: cos(critique, the anchor's sentence) - max cos(critique, any other sentence of the proposal) —
  a critique the proposal answers elsewhere sits closer to that other sentence;
- `sim_reply`: cos(reply, critique), 0 without a reply; `has_reply`: 1.0 when the author replied.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

TEXT_FEATURES = ("similarity", "sim_anchor", "anchor_focus", "sim_reply", "has_reply")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def anchor_sentences(proposal: str, anchor: str) -> tuple[list[str], list[str]]:
    """(the proposal's sentences that hold the anchor, the others). An anchor that spans sentences or is not
    verbatim matches the sentences sharing its first words, failing that the first sentence."""
    parts = sentences(proposal) or [proposal]
    key = " ".join(anchor.split()).lower()
    held = [s for s in parts if key and key in " ".join(s.split()).lower()]
    if not held:
        head = " ".join(key.split()[:4])
        held = [s for s in parts if head and head in " ".join(s.split()).lower()] or parts[:1]
    return held, [s for s in parts if s not in held]


def text_features(items: Sequence[tuple[str, str, str, str]], encode) -> list[dict[str, float]]:
    """Per (proposal, critique, anchor, reply): the `TEXT_FEATURES`. `encode(texts)` returns unit vectors."""
    texts: list[str] = []
    for proposal, critique, anchor, reply in items:
        texts += [proposal, critique, anchor, reply, *sentences(proposal)]
    unique = list(dict.fromkeys(t for t in texts if t.strip()))
    vec = dict(zip(unique, encode(unique))) if unique else {}

    def cos(a: str, b: str) -> float:
        return float(np.dot(vec[a], vec[b])) if a.strip() and b.strip() else 0.0

    out = []
    for proposal, critique, anchor, reply in items:
        held, rest = anchor_sentences(proposal, anchor)
        near = max((cos(s, critique) for s in held), default=0.0)
        other = max((cos(s, critique) for s in rest), default=near)
        out.append({"similarity": cos(proposal, critique), "sim_anchor": cos(anchor, critique),
                    "anchor_focus": near - other, "sim_reply": cos(reply, critique),
                    "has_reply": 1.0 if reply.strip() else 0.0})
    return out


def minilm_features(items: Sequence[tuple[str, str, str, str]]) -> list[dict[str, float]] | None:
    """`text_features` with the local MiniLM; None when it is not installed (a vote then cannot use them)."""
    from gauntlet.agents import embeddings

    if not items:
        return []
    if not embeddings.available():
        return None
    return text_features(items, embeddings.encoder().encode)
