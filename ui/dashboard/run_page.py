"""Run page: the argument graph with filters, ranked ideas, node inspector, replay, review and fork."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st
from streamlit_cytoscape import EdgeStyle, Event, NodeStyle, streamlit_cytoscape

from gauntlet.ui.dashboard import (data, fork_diff, fork_panel, graph_view, ideas_view, inspector, legend, marks,
                                   persona_view, review, state)
from gauntlet.ui.dashboard.data import RunView
from gauntlet.ui.dashboard.safe import md_escape, plain

PLAY_DELAY_S = 0.8
COLLAPSE_FROM = 300  # nodes: past this, ruled-out branches start collapsed
GRAPH_HEIGHT = 620
TRANSCRIPT_WINDOW = 1000  # lines sent to the browser; the full log stays one slider move away


def _replay(db: str, run_id: str) -> int:
    """The step slider (with play/pause); returns the step to show. Session keys are per run."""
    ss = st.session_state
    last = data.last_step(db, run_id)
    if ss.get("step_run") != run_id or "step" not in ss:
        ss["step_run"], ss["step"], ss["last_seen"] = run_id, last, last
    if ss["step"] == ss["last_seen"] and last > ss["last_seen"]:
        ss["step"] = last  # a reviewer watching the live end of a running debate keeps following it
    ss["last_seen"] = last
    # Widgets' values may only change before they are drawn: play ticks are applied here, on the next run.
    if ss.pop("tick", False):
        ss["step"] = min(ss["step"] + 1, last)
    if ss.pop("stop", False):
        ss["playing"] = False
    ss["step"] = max(1, min(ss["step"], last))
    st.sidebar.header("Replay")
    if last <= 1:
        st.sidebar.caption(f"step {last} of {last}")
        return last
    st.sidebar.slider("Step", 1, last, key="step", help="Rebuild the graph and transcript as they were.")
    st.sidebar.toggle("Play", key="playing")
    return int(ss["step"])


def _after_render(last: int) -> None:
    ss = st.session_state
    if ss.get("playing"):
        if ss["step"] >= last:
            ss["stop"] = True
        else:
            time.sleep(PLAY_DELAY_S)
            ss["tick"] = True
        st.rerun()


def _filters(view: RunView) -> graph_view.Filters:
    st.sidebar.header("Filter the map")
    statuses = st.sidebar.multiselect("Idea status", list(marks.STATUS_STYLE), key="f_status",
                                      format_func=marks.status_word,
                                      help="Only these ideas, with everything that answers them")
    depth = st.sidebar.selectbox("Show below each idea", list(graph_view.DEPTHS), index=2, key="f_depth")
    collapse = st.sidebar.toggle("Collapse ruled-out branches", value=len(view.nodes) > COLLAPSE_FROM,
                                 key="f_collapse", help="Hide what hangs under shot-down ideas and overruled "
                                                        "critiques (the label says how many nodes are hidden)")
    return graph_view.Filters(
        personas=st.sidebar.multiselect("Persona", view.personas, key="f_persona"),
        rounds=st.sidebar.multiselect("Round", view.rounds, key="f_round"),
        kinds=st.sidebar.multiselect("Kind", view.kinds, key="f_kind"),
        statuses=statuses, collapse=collapse, depth=graph_view.DEPTHS[depth],
        colour_by=st.sidebar.radio("Colour by", ["status", "strength"], key="f_colour", horizontal=True,
                                   help="status: the Dung verdict; strength: graded DF-QuAD strength (red 0 to "
                                        "green 1) from judge scores, prover verdicts and critique severity"))


def _header(rec: dict[str, Any], parent_here: bool) -> None:
    if st.button("← all runs", key="back"):
        state.open_run(None)
        st.rerun()
    st.title(md_escape(plain(rec["topic"], 200)))
    # Each persona links to its card as the run used it (a clone's card shows its evidence: persona_view).
    panel = ", ".join(f"[{md_escape(p['name'])}]({persona_view.link(rec['run_id'], p['name'])}) "
                      f"({'/'.join(p['roles'])})" for p in rec["personas"])
    line = (f"run `{rec['run_id']}` · **{rec['status']}** · protocol {md_escape(rec['protocol'])} · "
            f"model {md_escape(rec['model'])}")
    if rec.get("parent_run_id"):
        parent = (f"[{rec['parent_run_id']}]({state.run_link(rec['parent_run_id'])})" if parent_here
                  else f"{rec['parent_run_id']} (not in this database)")
        line += f" · forked from {parent} at step {rec['fork_step']}"
    st.markdown(line)
    st.caption("panel: " + panel)
    if rec.get("error"):
        st.error(plain(rec["error"], 400))


def _pick_node(view: RunView, clicked: str | None) -> str | None:
    ss = st.session_state
    if not view.nodes:
        return None
    order = [i["id"] for i in view.ideas] + [n for n in view.nodes if view.nodes[n]["kind"] != "idea"]
    if clicked in view.nodes:
        ss["node_pick"] = clicked
    elif ss.get("node_pick") not in view.nodes:
        wanted = state.current_node()
        ss["node_pick"] = wanted if wanted in view.nodes else order[0]
    pick = st.selectbox("Node (or click one in the map)", order, key="node_pick",
                        format_func=lambda i: f"{view.nodes[i]['kind'].replace('_', ' ')} · "
                                              f"{marks.describe(view, i, 60)}")
    state.select_node(pick)
    return pick


def _graph(view: RunView, filters: graph_view.Filters) -> str | None:
    """Draw the map; returns the node id the reviewer just clicked, if any."""
    els, matched = graph_view.draw(view, filters)
    if matched > len(els["nodes"]):
        st.caption(f"showing {len(els['nodes'])} of {matched} matching nodes (ideas first): narrow the filters")
    value = streamlit_cytoscape(
        els, layout=graph_view.layout(),
        node_styles=[NodeStyle(**spec) for spec in graph_view.node_style_specs()],
        edge_styles=[EdgeStyle(**spec) for spec in graph_view.edge_style_specs()],
        height=GRAPH_HEIGHT, key="graph", events=[Event("select_node", "tap", "node")])
    st.markdown(legend.legend_svg(view.kinds, filters.colour_by), unsafe_allow_html=True)
    st.caption("dashed = an attack that does not count (overruled, pending or minor) or an unanchored comment; "
               "click a node to inspect it; scroll to zoom")
    ss = st.session_state
    if isinstance(value, dict) and value.get("timestamp") != ss.get("graph_click_ts"):
        ss["graph_click_ts"] = value.get("timestamp")  # a component keeps returning its last value: act once
        return (value.get("data") or {}).get("target_id")
    return None


def render(db: str, run_id: str) -> None:
    rec = data.record(db, run_id)
    parent = rec.get("parent_run_id")
    _header(rec, bool(parent) and any(r.run_id == parent for r in data.store_for(db).runs()))
    step = _replay(db, run_id)
    notes = data.store_for(db).annotations(run_id)
    view = data.run_view(db, run_id, step, data.review_revision(db, run_id))
    filters = _filters(view)
    st.caption(f"as of step {step}: {len(view.nodes)} nodes, {len(view.edges)} edges, "
               f"{sum(i['status'] == 'standing' for i in view.ideas)} of {len(view.ideas)} ideas standing")
    names = ["Graph", "Ideas & evidence", "Transcript", "Reviews & export", "Fork"]
    if rec.get("parent_run_id"):
        names.append("Against parent")
    tabs = st.tabs(names)
    tab_graph, tab_ideas, tab_log, tab_review, tab_fork = tabs[:5]
    with tab_graph:
        clicked = _graph(view, filters)  # the whole width: a map is read by its labels
        left, right = st.columns([3, 2])
        with left:
            node_id = _pick_node(view, clicked)
            if node_id:
                inspector.render(view, node_id, notes)
        with right:
            if node_id:
                review.render(db, run_id, node_id, view.nodes[node_id]["kind"])
    with tab_ideas:
        ideas_view.render(view)
    with tab_log:
        rows = data.transcript_rows(db, run_id, step, TRANSCRIPT_WINDOW)
        if step > TRANSCRIPT_WINDOW:
            st.caption(f"the last {TRANSCRIPT_WINDOW} steps up to step {step}; move the slider to see earlier ones "
                       "(or `gauntlet replay RUN_ID --until STEP`)")
        st.dataframe([{**r, "text": plain(r["text"], 300)} for r in rows], hide_index=True, width="stretch")
    with tab_review:
        if notes:
            st.dataframe([{"node": a.node_id, "kind": a.kind, "verdict": a.verdict or "", "text": plain(a.text, 200),
                           "author": a.author} for a in notes], hide_index=True, width="stretch")
        else:
            st.caption("No reviews yet: pick a node in the Graph tab to comment or override.")
        review.export_buttons(db, run_id)
    with tab_fork:
        fork_panel.render(db, run_id, view, step, [p["name"] for p in rec["personas"]])
    if rec.get("parent_run_id"):
        with tabs[5]:
            fork_diff.render(db, rec)
    _after_render(data.last_step(db, run_id))
