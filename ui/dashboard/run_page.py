"""Run page: the argument graph with filters, ranked ideas, node inspector, replay, review and fork."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st
from streamlit_cytoscape import EdgeStyle, Event, NodeStyle, streamlit_cytoscape

from gauntlet.ui.dashboard import data, fork_panel, graph_view, inspector, persona_view, review, state
from gauntlet.ui.dashboard.data import RunView
from gauntlet.ui.dashboard.safe import md_escape, plain, show_text

STATUS_MARK = {"standing": "🟢 standing", "shot_down": "🔴 shot down", "undecided": "🟡 undecided"}
PLAY_DELAY_S = 0.8
MAX_CRITIQUES_SHOWN = 20
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
    st.sidebar.header("Filter the graph")
    return graph_view.Filters(
        personas=st.sidebar.multiselect("Persona", view.personas, key="f_persona"),
        rounds=st.sidebar.multiselect("Round", view.rounds, key="f_round"),
        kinds=st.sidebar.multiselect("Kind", view.kinds, key="f_kind"),
        colour_by=st.sidebar.radio("Colour by", ["status", "strength"], key="f_colour", horizontal=True,
                                   help="status: the Dung verdict; strength: graded DF-QuAD strength (red 0 to "
                                        "green 1) from judge scores, prover verdicts and critique severity"))


def _header(rec: dict[str, Any]) -> None:
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
        line += f" · forked from [{rec['parent_run_id']}]({state.run_link(rec['parent_run_id'])}) at step {rec['fork_step']}"
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
    pick = st.selectbox("Node", order, key="node_pick",
                        format_func=lambda i: f"{i} — {plain(view.nodes[i]['title'] or view.nodes[i]['text'], 60)}")
    state.select_node(pick)
    return pick


def _graph(view: RunView, filters: graph_view.Filters) -> str | None:
    """Draw the graph; returns the node id the reviewer just clicked, if any."""
    els = graph_view.elements(view, filters)
    _, matched = graph_view.visible_nodes(view, filters, limit=len(view.nodes) or 1)
    if matched > len(els["nodes"]):
        st.caption(f"showing {len(els['nodes'])} of {matched} matching nodes (ideas first): narrow the filters")
    st.caption(("colour = strength (red 0, amber 0.5, green 1)" if filters.colour_by == "strength" else
                "colour = status (green standing, red shot down, amber undecided)") + "; shape = kind "
               "(rectangle idea, ellipse claim, triangle critique, diamond rebuttal, star judgement, "
               "hexagon formal result, tag human note, vee ruling); dashed = an attack that does not count "
               "(overruled, pending or minor) or an unanchored comment")
    value = streamlit_cytoscape(
        els, layout=graph_view.layout_for(len(els["nodes"])),
        node_styles=[NodeStyle(**spec) for spec in graph_view.node_style_specs()],
        edge_styles=[EdgeStyle(k, color=c, caption="label", directed=True)
                     for k, c in graph_view.EDGE_COLOURS.items()]
        + [EdgeStyle(k, color=c, caption="label", directed=True, custom_styles={"line-style": "dashed"})
           for k, c in graph_view.DASHED_EDGES.items()],
        height=560, key="graph", events=[Event("select_node", "tap", "node")])
    ss = st.session_state
    if isinstance(value, dict) and value.get("timestamp") != ss.get("graph_click_ts"):
        ss["graph_click_ts"] = value.get("timestamp")  # a component keeps returning its last value: act once
        return (value.get("data") or {}).get("target_id")
    return None


def _ideas(view: RunView) -> None:
    """All ideas ranked in one table (one element however many), then the case against one of them."""
    if not view.ideas:
        st.info("No ideas yet at this step.")
        return
    if st.radio("Sort ideas by", ["status", "strength"], key="idea_sort", horizontal=True) == "strength":
        view_ideas = sorted(view.ideas, key=lambda i: -(i.get("strength") if i.get("strength") is not None else -1))
    else:
        view_ideas = view.ideas
    st.dataframe([{"rank": k, "idea": plain(i["title"], 120),
                   "status": STATUS_MARK[i["status"]] + ("" if i["examined"] else " · unexamined"),
                   "strength": i.get("strength"), "critics": len(i["critics"]), "by": i["persona"],
                   "defender": i["defender"], "round": i["round"], "score": i["score"], "reviewer": i["override"] or "",
                   "shot down by": ", ".join(i["shot_down_by"]), "cruxes": ", ".join(i["cruxes"]), "id": i["id"]}
                  for k, i in enumerate(view_ideas, 1)], hide_index=True, width="stretch")
    by_id = {i["id"]: i for i in view.ideas}
    pick = st.selectbox("Why this status?", list(by_id), key="idea_pick",
                        format_func=lambda i: plain(by_id[i]["title"] or i, 100))
    idea = by_id[pick]
    score = "" if idea["score"] is None else f" · score {idea['score']:g}"
    pin = f" · reviewer: {idea['override']} (pinned)" if idea["override"] else ""
    st.markdown(f"**{md_escape(plain(idea['title'], 200))}** — {STATUS_MARK[idea['status']]}"
                f" · by {md_escape(idea['persona'])} · round {idea['round']}{score}{pin}")
    show_text(view.nodes[pick]["text"])
    if idea["cruxes"]:
        st.markdown("**Cruxes:** " + md_escape(", ".join(idea["cruxes"])))
    if not idea["examined"] and idea.get("unruled") and len(idea["critics"]) >= max(idea["required"], 1):
        st.warning("Unexamined: no juror ruled on its critiques " + md_escape(", ".join(idea["unruled"]))
                   + "; its status rests on no juror's verdict.")
    elif not idea["examined"]:
        st.warning("Unexamined: too few critics reached this idea; it stands only because nobody shot it down.")
    if not idea["shot_down_by"]:
        st.caption("No standing critique attacks it." if idea["status"] != "shot_down" else
                   "Shot down by a reviewer override.")
    for cid in idea["shot_down_by"][:MAX_CRITIQUES_SHOWN]:
        c = view.nodes[cid]
        st.markdown(f"Shot down by `{md_escape(cid)}` *{md_escape(c['persona'])}* — "
                    f"**{md_escape(plain(c['title'], 120))}**")
        show_text(c["text"])


def render(db: str, run_id: str) -> None:
    rec = data.record(db, run_id)
    _header(rec)
    step = _replay(db, run_id)
    notes = data.store_for(db).annotations(run_id)
    view = data.run_view(db, run_id, step, data.review_revision(db, run_id))
    filters = _filters(view)
    st.caption(f"as of step {step}: {len(view.nodes)} nodes, {len(view.edges)} edges, "
               f"{sum(i['status'] == 'standing' for i in view.ideas)} of {len(view.ideas)} ideas standing")
    tab_graph, tab_ideas, tab_log, tab_review, tab_fork = st.tabs(
        ["Graph", "Ideas", "Transcript", "Reviews & export", "Fork"])
    with tab_graph:
        left, right = st.columns([3, 2])
        with left:
            clicked = _graph(view, filters)
        with right:
            node_id = _pick_node(view, clicked)
            if node_id:
                inspector.render(view, node_id, notes)
                review.render(db, run_id, node_id, view.nodes[node_id]["kind"])
    with tab_ideas:
        _ideas(view)
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
    _after_render(data.last_step(db, run_id))
