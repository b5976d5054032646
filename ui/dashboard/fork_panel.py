"""Fork a run from a step with a changed panel or an injected human intervention (graphs/run/fork.py does the work)."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import streamlit as st

from gauntlet.agents.persona import library
from gauntlet.errors import InputError
from gauntlet.ui.dashboard import data, marks, state
from gauntlet.ui.dashboard.data import RunView


@st.cache_resource(show_spinner=False)
def persona_names() -> list[str]:
    return sorted(library())  # parsing the persona cards costs a quarter second: once per server


def continue_in_background(db: str, run_id: str) -> None:
    """`gauntlet resume` as its own process: a debate outlives the page that started it."""
    subprocess.Popen([sys.executable, "-m", "gauntlet.ui.cli", "resume", run_id, "--db", db, "--quiet"],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True)


def render(db: str, run_id: str, view: RunView, step: int, panel: list[str]) -> None:
    st.markdown(f"Fork this run at step **{step}** (the replay slider). The fork copies the log up to the end of "
                "that LangGraph step and continues from its checkpoint with your changes.")
    lib = persona_names()
    with st.form(key="fork_form"):
        drop = st.multiselect("Swap out (drop) personas", panel, key="fork_drop")
        add = st.multiselect("Swap in critics", [p for p in lib if p not in panel], key="fork_add")
        note = st.text_area("Human intervention (optional)", key="fork_note")
        target = st.selectbox("…attached to node", sorted(view.nodes), key="fork_target",
                              format_func=lambda n: f"{view.nodes[n]['kind'].replace('_', ' ')} · "
                                                    f"{marks.describe(view, n, 60)}") if view.nodes else None
        edge = st.radio("…which it", ("attacks", "supports"), horizontal=True, key="fork_edge")
        go_on = st.checkbox("Continue the fork now (runs `gauntlet resume` in the background)", key="fork_continue")
        submitted = st.form_submit_button("Create fork")
    if not submitted:
        return
    from gauntlet.graphs.run.fork import ForkSpec, fork_run  # only when forking: it pulls in LangGraph and the protocols
    spec = ForkSpec(drop=list(drop), add_critics=list(add), note=note, note_on=target, note_edge=edge)
    try:
        res = asyncio.run(fork_run(data.store_for(db), run_id, step, spec))
    except InputError as exc:
        st.error(exc.one_line())
        return
    if go_on:
        continue_in_background(db, res.run_id)
    st.success(f"Forked as {res.run_id} from step {res.fork_step}.")
    st.markdown(f"[Open the fork]({state.run_link(res.run_id)})")
