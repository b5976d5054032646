"""The *gauntlet* protocol as a LangGraph StateGraph: propose → critique (fan-out) → formalise (when there are
math claims) → rebut (fan-out) → rule (independent jurors on each anchored critique) → judge; in the final round a
closing critique pass (allocated, then ruled) first gives ideas born late, e.g. revisions, their critics."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send

from gauntlet.graphs.protocols import critique_routing as routing
from gauntlet.graphs.protocols import moves
from gauntlet.graphs.protocols.formalise_move import formalise, pending_claims
from gauntlet.graphs.protocols.rulings import rule
from gauntlet.graphs.protocols.state import DebateContext, DebateState, task_for

SUMMARY = "propose, critique, formalise, rebut, rule, judge (a closing critique pass covers final-round revisions)"


def route_critique(state: DebateState, runtime: Runtime[DebateContext]) -> list[Send] | str:
    """Critique work is allocated (every idea gets its critics; see protocols/allocation.py), one `Send` per
    critic and batch of assigned ideas."""
    sends = routing.critique_sends(state, runtime.context.config)
    # Claims still get their provers when nobody critiques (formalise then goes on to rebut/judge).
    return sends or ("formalise" if _claims_pending(state) else "judge")


def _claims_pending(state: DebateState) -> bool:
    return bool(pending_claims(state.get("nodes", []), state.get("edges", [])))


def route_formalise(state: DebateState) -> list[Send] | str:
    """After critique: math claims go to the provers first, so authors rebut knowing the verdicts."""
    return "formalise" if _claims_pending(state) else route_rebut(state)


def route_rebut(state: DebateState) -> list[Send] | str:
    """Each attacked idea's defender answers: its author, or the champion of a seed idea (a proposer, or a critic
    when nobody proposes); never a stand-in."""
    by_id = {n["id"]: n for n in state.get("nodes", [])}
    panel = set(state.get("proposers", [])) | set(state.get("critics", []))
    authors = []
    for e in state.get("edges", []):
        src, dst = by_id[e["src"]], by_id[e["dst"]]
        if e["kind"] == "attacks" and src["kind"] == "critique" and src["round"] == state["round"]:
            who = moves.owner(dst)
            if who and who not in authors and who in panel:
                authors.append(who)
    return [Send("rebut", task_for(state, a)) for a in authors] or "rule"


def route_next(state: DebateState) -> str:
    if state.get("stopped"):
        return END  # a budget ran out: this round is closed, no further one starts
    return "next_round" if state["round"] < state["rounds"] else END


def build_gauntlet() -> StateGraph:
    """The uncompiled graph; compile it with a checkpointer to make runs resumable and forkable."""
    g = StateGraph(DebateState, context_schema=DebateContext)
    g.add_node("open", moves.open_debate)
    g.add_node("propose", moves.propose)
    g.add_node("gather", lambda state: {})  # joins the proposal branches before critique
    g.add_node("critique", moves.critique)
    g.add_node("review", lambda state: {})  # joins the critique branches before rebuttal
    g.add_node("formalise", formalise)  # math claims → provers → formal_result nodes
    g.add_node("rebut", moves.rebut)
    g.add_node("rule", rule)  # issue 13: only sustained critiques defeat
    g.add_node(routing.CLOSE, moves.critique)  # the closing pass: ideas still short of critics
    g.add_node(routing.CLOSE_RULE, rule)
    g.add_node("judge", moves.judge)
    g.add_node("next_round", moves.next_round)
    g.add_edge(START, "open")
    g.add_conditional_edges("open", moves.route_propose, ["propose", "gather"])
    g.add_edge("propose", "gather")
    g.add_conditional_edges("gather", route_critique, ["critique", "formalise", "judge"])
    g.add_edge("critique", "review")
    g.add_conditional_edges("review", route_formalise, ["formalise", "rebut", "rule"])
    g.add_conditional_edges("formalise", route_rebut, ["rebut", "rule"])
    g.add_edge("rebut", "rule")
    g.add_conditional_edges("rule", routing.closing_router(route_next), [routing.CLOSE, "judge"])
    g.add_edge(routing.CLOSE, routing.CLOSE_RULE)
    g.add_edge(routing.CLOSE_RULE, "judge")
    g.add_conditional_edges("judge", route_next, ["next_round", END])
    g.add_edge("next_round", "gather")
    return g


def initial_state(ctx: DebateContext) -> DebateState:
    cfg = ctx.config
    return {"round": 1, "rounds": cfg.rounds, "proposers": list(cfg.panel.proposers),
            "critics": list(cfg.panel.critics), "judge": cfg.panel.judge or "", "nodes": [], "edges": [],
            "calls": []}
