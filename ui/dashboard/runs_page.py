"""Runs page: every run in the store, newest first, with a shareable link to each."""

from __future__ import annotations

import time

import streamlit as st

from gauntlet.ui.dashboard import data, state
from gauntlet.ui.dashboard.safe import plain


def render(db: str) -> None:
    st.title("Gauntlet runs")
    rows = data.runs_rows(db)
    if not rows:
        _offer_examples(db)
        return
    table = [{"open": state.run_link(r["run_id"]), "run": r["run_id"], "topic": plain(r["topic"], 140),
              "date": time.strftime("%Y-%m-%d %H:%M", time.localtime(r["created"])), "status": r["status"],
              "protocol": r["protocol"], "panel": r["panel"], "standing": r["standing"],
              "shot down": r["shot_down"], "undecided": r["undecided"], "forked from": r["parent"]}
             for r in rows]
    # Dataframe cells are text, never HTML: topics typed by users or models render inert.
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"open": st.column_config.LinkColumn("open", display_text="open")})
    choice = st.selectbox("Run", [r["run_id"] for r in rows], key="runs_pick",
                          format_func=lambda rid: f"{rid} — {plain(next(r['topic'] for r in rows if r['run_id'] == rid), 80)}")
    if st.button("Open run", key="runs_open"):
        state.open_run(choice)
        st.rerun()


def _offer_examples(db: str) -> None:
    """An empty database: offer the saved example debates, so a first look costs seconds, not a model run."""
    from gauntlet.ui import examples
    files = examples.example_files()
    st.info("No runs in this database yet. Start one with `gauntlet run runs/configs/demo.yaml`"
            + (f", or load the {len(files)} example debates saved in runs/examples." if files else "."))
    if not files:
        return
    st.caption("Examples: " + ", ".join(f.name.removesuffix(examples.SUFFIX) for f in files))
    if st.button(f"Load the {len(files)} example debates", key="runs_load_examples", type="primary"):
        with st.spinner("Importing the examples…"):
            examples.load_examples(data.store_for(db))
        st.cache_data.clear()  # the runs list is cached per database
        st.rerun()
