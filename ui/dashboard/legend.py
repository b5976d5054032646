"""The map's legend drawn as shapes (inline SVG): one sample per node kind, status colour and edge style, with the
same shapes and colours as the canvas. Pure: returns the SVG text (all of it made here, no model text in it)."""

from __future__ import annotations

from typing import Iterable

from gauntlet.ui.dashboard.graph_view import DASHED_EDGES, EDGE_COLOURS, KIND_SHAPES, STATUS_COLOURS, STATUS_WORDS

_GREY = "#8c8c8c"
# Each Cytoscape shape as SVG inside a 16 × 16 box.
_SHAPES = {
    "round-rectangle": '<rect x="1" y="3" width="14" height="10" rx="3"/>',
    "ellipse": '<ellipse cx="8" cy="8" rx="7" ry="6"/>',
    "triangle": '<polygon points="8,1 15,15 1,15"/>',
    "diamond": '<polygon points="8,1 15,8 8,15 1,8"/>',
    "star": '<polygon points="8,1 9.8,6 15,6 10.8,9.2 12.4,14.5 8,11.3 3.6,14.5 5.2,9.2 1,6 6.2,6"/>',
    "hexagon": '<polygon points="4,2 12,2 15,8 12,14 4,14 1,8"/>',
    "tag": '<polygon points="1,2 11,2 15,8 11,14 1,14"/>',
    "vee": '<polygon points="1,2 8,7 15,2 8,15"/>',
    "barrel": '<rect x="2" y="2" width="12" height="12" rx="5" ry="2"/>',
    "round-diamond": '<polygon points="8,1 15,8 8,15 1,8" stroke-linejoin="round" stroke-width="2"/>',
    "rhomboid": '<polygon points="5,2 15,2 11,14 1,14"/>',
}


def _item(x: float, shape_svg: str, fill: str, text: str) -> tuple[str, float]:
    width = 22 + 6.4 * len(text)
    return (f'<g transform="translate({x:.0f},2)"><g fill="{fill}" stroke="#444" stroke-width="0.6">{shape_svg}'
            f'</g><text x="20" y="12.5" font-size="12" fill="#222">{text}</text></g>', width + 12)


def _edge(x: float, colour: str, dashed: bool, text: str) -> tuple[str, float]:
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    width = 34 + 6.4 * len(text)
    return (f'<g transform="translate({x:.0f},2)"><line x1="0" y1="8" x2="22" y2="8" stroke="{colour}" '
            f'stroke-width="2"{dash}/><polygon points="22,4 28,8 22,12" fill="{colour}"/>'
            f'<text x="32" y="12.5" font-size="12" fill="#222">{text}</text></g>', width + 12)


def legend_svg(kinds: Iterable[str], colour_by: str = "status") -> str:
    """Three rows: shapes of the kinds present, the colour scale, the edge styles."""
    rows: list[tuple[str, list[str]]] = []
    x, parts = 0.0, []
    for k in [k for k in KIND_SHAPES if k in set(kinds)]:
        svg, w = _item(x, _SHAPES[KIND_SHAPES[k]], _GREY, k.replace("_", " "))
        parts.append(svg)
        x += w
    rows.append(("shape", parts))
    x, parts = 0.0, []
    if colour_by == "strength":
        scale = [("#d64545", "strength 0"), ("#e0a526", "0.5"), ("#2e9d4f", "1"), ("#9e9e9e", "unknown")]
    else:
        scale = [(STATUS_COLOURS[s], STATUS_WORDS[s]) for s in STATUS_COLOURS]
    for colour, word in scale:
        svg, w = _item(x, _SHAPES["ellipse"], colour, word)
        parts.append(svg)
        x += w
    rows.append(("colour", parts))
    x, parts = 0.0, []
    for kind, colour in EDGE_COLOURS.items():
        svg, w = _edge(x, colour, False, kind)
        parts.append(svg)
        x += w
    for kind, colour in DASHED_EDGES.items():
        svg, w = _edge(x, colour, True, kind)
        parts.append(svg)
        x += w
    rows.append(("edge", parts))
    body = "".join(f'<g transform="translate(0,{22 * r})"><text x="0" y="14.5" font-size="12" font-weight="600" '
                   f'fill="#555">{label}</text><g transform="translate(58,0)">{"".join(p)}</g></g>'
                   for r, (label, p) in enumerate(rows))
    return (f'<svg class="gt-legend" role="img" aria-label="legend" xmlns="http://www.w3.org/2000/svg" '
            f'width="100%" height="{22 * len(rows) + 4}" style="font-family:sans-serif">{body}</svg>')
