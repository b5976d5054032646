"""Node inspector: everything about one node — text, author, sources, edges, formal verdict, reviews."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from gauntlet.ui.dashboard import critique_view, evidence, evidence_panel, marks
from gauntlet.ui.dashboard.data import RunView
from gauntlet.ui.dashboard.safe import md_escape, plain, show_text

# Where a formal_result keeps its pieces (prover issue); older/other shapes are tried in order.
_CLAIM_KEYS = ("claim_text", "natural_language", "statement")  # `claim` holds the claim node's id
_SMT_KEYS = ("smtlib", "smt", "smt2")
_LEAN_KEYS = ("lean", "lean_text", "lean_statement")


def _first(data: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((data[k] for k in keys if data.get(k)), None)


def edge_rows(view: RunView, node_id: str) -> list[dict[str, Any]]:
    rows = []
    for direction, edges in (("in", view.incoming(node_id)), ("out", view.outgoing(node_id))):
        for src, dst, kind in edges:
            other = view.nodes[src if direction == "in" else dst]
            rows.append({"direction": direction, "edge": kind, "kind": other["kind"],
                         "node": marks.describe(view, other["id"], 80),
                         "status": marks.status_word(other["status"]), "id": other["id"]})
    return rows


def render_formal(data: dict[str, Any]) -> None:
    left, right = st.columns(2)
    with left:
        st.markdown("**Claim (natural language)**")
        show_text(str(_first(data, _CLAIM_KEYS) or "—"))
        assumptions = [str(a) for a in data.get("assumptions") or []]
        if assumptions:  # what the formaliser took for granted: where an unfaithful formalisation hides
            st.markdown("**Assumptions**\n" + "\n".join(f"- {md_escape(plain(a, 500))}" for a in assumptions))
    with right:
        smt, lean = _first(data, _SMT_KEYS), _first(data, _LEAN_KEYS)
        if smt:
            st.markdown("**SMT-LIB**")
            st.code(str(smt), language="lisp")
        if lean:
            st.markdown("**Lean**")
            st.code(str(lean) + (f" {data['lean_proof']}" if data.get("lean_proof") else ""), language="lean")
        if not smt and not lean:
            st.caption("no formal text stored")
    verdict = data.get("verdict", "unknown")
    st.markdown(f"**Verdict:** `{md_escape(str(verdict))}` by {md_escape(str(data.get('prover', '?')))}")
    if data.get("detail"):
        st.caption(md_escape(str(data["detail"])))
    provenance = [f"{k.replace('_', ' ')} {data[k]}" for k in ("formalised_by", "checked_on") if data.get(k)]
    if provenance or data.get("cached"):
        st.caption(md_escape(" · ".join(provenance + (["cached verdict"] if data.get("cached") else []))))
    if data.get("counterexample") is not None:
        st.markdown("**Counterexample**")
        st.json(data["counterexample"])
    from gauntlet.provers.gate import check_lines  # the faithfulness gate's checks and rejections
    gate = check_lines(data)
    if gate:
        st.markdown("**Faithfulness checks**\n" + "\n".join(f"- {md_escape(plain(line, 500))}" for line in gate))
    if data.get("symbols"):
        st.caption(md_escape(" · ".join(f"{s.get('name')} = {plain(str(s.get('meaning', '')), 100)}"
                                        for s in data["symbols"] if isinstance(s, dict))))


def render(view: RunView, node_id: str, notes: list[Any]) -> None:
    n = view.nodes[node_id]
    st.subheader(md_escape(plain(n["title"] or n["kind"], 160)))
    override = view.overrides.get(node_id)
    st.markdown(f"<code>{marks.esc(n['kind'])}</code> · {marks.status_badge(n['status'])} · by "
                f"{marks.esc(n['persona'] or 'user')} · round {n['round']} · step {n['seq']} · id "
                f"<code>{marks.esc(node_id)}</code>"
                + (f" · reviewer: <b>{marks.esc(override)}</b> (pinned)" if override else ""), unsafe_allow_html=True)
    if n["kind"] == "idea":
        idea = next((i for i in view.ideas if i["id"] == node_id), None)
        if idea:  # the verdict's reason at a glance; the Ideas & evidence tab has the whole case
            evidence_panel.why_box(evidence.idea_evidence(view, idea))
    show_text(n["text"])
    data = n["data"]
    if data.get("rationale"):
        st.markdown("**Rationale**")
        show_text(str(data["rationale"]))
    sources = data.get("sources") or data.get("citations") or []
    if sources:
        st.markdown("**Sources**")
        for s in sources:
            show_text("- " + (s if isinstance(s, str) else json.dumps(s, ensure_ascii=False)))
    if n["kind"] == "formal_result":
        render_formal(data)
    if n["kind"] == "critique":
        critique_view.render(view, n)  # anchor highlighted in the target, flaw, severity, ruling
    rows = edge_rows(view, node_id)
    st.markdown(f"**Edges** ({sum(r['direction'] == 'in' for r in rows)} in, "
                f"{sum(r['direction'] == 'out' for r in rows)} out)")
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")
    mine = [a for a in notes if a.node_id == node_id]
    if mine:
        st.markdown("**Reviews**")
        for a in mine:
            head = f"{a.kind}{': ' + a.verdict if a.verdict else ''} — {a.author}"
            st.markdown(f"- *{md_escape(head)}* {md_escape(a.text)}")
    extra = {k: v for k, v in data.items() if k not in ("rationale", "sources", "citations")}
    if extra:
        with st.expander("data"):
            st.json(extra)
