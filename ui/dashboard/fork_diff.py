"""A fork against its parent: the human intervention that made the fork, which ideas changed status, which nodes
are new. `diff` is pure over the store; `render` draws it in the run page's "Against parent" tab.

The fork's log begins with a copy of the parent's log up to the fork step, so the state the fork started from is
always known, even when the parent run is not in this database (an imported example). When the parent is here,
the comparison is with the parent's own continuation, which is what the intervention changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from gauntlet.graphs.store.store import Store
from gauntlet.ui.dashboard import data, marks, state
from gauntlet.ui.dashboard.data import RunView, build_view


@dataclass
class ForkDiff:
    parent_id: str
    parent_present: bool
    fork_step: int
    baseline: str  # what the fork is compared with, in words
    changes: dict[str, Any]  # the run_forked event's changes: drop, add_critics, note_id, …
    notes: list[dict[str, Any]] = field(default_factory=list)  # injected human notes: id, text, target, edge
    # id, title, before, after, at_fork, causes (new attacks on the idea, new rulings on its attackers)
    status_changes: list[dict[str, Any]] = field(default_factory=list)
    new_nodes: list[dict[str, Any]] = field(default_factory=list)  # id, kind, words, status


def _fork_event(store: Store, run_id: str) -> dict[str, Any]:
    for e in store.events(run_id, kinds=["run_forked"]):
        return json.loads(e.payload) if isinstance(e.payload, str) else dict(e.payload)
    return {}


def diff(store: Store, run_id: str, parent_id: str, fork_step: int) -> ForkDiff:
    fork = build_view(store, run_id, store.last_seq(run_id))
    at_fork = build_view(store, run_id, fork_step)
    parent_present = any(r.run_id == parent_id for r in store.runs())
    base: RunView = build_view(store, parent_id, store.last_seq(parent_id)) if parent_present else at_fork
    changes = dict(_fork_event(store, run_id).get("changes") or {})
    out = ForkDiff(parent_id=parent_id, parent_present=parent_present, fork_step=fork_step, changes=changes,
                   baseline="the parent run as it ended" if parent_present else f"the parent at step {fork_step}, "
                   "where the fork began (the parent run is not in this database)")
    for nid, n in fork.nodes.items():
        if n["kind"] == "human_note" and nid not in at_fork.nodes:
            targets = [(d, k) for s, d, k in fork.edges if s == nid]
            out.notes.append({"id": nid, "text": n["text"], "author": n["data"].get("author", ""),
                              "targets": [{"id": d, "edge": k} for d, k in targets]})
    new = {nid for nid in fork.nodes if nid not in base.nodes}
    rulings_on: dict[str, list[str]] = {}
    for nid in new:
        if fork.nodes[nid]["kind"] == "ruling" and fork.nodes[nid]["data"].get("critique"):
            rulings_on.setdefault(fork.nodes[nid]["data"]["critique"], []).append(nid)
    for idea in fork.ideas:
        before = base.nodes.get(idea["id"], {}).get("status")
        if before != idea["status"]:
            attackers = [s for s, d, k in fork.edges if d == idea["id"] and k == "attacks"]
            causes = [a for a in attackers if a in new] + [r for a in attackers for r in rulings_on.get(a, [])]
            out.status_changes.append({
                "id": idea["id"], "title": idea["title"], "before": before, "after": idea["status"],
                "at_fork": at_fork.nodes.get(idea["id"], {}).get("status"), "causes": causes})
    out.new_nodes = [{"id": nid, "kind": fork.nodes[nid]["kind"], "words": marks.describe(fork, nid, 80),
                      "status": fork.nodes[nid]["status"]}
                     for nid in sorted(new, key=lambda n: fork.nodes[n]["seq"])]
    return out


@st.cache_data(max_entries=32, show_spinner=False)
def cached_diff(db: str, run_id: str, parent_id: str, fork_step: int, review: tuple[int, int]) -> ForkDiff:
    del review  # part of the cache key only
    return diff(data.store_for(db), run_id, parent_id, fork_step)


def _changes_html(d: ForkDiff) -> str:
    c = d.changes
    parts = []
    for key, words in (("drop", "dropped"), ("add_critics", "added critics"), ("add_proposers", "added proposers")):
        if c.get(key):
            parts.append(f"{words}: " + ", ".join(marks.esc(x) for x in c[key]))
    if c.get("judge"):
        parts.append(f"judge: {marks.esc(c['judge'])}")
    if c.get("rounds"):
        parts.append(f"rounds: {marks.esc(c['rounds'])}")
    return "; ".join(parts)


def render(db: str, rec: dict[str, Any]) -> None:
    run_id, parent = rec["run_id"], rec["parent_run_id"]
    d = cached_diff(db, run_id, parent, int(rec.get("fork_step") or 0), data.review_revision(db, run_id))
    parent_link = (f'<a href="{marks.esc(state.run_link(parent))}" target="_self">{marks.esc(parent)}</a>'
                   if d.parent_present else marks.esc(parent))
    st.markdown(f"Forked from {parent_link} at step <b>{d.fork_step}</b>; compared with {marks.esc(d.baseline)}.",
                unsafe_allow_html=True)
    st.markdown("#### The intervention")
    if not d.notes and not _changes_html(d):
        st.caption("No human note and no panel change: the fork re-ran from the same state.")
    for note in d.notes:
        fork_view = data.run_view(db, run_id, data.last_step(db, run_id), data.review_revision(db, run_id))
        aims = "; ".join(f"{marks.esc(t['edge'])} {marks.ref(fork_view, t['id'], 60)}" for t in note["targets"])
        st.markdown(f'<div class="gt-intervention" style="border-left:5px solid #4a6fd6;padding:6px 10px;'
                    f'background:#f4f7ff" title="{marks.esc(note["id"])}"><b>Human note</b>'
                    f"{' by ' + marks.esc(note['author']) if note['author'] else ''}: {marks.esc(note['text'])}"
                    f"{'<br>it ' + aims if aims else ''}</div>", unsafe_allow_html=True)
    if _changes_html(d):
        st.markdown("Panel changes: " + _changes_html(d), unsafe_allow_html=True)
    st.markdown("#### Ideas whose status changed")
    if not d.status_changes:
        st.caption("No idea changed status.")
    else:
        fork_view = data.run_view(db, run_id, data.last_step(db, run_id), data.review_revision(db, run_id))
        rows = "".join(
            f"<tr><td title='{marks.esc(c['id'])}'>{marks.esc(c['title'])}</td>"
            f"<td>{marks.status_badge(c['before']) if c['before'] else 'not in the parent'}</td>"
            f"<td>{marks.status_badge(c['after'])}</td>"
            f"<td>{'<br>'.join(marks.ref(fork_view, x, 60) for x in c['causes']) or '—'}</td></tr>"
            for c in d.status_changes)
        parent_col = "parent (end)" if d.parent_present else f"parent (step {d.fork_step})"
        st.markdown(f"<table class='gt-status-changes'><tr><th>idea</th><th>{parent_col}</th><th>fork</th>"
                    "<th>what changed it (new in the fork)</th></tr>" + rows + "</table>", unsafe_allow_html=True)
    st.markdown(f"#### New in the fork ({len(d.new_nodes)} nodes)")
    if d.new_nodes:
        st.dataframe([{"kind": n["kind"], "node": n["words"], "status": marks.status_word(n["status"]),
                       "id": n["id"]} for n in d.new_nodes], hide_index=True, width="stretch")
