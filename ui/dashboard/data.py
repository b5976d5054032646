"""Derived, cached views of the store for the dashboard.

The store is read directly (never a copy). Derived views are cached with `st.cache_data` keyed by
(database, run, step, review revision): a step of a run never changes once written, and the review revision makes a
saved override show up at once. Everything here returns plain data (picklable, easy to test).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from sqlalchemy import select
from sqlmodel import Session

from gauntlet.graphs.argument import analysis, coverage
from gauntlet.graphs.argument.argument_graph import ArgumentGraph
from gauntlet.graphs.argument.strength import strengths
from gauntlet.graphs.store.store import Store
from gauntlet.graphs.store.tables import Edge, Event, Node
from gauntlet.graphs.store.views import coverage_rule, describe_event, run_record

STATUS_ORDER = {"standing": 0, "undecided": 1, "shot_down": 2}
CRUX_MAX_NODES = 2000


@st.cache_resource(show_spinner=False)
def store_for(db: str) -> Store:
    """One Store (engine pool) per database for the whole server; create=False: never make a new database."""
    return Store(db, create=False)


@dataclass
class RunView:
    """Everything the run page draws, as of one step."""

    run_id: str
    step: int
    nodes: dict[str, dict[str, Any]]  # id -> {id, kind, persona, round, title, text, data, seq, status}
    edges: list[tuple[str, str, str]]  # (src, dst, kind)
    ideas: list[dict[str, Any]]  # ranked: standing first, then by judge score
    overrides: dict[str, str]
    personas: list[str] = field(default_factory=list)
    rounds: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    # Attack edges (src, dst) that defeat nothing (overruled, pending, minor); drawn dashed.
    discounted: set[tuple[str, str]] = field(default_factory=set)

    def incoming(self, node_id: str) -> list[tuple[str, str, str]]:
        return [e for e in self.edges if e[1] == node_id]

    def outgoing(self, node_id: str) -> list[tuple[str, str, str]]:
        return [e for e in self.edges if e[0] == node_id]


def review_revision(db: str, run_id: str) -> tuple[int, int]:
    """A cheap fingerprint of the run's annotations, part of every cache key that depends on them."""
    notes = store_for(db).annotations(run_id)
    return (len(notes), notes[-1].id or 0) if notes else (0, 0)


def _rows(store: Store, query: Any) -> list[dict[str, Any]]:
    """Plain row dicts. The Store's methods return ORM objects, whose construction costs ~70 µs each: at 10k nodes
    that alone would eat the page's time budget, so the dashboard reads columns directly (same tables, read-only)."""
    with Session(store.engine) as s:
        return [dict(r) for r in s.execute(query).mappings()]


def graph_rows(store: Store, run_id: str, step: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    nodes = _rows(store, select(Node.id, Node.kind, Node.persona, Node.round, Node.title, Node.text, Node.data_json,
                                Node.seq).where(Node.run_id == run_id, Node.seq <= step).order_by(Node.seq))
    edges = _rows(store, select(Edge.src, Edge.dst, Edge.kind).where(Edge.run_id == run_id, Edge.seq <= step)
                  .order_by(Edge.seq))
    return nodes, edges


def build_view(store: Store, run_id: str, step: int) -> RunView:
    """The run page's data at `step` (uncached; the benchmark and tests call it directly too)."""
    graph = ArgumentGraph(*graph_rows(store, run_id, step), store.annotations(run_id))
    labels = graph.labelling
    strength = strengths(graph)
    status = {"in": "standing", "out": "shot_down", "undec": "undecided"}
    nodes = {n.id: {"id": n.id, "kind": n.kind, "persona": n.persona, "round": n.round, "title": n.title,
                    "text": n.text, "data": n.data, "seq": n.seq, "status": status[labels.label(n.id)],
                    "strength": strength.get(n.id)}
             for n in graph.nodes.values()}
    edges = [(e.src, e.dst, e.kind) for e in graph.edges]
    # Indexes built once: the graph's own per-node helpers scan every edge, which is quadratic at 10k nodes.
    attackers: dict[str, list[str]] = {}
    for src, dst in graph.attacks:  # counted attacks only: overruled, pending and minor critiques defeat nothing
        attackers.setdefault(dst, []).append(src)
    counted = set(graph.attacks)
    scores = graph.scores()
    cruxes: dict[str, list[str]] = {}
    # Each crux candidate costs one grounded run; past a few thousand nodes that is too slow for a page view
    # (`gauntlet show --json` still computes them).
    if len(graph.nodes) <= CRUX_MAX_NODES:
        for c in analysis.cruxes(graph):
            for flip in c["flips"]:
                cruxes.setdefault(flip["idea"], []).append(c["id"])
    covered = coverage.ideas_coverage(graph, coverage_rule(store, run_id))
    ideas = []
    for n in graph.ideas():
        att = attackers.get(n.id, [])
        ideas.append({"id": n.id, "title": n.title, "persona": n.persona, "round": n.round,
                      "critics": covered[n.id]["critics"], "examined": covered[n.id]["examined"],
                      "unruled": covered[n.id]["unruled"], "required": covered[n.id]["required"],
                      "defender": covered[n.id]["defender"],
                      "status": nodes[n.id]["status"], "score": scores.get(n.id), "strength": strength.get(n.id),
                      "shot_down_by": [a for a in att if nodes[a]["status"] == "standing"],
                      "attacked_by": att, "cruxes": [str(c) for c in cruxes.get(n.id, [])],
                      "override": graph.overrides.get(n.id)})
    ideas.sort(key=lambda i: (STATUS_ORDER[i["status"]], -(i["score"] or 0), nodes[i["id"]]["seq"]))
    return RunView(run_id=run_id, step=step, nodes=nodes, edges=edges, ideas=ideas, overrides=dict(graph.overrides),
                   personas=sorted({n["persona"] for n in nodes.values() if n["persona"]}),
                   rounds=sorted({n["round"] for n in nodes.values()}),
                   kinds=sorted({n["kind"] for n in nodes.values()}),
                   discounted={(s, d) for s, d, k in edges if k == "attacks" and ((s, d) not in counted or (
                       graph.rulings.get(s, {}).get("outcome") == "overruled"))})


@st.cache_data(max_entries=256, show_spinner=False)
def run_view(db: str, run_id: str, step: int, review: tuple[int, int]) -> RunView:
    del review  # part of the cache key only
    return build_view(store_for(db), run_id, step)


@dataclass
class _EventRow:
    """The attributes `graphs.views.describe_event` reads, without an ORM object per event."""

    seq: int
    kind: str
    round: int
    persona: str
    payload: str


@st.cache_data(max_entries=64, show_spinner=False)
def transcript_rows(db: str, run_id: str, step: int, window: int | None = None) -> list[dict[str, Any]]:
    """The transcript up to `step` (the last `window` lines of it), worded exactly as `gauntlet replay` words it."""
    q = select(Event.seq, Event.kind, Event.round, Event.persona, Event.payload).where(
        Event.run_id == run_id, Event.seq <= step)
    if window is not None:
        q = q.where(Event.seq > step - window)
    rows = _rows(store_for(db), q.order_by(Event.seq))
    return [vars(describe_event(_EventRow(**r))) for r in rows]  # type: ignore[arg-type]


@st.cache_data(ttl=2, show_spinner=False)
def record(db: str, run_id: str) -> dict[str, Any]:
    """Run metadata; a short ttl because a live run's status changes while the page is open."""
    return run_record(store_for(db), run_id)


@st.cache_data(ttl=2, show_spinner=False)
def last_step(db: str, run_id: str) -> int:
    return store_for(db).last_seq(run_id)


def runs_rows(db: str) -> list[dict[str, Any]]:
    """The runs list with each run's panel and idea counts (the counts come from the cached run views)."""
    store = store_for(db)
    rows = []
    for info in store.runs():
        rec = record(db, info.run_id)
        view = run_view(db, info.run_id, last_step(db, info.run_id), review_revision(db, info.run_id))
        counts = {s: sum(1 for i in view.ideas if i["status"] == s) for s in STATUS_ORDER}
        rows.append({"run_id": info.run_id, "topic": info.topic, "created": info.created,
                     "status": info.status, "protocol": info.protocol,
                     "panel": ", ".join(p["name"] for p in rec["personas"]),
                     "standing": counts["standing"], "shot_down": counts["shot_down"],
                     "undecided": counts["undecided"], "parent": info.parent_run_id or ""})
    return rows


def annotations_json(db: str, run_id: str) -> str:
    return json.dumps(record(db, run_id)["annotations"], indent=2, ensure_ascii=False)
