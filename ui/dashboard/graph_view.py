"""The argument map as Cytoscape elements: a pure function of a RunView and the filters (no Streamlit here).

Colour says status (what the semantics decided), shape says kind, and every node carries a short label drawn on
the canvas (`_label`: title or first words, length-capped). Positions come from `graph_layout` (ideas as roots,
what answers them below). Fields the component's info panel shows are HTML-escaped first, because that panel turns
`<a href>` in values into links; the canvas label is drawn as text and needs no escaping.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Iterable

from gauntlet.ui.dashboard import graph_layout
from gauntlet.ui.dashboard.data import RunView
from gauntlet.ui.dashboard.safe import plain

STATUS_COLOURS = {"standing": "#2e9d4f", "shot_down": "#d64545", "undecided": "#e0a526"}
STATUS_WORDS = {"standing": "standing", "shot_down": "shot down", "undecided": "undecided"}
KIND_SHAPES = {"idea": "round-rectangle", "claim": "ellipse", "critique": "triangle", "rebuttal": "diamond",
               "judgement": "star", "formal_result": "hexagon", "human_note": "tag", "ruling": "vee",
               "toy_case": "barrel", "intuition": "round-diamond", "match": "rhomboid"}
EDGE_COLOURS = {"attacks": "#d64545", "supports": "#2e9d4f", "refines": "#4a6fd6", "formalises": "#8a5cc2"}
# Attacks that do not count (overruled, pending, minor) and unanchored comments, drawn dashed.
DASHED_EDGES = {"attack (not counted)": "#d69a9a", "answers": "#999999"}
MAX_DRAWN = 1500  # a browser canvas stays responsive up to about this many; the filters narrow larger runs
LABEL_MAX = 30  # characters of a node's canvas label (two lines under the shape)
# Kinds whose title is a category word ("counterexample", "concede"): their first words say more.
_TEXT_FIRST = {"critique", "claim", "rebuttal", "human_note", "toy_case", "intuition"}
DEPTHS = {"ideas only": 0, "ideas + critiques and claims": 1, "everything": None}


@dataclass
class Filters:
    personas: list[str] = field(default_factory=list)  # empty = all
    rounds: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)  # ideas' statuses; their trees come with them
    collapse: bool = False  # hide what hangs under shot-down ideas and overruled critiques
    depth: int | None = None  # levels below the ideas to draw (None: all)
    colour_by: str = "status"  # or "strength": graded DF-QuAD strength, red 0 → green 1

    def keep(self, node: dict[str, Any]) -> bool:
        return ((not self.personas or node["persona"] in self.personas)
                and (not self.rounds or node["round"] in self.rounds)
                and (not self.kinds or node["kind"] in self.kinds))


def label_text(text: str, limit: int = 48) -> str:
    return html.escape(plain(text, limit), quote=False)


def node_label(node: dict[str, Any], limit: int = LABEL_MAX) -> str:
    """The words drawn under a node: its title, or for critiques, claims and rebuttals its first words."""
    title, text = plain(node.get("title") or ""), plain(node.get("text") or "")
    if node["kind"] == "ruling":
        outcome = (node.get("data") or {}).get("outcome") or title
        return plain(f"ruling: {outcome}", limit)
    first = (text or title) if node["kind"] in _TEXT_FIRST else (title or text)
    return plain(first or node["kind"].replace("_", " "), limit)


def forest_of(view: RunView) -> graph_layout.Forest:
    order = {n: v["seq"] for n, v in view.nodes.items()}
    ideas = [n for n, v in view.nodes.items() if v["kind"] == "idea"]
    return graph_layout.build_forest(ideas, view.nodes, view.edges, order)


def ruled_out(view: RunView) -> set[str]:
    """Nodes whose branch is settled against them: shot-down ideas and critiques whose last ruling overruled them."""
    out = {n for n, v in view.nodes.items() if v["kind"] == "idea" and v["status"] == "shot_down"}
    last: dict[str, tuple[int, str]] = {}
    for v in view.nodes.values():
        if v["kind"] == "ruling" and v["data"].get("critique"):
            c = v["data"]["critique"]
            if c not in last or v["seq"] > last[c][0]:
                last[c] = (v["seq"], v["data"].get("outcome", ""))
    return out | {c for c, (_, outcome) in last.items() if outcome == "overruled"}


def visible_nodes(view: RunView, filters: Filters, limit: int = MAX_DRAWN,
                  forest: graph_layout.Forest | None = None) -> tuple[list[dict[str, Any]], int]:
    """(nodes to draw, how many matched): ideas first, then by depth below them and log order, so a capped view
    keeps the top of every tree."""
    forest = forest or forest_of(view)
    hidden_under = _collapsed_away(view, forest) if filters.collapse else set()
    matched = []
    for n in view.nodes.values():
        root = forest.root.get(n["id"])
        if not filters.keep(n) or n["id"] in hidden_under:
            continue
        if filters.statuses and (root is None or view.nodes[root]["status"] not in filters.statuses):
            continue
        if filters.depth is not None and root is not None and forest.depth[n["id"]] > filters.depth:
            continue
        matched.append(n)
    matched.sort(key=lambda n: (n["kind"] != "idea", forest.depth.get(n["id"], 0), n["seq"]))
    return matched[:limit], len(matched)


def _collapsed_away(view: RunView, forest: graph_layout.Forest) -> set[str]:
    away: set[str] = set()
    for node in ruled_out(view):
        stack = list(forest.children.get(node, []))
        while stack:
            n = stack.pop()
            away.add(n)
            stack.extend(forest.children.get(n, []))
    return away


def elements(view: RunView, filters: Filters, limit: int = MAX_DRAWN) -> dict[str, list[dict[str, Any]]]:
    return draw(view, filters, limit)[0]


def draw(view: RunView, filters: Filters, limit: int = MAX_DRAWN) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """(Cytoscape elements, how many nodes matched the filters before the cap): the tree is walked once."""
    forest = forest_of(view)
    nodes, matched = visible_nodes(view, filters, limit, forest)
    shown = {n["id"] for n in nodes}
    # Trees in the ideas' ranking (standing first), then orphans: the map reads top-left to bottom-right.
    rank = {i["id"]: k for k, i in enumerate(view.ideas)}
    ordered = sorted(nodes, key=lambda n: (rank.get(forest.root.get(n["id"]) or "", len(rank)),
                                           forest.depth.get(n["id"], 0), n["seq"]))
    pos = graph_layout.positions(forest, [n["id"] for n in ordered])
    collapsed = ruled_out(view) if filters.collapse else set()
    out_nodes = []
    for n in ordered:
        label = node_label(n)
        if n["id"] in collapsed and (hidden := forest.subtree_size(n["id"])):
            label += f" (+{hidden})"
        out_nodes.append({"data": {"id": n["id"], "label": n["kind"], "_label": label,
                                   "name": label_text(n["title"] or n["text"]), "status": n["status"],
                                   "persona": label_text(n["persona"], 40), "round": n["round"],
                                   "strength": n.get("strength"), "_colour": node_colour(n, filters.colour_by)},
                          "position": pos[n["id"]]})
    out_edges = [{"data": {"id": f"{src}|{kind}|{dst}", "source": src, "target": dst,
                           "label": edge_label(view, src, dst, kind)}}
                 for src, dst, kind in view.edges if src in shown and dst in shown]
    return {"nodes": out_nodes, "edges": out_edges}, matched


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
    """(kind, custom styles) per node kind: the shape from the kind, the colour from the node's status, the label
    drawn below it. The component's default hides any label under 10 px on screen (`min-zoomed-font-size`), which
    at its 20-px nodes hid every label: ours are drawn down to 4 px."""
    specs = []
    for k in kinds:
        idea = k == "idea"
        specs.append({"label": k, "caption": "_label",
                      "custom_styles": {"shape": KIND_SHAPES.get(k, "ellipse"), "background-color": "data(_colour)",
                                        "width": 36 if idea else 24, "height": 26 if idea else 24,
                                        "font-size": 13 if idea else 11, "font-weight": "bold" if idea else "normal",
                                        "color": "#1a1a1a", "text-wrap": "wrap", "text-max-width": "118px",
                                        "text-valign": "bottom", "text-margin-y": 3, "min-zoomed-font-size": 5,
                                        "text-background-color": "#ffffff", "text-background-opacity": 0.8,
                                        "text-background-padding": 1}})
    return specs


def edge_style_specs() -> list[dict[str, Any]]:
    """Edges carry colour and dash only: the node labels say what each end is, and kind words on every edge
    would cover them."""
    return ([{"label": k, "color": c, "directed": True, "custom_styles": {"width": 1.5}}
             for k, c in EDGE_COLOURS.items()]
            + [{"label": k, "color": c, "directed": True, "custom_styles": {"width": 1.5, "line-style": "dashed"}}
               for k, c in DASHED_EDGES.items()])


def layout() -> dict[str, Any]:
    # Positions are in the elements (graph_layout): the browser only places and fits them.
    # Padding clears the component's info strip on the left edge.
    return {"name": "preset", "fit": True, "padding": 40, "animate": False}
