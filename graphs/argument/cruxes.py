"""Cruxes at scale: which nodes, if their label were flipped (accepted ↔ rejected, by pinning), would change the
status of an idea — without one full grounded run per node.

Grounded semantics is directional: pinning x changes only the labels of x's descendants D(x) (nodes x reaches by
attacks). So each candidate is decided on D(x) alone, with the attackers of D(x) from outside held at their
current labels (in, out, or undecided, which neither defeats nor admits), and only when D(x) contains an idea.
Candidates are the nodes with an attack path to an idea. On debate graphs, where D(x) is a small part of the
graph, this is ~|graph|/|D(x)| times cheaper than recomputing everything per node.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from gauntlet.graphs.argument.framework import ancestors
from gauntlet.graphs.argument.semantics import IN, OUT, UNDEC, grounded_labels


def flips(n: int, src: np.ndarray, dst: np.ndarray, pin_in: np.ndarray, pin_out: np.ndarray,
          ideas: Iterable[int]) -> dict[int, tuple[int, dict[int, int]]]:
    """{candidate: (its flipped label, {idea: new label})} for every candidate whose flip changes some idea.
    Positions are 0..n-1; pins keep their labels and are never candidates."""
    ideas = np.unique(np.asarray(list(ideas), dtype=np.int64))
    base = grounded_labels(n, src, dst, pin_in, pin_out)
    if ideas.size == 0:
        return {}
    pinned = np.zeros(n, dtype=bool)
    pinned[pin_in] = True
    pinned[pin_out] = True
    # Attacks on pinned nodes and from pinned-out nodes carry nothing: drop them once.
    live = ~pinned[dst] & ~np.isin(src, pin_out)
    src, dst = src[live], dst[live]
    targets: list[list[int]] = [[] for _ in range(n)]
    attackers: list[list[int]] = [[] for _ in range(n)]
    for a, b in zip(src.tolist(), dst.tolist()):
        targets[a].append(b)
        attackers[b].append(a)
    is_idea = np.zeros(n, dtype=bool)
    is_idea[ideas] = True
    out: dict[int, tuple[int, dict[int, int]]] = {}
    for x in ancestors(n, src, dst, ideas).tolist():
        if pinned[x]:
            continue
        flipped = OUT if base[x] == IN else IN
        down = _descendants(x, targets)
        if not any(is_idea[d] and d != x for d in down):
            continue
        new = _relabel(x, flipped, down, attackers, base, pinned)
        changed = {d: lab for d, lab in new.items() if is_idea[d] and d != x and lab != base[d]}
        if changed:
            out[x] = (flipped, changed)
    return out


def _descendants(x: int, targets: list[list[int]]) -> list[int]:
    seen, stack = {x}, [x]
    while stack:
        for t in targets[stack.pop()]:
            if t not in seen:
                seen.add(t)
                stack.append(t)
    return list(seen)


def _relabel(x: int, flipped: int, down: list[int], attackers: list[list[int]], base: np.ndarray,
             pinned: np.ndarray) -> dict[int, int]:
    """Grounded labels of `down` with x pinned to `flipped` and everything outside held at its base label."""
    local = {d: i for i, d in enumerate(down)}
    boundary: dict[int, int] = {}
    src, dst = [], []
    for d in down:
        for a in attackers[d]:
            if a not in local:
                a_local = boundary.setdefault(a, len(down) + len(boundary))
            else:
                a_local = local[a]
            src.append(a_local)
            dst.append(local[d])
    held = {IN: [], OUT: [], UNDEC: []}
    for a, i in boundary.items():
        held[int(base[a])].append(i)
    for d in down:
        if pinned[d]:
            held[int(base[d])].append(local[d])
    held[flipped].append(local[x])
    labels = grounded_labels(len(down) + len(boundary), np.asarray(src, np.int64), np.asarray(dst, np.int64),
                             np.asarray(held[IN], np.int64), np.asarray(held[OUT], np.int64),
                             np.asarray(held[UNDEC], np.int64))
    return {d: int(labels[local[d]]) for d in down}
