"""A critique in the inspector: its anchor highlighted inside the target's text, its flaw, severity, the sources it
cites, and its ruling with every juror's vote and probability. The highlight is computed by a pure function so
tests can check it."""

from __future__ import annotations

from typing import Any

import streamlit as st

from gauntlet.graphs.argument.anchors import locate
from gauntlet.payloads import CritiqueData, RulingData, node_data
from gauntlet.ui.dashboard import evidence, evidence_panel, marks
from gauntlet.ui.dashboard.data import RunView
from gauntlet.ui.dashboard.safe import md_escape


def _inert(text: str) -> str:
    # Inside a Streamlit colour directive a bracket would close it early.
    return md_escape(text).replace("[", "\\[").replace("]", "\\]")


def highlighted(target_text: str, anchor: str) -> str:
    """Markdown of the target's text with the anchored words on an orange background (all of it escaped);
    the text unmarked when the anchor is not in it."""
    found = locate(anchor, target_text) if anchor else None
    if not found or found.match == "none":
        return _inert(target_text)
    return (_inert(target_text[:found.start]) + ":orange-background[" + _inert(target_text[found.start:found.end])
            + "]" + _inert(target_text[found.end:]))


def ruling_of(view: RunView, critique_id: str) -> RulingData | None:
    rulings = [n for n in view.nodes.values() if n["kind"] == "ruling" and n["data"].get("critique") == critique_id]
    return node_data("ruling", max(rulings, key=lambda n: n["seq"])["data"]) if rulings else None  # type: ignore


def render(view: RunView, node: dict[str, Any]) -> None:
    if "severity" not in node["data"]:
        return  # a critique from before anchored critiques: nothing to show here
    data = node_data("critique", node["data"])
    assert isinstance(data, CritiqueData)
    target = view.nodes.get(data.target)
    if target is None:
        return
    ruling = ruling_of(view, node["id"])
    if data.unanchored:
        st.markdown("**Unanchored comment**: its quote is not in the target's text, so it attacks nothing.")
    st.markdown(f"**{md_escape(data.flaw_type or '')}** · severity **{md_escape(data.severity or '')}**"
                f" · ruling **{md_escape(ruling.outcome if ruling else 'pending')}**"
                + (f" · failed check `{md_escape(data.failed_check)}`" if data.failed_check else "")
                + (f" · anchor {data.anchor_match}" if data.anchor_match != "exact" else ""))
    evidence_panel.html(f"<b>Quoted in</b> {marks.ref(view, target['id'], 80)}:")
    st.markdown(highlighted(target["text"], data.anchor))
    evidence_panel.html(evidence_panel.cites_html([c for c in node["data"].get("cites") or [] if isinstance(c, dict)]))
    full = evidence.ruling_for(view, node["id"])
    if full:
        evidence_panel.html(evidence_panel.ruling_html(full))
