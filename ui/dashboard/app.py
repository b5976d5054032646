"""The review dashboard's Streamlit entry script: `gauntlet ui [--db URL] [--port N]` runs it.

Routing is by URL: `/` lists runs, `/?run=RUN_ID` opens one (and `&node=ID` a node), `/?page=evals` the
evaluation reports, so every view is a link.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import ui.dashboard  # noqa: F401
except ImportError:  # run from a source tree without `pip install -e .`: streamlit puts only this folder on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import streamlit as st

from gauntlet.errors import InputError
from gauntlet.ui.dashboard import data, evals_page, persona_view, run_page, runs_page, state


def main() -> None:
    st.set_page_config(page_title="Gauntlet review", page_icon="⚔", layout="wide")
    db = state.db_arg(sys.argv[1:])
    try:
        store = data.store_for(db)
        run_id = state.current_run()
        persona_view.sidebar_picker()
        state.sidebar_pages()
        if state.current_page() == "evals":
            evals_page.render()
        elif persona_view.current_persona():  # a card beside its evidence (see persona_view)
            persona_view.render(db, run_id, persona_view.current_persona())
        elif run_id:
            store.run(run_id)  # an unknown id in a shared link → a clear message, not a traceback
            run_page.render(db, run_id)
        else:
            runs_page.render(db)
    except InputError as exc:
        st.error(exc.one_line())
        if state.current_run() and st.button("← all runs", key="back_err"):
            state.open_run(None)
            st.rerun()


main()
