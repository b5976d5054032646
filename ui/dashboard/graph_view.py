"""The argument graph as Cytoscape elements: a pure function of a RunView and the filters (no Streamlit here).

Colour says status (what the semantics decided), shape says kind; labels are plain, length-capped text — the
component draws them on a canvas, and anything HTML-looking is escaped first because its info panel turns
`<a href>` in values into links.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Iterable

from gauntlet.ui.dashboard.data import RunView
from gauntlet.ui.dashboard.safe import plain

STATUS_COLOURS = {"standing": "#2e9d4f", "shot_down": "#d64545", "undecided": "#e0a526"}
KIND_SHAPES = {"idea": "round-rectangle", "claim": "ellipse", "critique": "triangle", "rebuttal": "diamond",
               "judgement": "star", "formal_result": "hexagon", "human_note": "tag", "ruling": "vee"}
EDGE_COLOURS = {"attacks": "#d64545", "supports": "#2e9d4f", "refines": "#4a6fd6", "formalises": "#8a5cc2"}
# Issue 13: attacks that do not count (overruled, pending, minor) and unanchored comments, drawn dashed.
DASHED_EDGES = {"attack (not counted)": "#d69a9a", "answers": "#999999"}
MAX_DRAWN = 1500  # a browser canvas stays responsive up to about this many; the filters narrow larger runs


@dataclass
class Filters:
    personas: list[str] = field(default_factory=list)  # empty = all
    rounds: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    colour_by: str = "status"  # or "strength": graded DF-QuAD strength, red 0 → green 1

    def keep(self, node: dict[str, Any]) -> bool:
        return ((not self.personas or node["persona"] in self.personas)
                and (not self.rounds or node["round"] in self.rounds)
                and (not self.kinds or node["kind"] in self.kinds))


def label_text(text: str, limit: int = 48) -> str:
    return html.escape(plain(text, limit), quote=False)


def visible_nodes(view: RunView, filters: Filters, limit: int = MAX_DRAWN) -> tuple[list[dict[str, Any]], int]:
    """(nodes to draw, how many matched): ideas first, then in log order, so a capped view keeps what matters."""
    matched = [n for n in view.nodes.values() if filters.keep(n)]
    matched.sort(key=lambda n: (n["kind"] != "idea", n["seq"]))
    return matched[:limit], len(matched)


def elements(view: RunView, filters: Filters, limit: int = MAX_DRAWN) -> dict[str, list[dict[str, Any]]]:
    nodes, _ = visible_nodes(view, filters, limit)
    shown = {n["id"] for n in nodes}
    out_nodes = [{"data": {"id": n["id"], "label": n["kind"],
                           "name": label_text(n["title"] or n["text"]), "status": n["status"],
                           "persona": label_text(n["persona"], 40), "round": n["round"],
                           "strength": n.get("strength"), "_colour": node_colour(n, filters.colour_by)}}
                 for n in nodes]
    out_edges = [{"data": {"id": f"{src}|{kind}|{dst}", "source": src, "target": dst, "label": edge_label(view, src, dst, kind)}}
                 for src, dst, kind in view.edges if src in shown and dst in shown]
    return {"nodes": out_nodes, "edges": out_edges}


def strength_colour(strength: float | None) -> str:
    """Red (0) through amber (0.5) to green (1), the status palette's ends; grey where no strength is known."""
    if strength is None:
        return "#9e9e9e"
    stops = [(0.0, (0xd6, 0x45, 0x45)), (0.5, (0xe0, 0xa5, 0x26)), (1.0, (0x2e, 0x9d, 0x4f))]
    x = min(max(float(strength), 0.0), 1.0)
    (x0, c0), (x1, c1) = (stops[0], stops[1]) if x <= 0.5 else (stops[1], stops[2])
    t = (x - x0) / (x1 - x0)
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(c0, c1))


def node_colour(node: dict[str, Any], colour_by: str) -> str:
    return strength_colour(node.get("strength")) if colour_by == "strength" else STATUS_COLOURS[node["status"]]


def edge_label(view: RunView, src: str, dst: str, kind: str) -> str:
    return "attack (not counted)" if kind == "attacks" and (src, dst) in view.discounted else kind


def node_style_specs(kinds: Iterable[str] = KIND_SHAPES) -> list[dict[str, Any]]:
    """(label, custom styles) per node kind: the shape from the kind, the colour from the node's status."""
    return [{"label": k, "caption": "name",
             "custom_styles": {"shape": KIND_SHAPES.get(k, "ellipse"), "background-color": "data(_colour)",
                               "font-size": 9, "text-wrap": "ellipsis", "text-max-width": 120}}
            for k in kinds]


def layout_for(n_nodes: int) -> str:
    # Force-directed layouts are quadratic per iteration; past a few hundred nodes a grid appears at once.
    return "cose" if n_nodes <= 300 else "grid"
