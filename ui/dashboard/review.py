"""Human review: anchored comments and overrides. The only place (besides forking) where the dashboard writes."""

from __future__ import annotations

import json

import streamlit as st

from gauntlet.errors import InputError
from gauntlet.graphs.store.export import render as export_render
from gauntlet.graphs.store.views import load_graph, run_record
from gauntlet.ui.dashboard import data

VERDICTS = {"idea": ("accepted", "rejected")}  # everything else is judged valid / invalid


def verdicts_for(kind: str) -> tuple[str, str]:
    return VERDICTS.get(kind, ("valid", "invalid"))


def render(db: str, run_id: str, node_id: str, kind: str) -> None:
    st.markdown(f"**Review node `{node_id}`**")
    with st.form(key="review_form", clear_on_submit=True):
        text = st.text_area("Comment", key="review_text")
        choice = st.radio("Override", ("none", *verdicts_for(kind)), horizontal=True, key="review_verdict",
                          help="An override pins this node's label; the semantics then propagate from it.")
        author = st.text_input("Reviewer", value="reviewer", key="review_author")
        saved = st.form_submit_button("Save review")
    if saved:
        store = data.store_for(db)
        try:
            if choice != "none":
                store.annotate(run_id, node_id, text=text, kind="override", verdict=choice, author=author)
            elif text.strip():
                store.annotate(run_id, node_id, text=text, kind="comment", author=author)
            else:
                st.warning("Nothing to save: write a comment or pick an override.")
                return
        except InputError as exc:
            st.error(exc.one_line())
            return
        st.success("Saved.")
        st.rerun()  # the review revision is in the cache key: the graph recomputes with the new pin


def export_buttons(db: str, run_id: str) -> None:
    store = data.store_for(db)
    notes = [{"node_id": a.node_id, "kind": a.kind, "verdict": a.verdict, "text": a.text, "author": a.author,
              "created": a.created} for a in store.annotations(run_id)]
    st.download_button("Export reviews (JSON)", json.dumps(notes, indent=2, ensure_ascii=False),
                       file_name=f"{run_id}-reviews.json", mime="application/json", key="export_reviews")
    # The full export walks the whole graph: only on request, so opening a large run stays fast.
    if st.toggle("Prepare full export (Markdown, with reviews)", key="export_prepare"):
        st.download_button("Export run (Markdown)",
                           export_render("markdown", run_record(store, run_id), load_graph(store, run_id)),
                           file_name=f"{run_id}.md", mime="text/markdown", key="export_md")
