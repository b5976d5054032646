"""Persona view: a card beside its evidence. For a clone drafted from writings, each field is shown next to the
verbatim quotes (with their source files) that back it, then the author's stances and the corpus files by hash.

Opened by URL: `/?persona=NAME` (a library or user card) or `/?run=RUN_ID&persona=REF` (a card as a run used it).
"""

from __future__ import annotations

import json
from urllib.parse import quote

import streamlit as st

from gauntlet.agents.persona import CARD_FIELDS, Persona, library, user_cards
from gauntlet.ui.dashboard import data
from gauntlet.ui.dashboard.safe import md_escape, plain


def current_persona() -> str | None:
    return st.query_params.get("persona") or None


def link(run_id: str | None, ref: str) -> str:
    return (f"/?run={quote(run_id, safe='')}&" if run_id else "/?") + f"persona={quote(ref, safe='')}"


def card_from_run(db: str, run_id: str, ref: str) -> Persona | None:
    """The card exactly as the run stored it (a run keeps its personas' cards, so later edits do not rewrite
    history)."""
    for row in data.store_for(db).personas(run_id):
        if row.name == ref:
            return Persona.model_validate(json.loads(row.card_json))
    return None


def card_by_name(name: str) -> Persona | None:
    return {**library(), **user_cards()}.get(name)


def _value(card: Persona, field: str) -> str:
    v = getattr(card, field)
    return "; ".join(v) if isinstance(v, list) else str(v or "")


def render_card(card: Persona) -> None:
    st.title(plain(card.label, 120))
    kind = "clone drafted from writings" if card.evidence else "style card"
    st.caption(f"{kind} · `{md_escape(card.name)}` · "
               f"{len(card.evidence)} quotes of evidence · {len(card.stances)} stances · "
               f"{len(card.sources)} source files")
    st.subheader("Card and its evidence")
    for field in CARD_FIELDS:
        value = _value(card, field)
        if not value:
            continue
        left, right = st.columns([1, 1])
        left.markdown(f"**{field.replace('_', ' ')}**  \n{md_escape(value)}")
        quotes = [e for e in card.evidence if e.field == field]
        if quotes:
            right.markdown("\n\n".join(f"> {md_escape(e.quote)}  \n> — *{md_escape(e.source)}*" for e in quotes))
        elif card.evidence:
            right.warning("no quote backs this field (added by hand?)")
    if card.stances:
        st.subheader("Stances (the author's stated positions)")
        st.dataframe([{"stance": s.stance, "claim": plain(s.claim, 300), "quote": plain(s.quote, 400),
                       "source": s.source} for s in card.stances], hide_index=True, width="stretch")
    if card.sources:
        st.subheader("Provenance")
        st.caption(f"corpus: {md_escape(card.corpus or '(not linked)')}")
        st.dataframe([{"file": s.path, "sha256": s.sha256} for s in card.sources], hide_index=True,
                     width="stretch")


def sidebar_picker() -> None:
    """A sidebar list of the library's and the user's cards; picking one opens its view."""
    names = sorted(user_cards()) + sorted(library())
    pick = st.sidebar.selectbox("Persona cards", [""] + names, key="persona_pick",
                                format_func=lambda n: n or "(open a card…)")
    if pick and pick != current_persona():
        st.query_params.clear()
        st.query_params["persona"] = pick
        st.rerun()


def render(db: str, run_id: str | None, ref: str) -> None:
    back = "← run" if run_id else "← all runs"
    if st.button(back, key="persona_back"):
        del st.query_params["persona"]
        st.rerun()
    card = card_from_run(db, run_id, ref) if run_id else card_by_name(ref)
    if card is None:
        where = f"run {run_id}" if run_id else "the library or your personas folder"
        st.error(f"no persona {ref!r} in {where}")
        return
    render_card(card)
