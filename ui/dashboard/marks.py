"""Small pieces of HTML the dashboard shows where a person reads: status badges and references to nodes.

A status is a coloured text badge (CSS), never an emoji, so it looks the same on a server without an emoji font.
A reference to a node shows who wrote it and its first words, with the id on hover, never the id alone.

This is the one module that builds HTML for `unsafe_allow_html`: every piece of text in it passes through
`html.escape` (quotes included, since some go into attributes), so model text stays text.
"""

from __future__ import annotations

import html
from typing import Any

from gauntlet.ui.dashboard.data import RunView
from gauntlet.ui.dashboard.safe import plain

STATUS_STYLE = {"standing": ("#2e9d4f", "standing"), "shot_down": ("#d64545", "shot down"),
                "undecided": ("#b8860b", "undecided")}
SEVERITY_COLOURS = {"fatal": "#b71c1c", "major": "#d9822b", "minor": "#7a7a7a"}
OUTCOME_COLOURS = {"sustained": "#d64545", "overruled": "#2e9d4f", "contested": "#b8860b", "pending": "#7a7a7a"}


def esc(text: Any) -> str:
    return html.escape(str(text if text is not None else ""), quote=True)


def pill(text: str, colour: str, title: str = "") -> str:
    """A rounded, coloured badge with white text."""
    hover = f' title="{esc(title)}"' if title else ""
    return (f'<span class="gt-badge"{hover} style="background:{esc(colour)};color:#fff;border-radius:0.7em;'
            f'padding:0.08em 0.55em;font-size:0.82em;font-weight:600;white-space:nowrap">{esc(text)}</span>')


def status_badge(status: str) -> str:
    colour, word = STATUS_STYLE.get(status, ("#7a7a7a", status.replace("_", " ")))
    return pill(word, colour)


def status_word(status: str) -> str:
    return STATUS_STYLE.get(status, ("", status.replace("_", " ")))[1]


def severity_badge(severity: str | None) -> str:
    return pill(severity or "no severity", SEVERITY_COLOURS.get(severity or "", "#7a7a7a"))


def outcome_badge(outcome: str | None) -> str:
    return pill(outcome or "pending", OUTCOME_COLOURS.get(outcome or "pending", "#7a7a7a"))


def describe(view: RunView, node_id: str, limit: int = 70) -> str:
    """Plain text for a node a person reads about: `persona: “first words…”` (a ruling: its outcome and the
    critique it rules on). Unknown ids stay ids: there is nothing else to show."""
    node = view.nodes.get(node_id)
    if node is None:
        return node_id
    if node["kind"] == "ruling":
        outcome = node["data"].get("outcome", "ruling")
        on = node["data"].get("critique")
        return f"{outcome} ruling on " + (describe(view, on, limit) if on else "?")
    words = plain(node["text"] or node["title"], limit) if node["kind"] != "idea" else plain(
        node["title"] or node["text"], limit)
    who = node["persona"] or ("reviewer" if node["kind"] == "human_note" else node["kind"].replace("_", " "))
    return f"{who}: “{words}”"


def ref(view: RunView, node_id: str, limit: int = 70) -> str:
    """`describe` as HTML with the node's id on hover."""
    return (f'<span title="{esc(node_id)}" style="border-bottom:1px dotted #999">'
            f"{esc(describe(view, node_id, limit))}</span>")


def refs(view: RunView, node_ids: list[str], limit: int = 70) -> str:
    return "; ".join(ref(view, n, limit) for n in node_ids)


def link(url: str, text: str) -> str:
    """A link only to http(s) addresses (a cited source); anything else is shown as text."""
    if url.startswith(("https://", "http://")):
        return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{esc(text)}</a>'
    return esc(text)
