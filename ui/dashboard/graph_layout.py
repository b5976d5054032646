"""Where each node of the argument map sits: ideas as roots, what answers them below (a forest), laid out here.

Edges point from the answering node to what it answers (critique → idea, ruling → critique, formal result →
claim), so the tree is found by a breadth-first walk from the ideas against the edges' direction. Each idea's tree
is drawn tidy (leaves side by side, a parent centred over its children) and the trees are packed into rows, so a
run of 50 ideas reads as a page of small trees rather than one very wide strip. Positions are computed here, not
in the browser: the layout is the same on every machine, costs O(nodes + edges), and tests can check it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable

X_STEP = 130.0  # px between neighbouring leaves (a two-line label of ~30 characters fits)
Y_STEP = 95.0  # px between levels
ROW_GAP = 60.0  # px between two rows of trees


@dataclass
class Forest:
    """Each node's parent (None for a root), depth below its idea, and the idea it hangs under (None: orphan)."""

    parent: dict[str, str | None] = field(default_factory=dict)
    depth: dict[str, int] = field(default_factory=dict)
    root: dict[str, str | None] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)

    def subtree_size(self, node_id: str) -> int:
        """How many nodes hang below `node_id` (itself excluded)."""
        total, stack = 0, list(self.children.get(node_id, []))
        while stack:
            n = stack.pop()
            total += 1
            stack.extend(self.children.get(n, []))
        return total


def build_forest(roots: Iterable[str], node_ids: Iterable[str], edges: Iterable[tuple[str, str, str]],
                 order: dict[str, int]) -> Forest:
    """Breadth-first from every root at once (depth 0), walking edges from their target to their source.

    `order` (a node's log position) decides the order of siblings, so trees are stable between reruns. A node no
    idea reaches (a judgement, a note on nothing) is an orphan: its own root, with `root` None.
    """
    answered_by: dict[str, list[str]] = {}
    for src, dst, _kind in edges:
        answered_by.setdefault(dst, []).append(src)
    forest = Forest()
    frontier = sorted(set(roots), key=lambda n: order.get(n, 0))
    for r in frontier:
        forest.parent[r], forest.depth[r], forest.root[r] = None, 0, r
        forest.children[r] = []
    while frontier:
        nxt: list[str] = []
        for node in frontier:
            for child in sorted(answered_by.get(node, ()), key=lambda n: order.get(n, 0)):
                if child in forest.depth:
                    continue
                forest.parent[child], forest.depth[child] = node, forest.depth[node] + 1
                forest.root[child] = forest.root[node]
                forest.children[child] = []
                forest.children[node].append(child)
                nxt.append(child)
        frontier = nxt
    for n in node_ids:
        if n not in forest.depth:
            forest.parent[n], forest.depth[n], forest.root[n] = None, 0, None
            forest.children.setdefault(n, [])
    return forest


def _tidy(tree_root: str, children: dict[str, list[str]], shown: set[str]) -> tuple[dict[str, tuple[float, int]], int]:
    """(slot x and depth per node of one tree, its width in leaf slots): leaves left to right, parents centred.

    Iterative post-order: a chain of rebuttals to rebuttals can be hundreds deep, past Python's recursion limit."""
    placed: dict[str, tuple[float, int]] = {}
    next_leaf = 0
    stack: list[tuple[str, int, bool]] = [(tree_root, 0, False)]
    while stack:
        node, depth, expanded = stack.pop()
        kids = [c for c in children.get(node, []) if c in shown]
        if not kids:
            placed[node] = (float(next_leaf), depth)
            next_leaf += 1
        elif expanded:
            placed[node] = ((placed[kids[0]][0] + placed[kids[-1]][0]) / 2, depth)
        else:
            stack.append((node, depth, True))
            stack.extend((c, depth + 1, False) for c in reversed(kids))
    return placed, max(next_leaf, 1)


def _pack(trees: list[tuple[int, int]], row_width: int) -> tuple[list[tuple[int, int]], float, float]:
    """Rows for trees of (width, depth) packed left to right: each tree's (slot, row), and the map's width and
    height in px."""
    places, x0, row, widest = [], 0, 0, 0
    row_depths = [0]
    for width, depth in trees:
        if x0 and x0 + width > row_width:
            row, x0 = row + 1, 0
            row_depths.append(0)
        places.append((x0, row))
        x0 += width
        widest = max(widest, x0)
        row_depths[row] = max(row_depths[row], depth)
    height = sum((d + 1) * Y_STEP for d in row_depths) + ROW_GAP * (len(row_depths) - 1)
    return places, widest * X_STEP, height


def positions(forest: Forest, shown: list[str], aspect: float = 1.4) -> dict[str, dict[str, float]]:
    """{node id: {x, y}} for the nodes in `shown` (in the order their trees should appear).

    Trees are packed into rows; the row width is the one whose whole map is closest to `aspect` (width / height;
    a little narrower than the graph panel, so the fitted map leaves room at the sides). A tree wider than a row
    gets a row of its own.
    """
    shown_set = set(shown)
    trees: list[tuple[dict[str, tuple[float, int]], int]] = []
    for node in shown:
        parent = forest.parent.get(node)
        if parent is not None and parent in shown_set:
            continue  # drawn inside its parent's tree
        trees.append(_tidy(node, forest.children, shown_set))
    sizes = [(width, max(d for _, d in placed.values())) for placed, width in trees]
    total = sum(w for w, _ in sizes) or 1
    best: tuple[float, list[tuple[int, int]]] | None = None
    # Candidate widths on a geometric grid: the packing is O(trees), so trying ~30 widths stays cheap.
    width, widths = max(w for w, _ in sizes) if sizes else 1, []
    while width < total:
        widths.append(width)
        width = max(width + 1, int(width * 1.2))
    for w in widths + [total]:
        places, map_w, map_h = _pack(sizes, w)
        score = abs(math.log(max(map_w, X_STEP) / max(map_h, Y_STEP) / aspect))
        if best is None or score < best[0]:
            best = (score, places)
    places = best[1] if best else []
    row_tops: dict[int, float] = {}
    row_depth: dict[int, int] = {}
    for (_, row), (_, depth) in zip(places, sizes):
        row_depth[row] = max(row_depth.get(row, 0), depth)
    top = 0.0
    for row in sorted(row_depth):
        row_tops[row] = top
        top += (row_depth[row] + 1) * Y_STEP + ROW_GAP
    out: dict[str, dict[str, float]] = {}
    for (placed, _), (x0, row) in zip(trees, places):
        for node, (slot, depth) in placed.items():
            out[node] = {"x": round((x0 + slot) * X_STEP, 1), "y": round(row_tops[row] + depth * Y_STEP, 1)}
    return out
