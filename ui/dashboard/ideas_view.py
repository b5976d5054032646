"""The Ideas tab: every idea ranked in one table, then the evidence of one idea's verdict.

Wherever a person reads about another node (cruxes, "shot down by", unruled critiques) they see its author and first
words, with the id on hover (`marks`); statuses are coloured text, not emoji.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from gauntlet.ui.dashboard import evidence_panel, marks
from gauntlet.ui.dashboard.data import RunView
from gauntlet.ui.dashboard.safe import plain

STYLED_ROWS = 300  # pandas' Styler costs ~0.3 ms a row; past this the status column is plain words


def table_rows(view: RunView, ideas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per idea, every reference in words."""
    return [{"rank": k, "idea": plain(i["title"], 120),
             "status": marks.status_word(i["status"]) + ("" if i["examined"] else " · unexamined"),
             "strength": i.get("strength"), "critics": len(i["critics"]), "by": i["persona"],
             "defender": i["defender"], "round": i["round"], "score": i["score"], "reviewer": i["override"] or "",
             "shot down by": "; ".join(marks.describe(view, c, 50) for c in i["shot_down_by"]),
             "cruxes": "; ".join(marks.describe(view, c, 50) for c in i["cruxes"]), "id": i["id"]}
            for k, i in enumerate(ideas, 1)]


def _status_cell(value: str) -> str:
    for status, (colour, word) in marks.STATUS_STYLE.items():
        if value.startswith(word):
            return f"color: {colour}; font-weight: 600"
    return ""


def render(view: RunView) -> None:
    if not view.ideas:
        st.info("No ideas yet at this step.")
        return
    if st.radio("Sort ideas by", ["status", "strength"], key="idea_sort", horizontal=True) == "strength":
        ideas = sorted(view.ideas, key=lambda i: -(i.get("strength") if i.get("strength") is not None else -1))
    else:
        ideas = view.ideas
    frame = pd.DataFrame(table_rows(view, ideas))
    st.dataframe(frame.style.map(_status_cell, subset=["status"]) if len(frame) <= STYLED_ROWS else frame,
                 hide_index=True, width="stretch")
    by_id = {i["id"]: i for i in view.ideas}
    pick = st.selectbox("Why this status? Pick an idea", list(by_id), key="idea_pick",
                        format_func=lambda i: f"{plain(by_id[i]['title'] or i, 90)} ({marks.status_word(by_id[i]['status'])})")
    render_idea(view, by_id[pick])


def render_idea(view: RunView, idea: dict[str, Any]) -> None:
    score = "" if idea["score"] is None else f" · judge score {idea['score']:g}"
    pin = f" · reviewer: <b>{marks.esc(idea['override'])}</b> (pinned)" if idea["override"] else ""
    evidence_panel.html(f"<h4 style='margin-bottom:0'>{marks.esc(plain(idea['title'], 200))}</h4>"
                        f"{marks.status_badge(idea['status'])} · by {marks.esc(idea['persona'])} · "
                        f"round {idea['round']}{score}{pin}")
    if idea["cruxes"]:
        evidence_panel.html("<b>Cruxes</b> (flip one and this idea's status flips): "
                            + marks.refs(view, idea["cruxes"], 60))
    if not idea["examined"] and idea.get("unruled") and len(idea["critics"]) >= max(idea["required"], 1):
        evidence_panel.html('<div style="background:#fff8e1;padding:6px 10px;border-radius:4px">'
                            "<b>Unexamined</b>: no juror ruled on its critiques "
                            + marks.refs(view, idea["unruled"], 60) + "; its status rests on no juror's verdict.</div>")
    elif not idea["examined"]:
        st.warning("Unexamined: too few critics reached this idea; it stands only because nobody shot it down.")
    evidence_panel.render(view, idea)
