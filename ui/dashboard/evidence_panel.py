"""Draws one idea's evidence (gathered by `evidence`): the verdict's reason, the idea's text with every attacking
critique's anchor marked, then per critique its flaw, severity, sources, rebuttal and ruling, then formal results.
All HTML is made by `marks` from escaped text."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from gauntlet.ui.dashboard import marks
from gauntlet.ui.dashboard.data import RunView
from gauntlet.ui.dashboard.evidence import CritiqueEvidence, FormalEvidence, IdeaEvidence, RulingEvidence, idea_evidence
from gauntlet.ui.dashboard.marks import esc

HIGHLIGHTS = ["#ffd8a8", "#c5e1ff", "#d3f9d8", "#f3d9fa", "#fff3bf", "#ffc9c9"]
VERDICT_COLOURS = {"proved": "#2e9d4f", "refuted": "#d64545"}


def html(text: str) -> None:
    st.markdown(text, unsafe_allow_html=True)


def marked_text(ev: IdeaEvidence, view: RunView) -> str:
    """The idea's text with each anchored critique's words on a coloured ground and its number after them."""
    parts = []
    by_number = {c.number: c for c in ev.critiques}
    for k, (piece, covering) in enumerate(ev.segments):
        if not covering:
            parts.append(esc(piece))
            continue
        colour = HIGHLIGHTS[(covering[-1] - 1) % len(HIGHLIGHTS)]
        hover = " · ".join(f"[{n}] {marks.describe(view, by_number[n].id)} ({by_number[n].id})" for n in covering)
        parts.append(f'<mark style="background:{colour};padding:0 1px" title="{esc(hover)}">{esc(piece)}</mark>')
        ending = [n for n in covering if k + 1 == len(ev.segments) or n not in ev.segments[k + 1][1]]
        if ending:
            parts.append("<sup><b>" + ",".join(str(n) for n in ending) + "</b></sup>")
    return '<div class="gt-idea-text" style="line-height:1.6">' + "".join(parts) + "</div>"


def _p(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def ruling_html(r: RulingEvidence) -> str:
    head = (f"<b>Ruling</b> {marks.outcome_badge(r.outcome)}"
            + (f" · threshold <b>{_p(r.threshold)}</b>" if r.threshold is not None else "")
            + (f" · calibration <code>{esc(r.calibration)}</code>" if r.calibration else "")
            + (f" — {esc(r.reason)}" if r.reason else ""))
    if not r.votes:
        return head + "<br><i>no juror voted</i>"
    rows = "".join(
        f"<tr><td>{esc(v.juror)}</td><td>{esc(v.vote)}</td><td>{_p(v.p_sustained)}</td>"
        f"<td>{'yes' if v.accepted else 'no' if v.accepted is False else '—'}"
        f"{' (abstained: ' + esc(v.abstained) + ')' if v.abstained else ''}</td><td>{esc(v.reason)}</td></tr>"
        for v in r.votes)
    note = "" if any(v.p_sustained is not None for v in r.votes) else (
        '<br><span style="color:#777;font-size:0.85em">generated votes: this ruling recorded no probabilities'
        "</span>")
    return (head + '<table class="gt-votes" style="font-size:0.85em;margin-top:4px"><tr><th>juror</th><th>vote</th>'
            "<th>p(sustained)</th><th>accepted</th><th>reason</th></tr>" + rows + "</table>" + note)


def cites_html(cites: list[dict[str, Any]]) -> str:
    items = []
    for c in cites:
        title = str(c.get("title") or c.get("entry") or "source")
        by = ", ".join(str(a) for a in c.get("authors") or []) if isinstance(c.get("authors"), list) else str(
            c.get("authors") or "")
        year = f" ({esc(c.get('year'))})" if c.get("year") else ""
        entry = f' <span style="color:#777">[{esc(c.get("entry"))}]</span>' if c.get("entry") else ""
        items.append(f"<li>{marks.link(str(c.get('link') or ''), title)}{' — ' + esc(by) if by else ''}{year}{entry}"
                     "</li>")
    return "<b>Cites</b><ul style='margin:0'>" + "".join(items) + "</ul>" if items else (
        '<span style="color:#777;font-size:0.85em">cites no library source</span>')


def critique_html(c: CritiqueEvidence) -> str:
    colour = HIGHLIGHTS[(c.number - 1) % len(HIGHLIGHTS)]
    who = "human intervention" if c.kind == "human_note" else esc(c.persona)
    head = (f'<span style="background:{colour};padding:0 5px;border-radius:3px"><b>{c.number}</b></span> '
            f'<b title="{esc(c.id)}">{who}</b> · {esc(c.critique_kind or c.kind)}'
            + (f" · flaw <b>{esc(c.flaw_type.replace('_', ' '))}</b>" if c.flaw_type else "")
            + f" · {marks.severity_badge(c.severity or None)} · "
            + ("<b>counts</b>" if c.counted else '<span style="color:#777">does not count</span>')
            + f" · the critique is {marks.status_badge(c.status)}")
    body = f"<div style='margin:4px 0'>{esc(c.text)}</div>"
    anchor = ("" if not c.anchor else
              f"<div style='font-size:0.85em;color:#555'>quotes: “{esc(c.anchor)}”"
              + ("" if c.anchor_found else " <b>(not found in the idea's text: attacks nothing)</b>") + "</div>")
    return head + body + anchor


def rebuttals_html(c: CritiqueEvidence) -> str:
    if not c.rebuttals:
        return '<span style="color:#777;font-size:0.85em">no rebuttal</span>'
    return "".join(f"<div><b>Rebuttal</b> by {esc(r['persona'])} ({esc(r['action'] or 'answer')}): "
                   f"{esc(r['text'])}</div>" for r in c.rebuttals)


def formal_html(f: FormalEvidence) -> str:
    colour = VERDICT_COLOURS.get(f.verdict, "#7a7a7a")
    checks = "".join(f"<li>{'pass' if c.get('passed') else '<b>FAIL</b>'} {esc(c.get('check', '?'))}"
                     + (f": {esc(c.get('reason'))}" if c.get("reason") else "") + "</li>" for c in f.checks)
    return (f"<b>Claim</b> <span title='{esc(f.claim_id)}'>{esc(f.claim_text)}</span><br>"
            f"{marks.pill(f.verdict.replace('_', ' '), colour)} by {esc(f.prover or '?')}"
            + (f" — {esc(f.detail)}" if f.detail else "")
            + (f"<ul style='margin:0;font-size:0.85em'>{checks}</ul>" if checks else ""))


def why_box(ev: IdeaEvidence) -> None:
    colour = marks.STATUS_STYLE.get(ev.status, ("#777", ""))[0]
    html(f'<div class="gt-why" style="border-left:5px solid {colour};padding:6px 10px;background:#fafafa">'
         f"<b>Why:</b> {esc(ev.why)}</div>")


def render(view: RunView, idea: dict[str, Any]) -> IdeaEvidence:
    ev = idea_evidence(view, idea)
    why_box(ev)
    st.markdown("**The idea, with what its critiques attack marked**")
    html(marked_text(ev, view))
    if not ev.critiques:
        st.caption("No critique attacks this idea.")
    for c in ev.critiques:
        with st.container(border=True):
            html(critique_html(c))
            html(cites_html(c.cites))
            html(rebuttals_html(c))
            if c.ruling:
                html(ruling_html(c.ruling))
            elif c.kind == "critique":
                html('<span style="color:#777;font-size:0.85em">no ruling yet: the attack is pending</span>')
    if ev.formal:
        st.markdown("**Formal results on its claims**")
    for f in ev.formal:
        with st.container(border=True):
            html(formal_html(f))
            if f.counterexample is not None:
                st.markdown("Counterexample")
                st.code(json.dumps(f.counterexample, ensure_ascii=False, indent=1), language="json")
            if f.smtlib:
                st.code(f.smtlib, language="lisp")
            if f.lean:
                st.code(f.lean, language="lean")
    return ev
