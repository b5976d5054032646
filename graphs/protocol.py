"""The *gauntlet* protocol as a LangGraph StateGraph: propose → critique (fan-out) → rebut (fan-out) → judge."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

from graphs import nodes as moves
from graphs.state import DebateContext, DebateState


def _task(state: DebateState, persona: str) -> dict[str, Any]:
    return {"persona": persona, "round": state["round"], "nodes": state.get("nodes", []),
            "edges": state.get("edges", [])}


def route_propose(state: DebateState) -> list[Send] | str:
    if state["round"] == 1 and state.get("proposers"):
        return [Send("propose", _task(state, p)) for p in state["proposers"]]
    return "gather"


def route_critique(state: DebateState) -> list[Send] | str:
    sends = [Send("critique", _task(state, c)) for c in state.get("critics", [])
             if moves.critique_targets(state.get("nodes", []), state.get("edges", []), state["round"], c)]
    return sends or "judge"


def route_rebut(state: DebateState) -> list[Send] | str:
    by_id = {n["id"]: n for n in state.get("nodes", [])}
    authors = []
    for e in state.get("edges", []):
        src, dst = by_id[e["src"]], by_id[e["dst"]]
        if e["kind"] == "attacks" and src["kind"] == "critique" and src["round"] == state["round"]:
            who = moves.owner(dst)
            if who and who not in authors and who in state.get("proposers", []):
                authors.append(who)
    return [Send("rebut", _task(state, a)) for a in authors] or "judge"


def route_next(state: DebateState) -> str:
    return "next_round" if state["round"] < state["rounds"] else END


def build_gauntlet() -> StateGraph:
    """The uncompiled graph; compile it with a checkpointer to make runs resumable and forkable."""
    g = StateGraph(DebateState, context_schema=DebateContext)
    g.add_node("open", moves.open_debate)
    g.add_node("propose", moves.propose)
    g.add_node("gather", lambda state: {})  # joins the proposal branches before critique
    g.add_node("critique", moves.critique)
    g.add_node("review", lambda state: {})  # joins the critique branches before rebuttal
    g.add_node("rebut", moves.rebut)
    g.add_node("judge", moves.judge)
    g.add_node("next_round", moves.next_round)
    g.add_edge(START, "open")
    g.add_conditional_edges("open", route_propose, ["propose", "gather"])
    g.add_edge("propose", "gather")
    g.add_conditional_edges("gather", route_critique, ["critique", "judge"])
    g.add_edge("critique", "review")
    g.add_conditional_edges("review", route_rebut, ["rebut", "judge"])
    g.add_edge("rebut", "judge")
    g.add_conditional_edges("judge", route_next, ["next_round", END])
    g.add_edge("next_round", "gather")
    return g


PROTOCOLS = {"gauntlet": build_gauntlet}


def initial_state(ctx: DebateContext) -> DebateState:
    cfg = ctx.config
    return {"round": 1, "rounds": cfg.rounds, "proposers": list(cfg.panel.proposers),
            "critics": list(cfg.panel.critics), "judge": cfg.panel.judge or "", "nodes": [], "edges": [],
            "calls": []}
