"""The *gauntlet* protocol as a LangGraph StateGraph: propose → critique (fan-out) → formalise (when there are
math claims) → rebut (fan-out) → rule (independent jurors on each anchored critique) → judge; in the final round a
closing critique pass (allocated, then ruled) first gives ideas born late, e.g. revisions, their critics."""

from __future__ import annotations

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send

from gauntlet.graphs.protocols import critique_routing as routing
from gauntlet.graphs.protocols import skeleton
from gauntlet.graphs.protocols.critique_moves import critique
from gauntlet.graphs.protocols.formalise_move import formalise, pending_claims
from gauntlet.graphs.protocols.rebuttal_moves import rebut
from gauntlet.graphs.protocols.rulings import rule
from gauntlet.graphs.protocols.state import DebateContext, DebateState, task_for
from gauntlet.graphs.protocols.toolkit import owner

SUMMARY = "propose, critique, formalise, rebut, rule, judge (a closing critique pass covers final-round revisions)"


def route_critique(state: DebateState, runtime: Runtime[DebateContext]) -> list[Send] | str:
    """Critique work is allocated (every idea gets its critics; see allocation.py), one `Send` per
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
            who = owner(dst)
            if who and who not in authors and who in panel:
                authors.append(who)
    return [Send("rebut", task_for(state, a)) for a in authors] or "rule"


def build_gauntlet() -> StateGraph:
    """The uncompiled graph; compile it with a checkpointer to make runs resumable and forkable."""
    g = skeleton.new_graph()
    skeleton.add_opening(g)
    g.add_node("critique", critique)
    g.add_node("review", lambda state: {})  # joins the critique branches before rebuttal
    g.add_node("formalise", formalise)  # math claims → provers → formal_result nodes
    g.add_node("rebut", rebut)
    g.add_node("rule", rule)  # only sustained critiques defeat
    g.add_conditional_edges(skeleton.GATHER, route_critique, ["critique", "formalise", "judge"])
    g.add_edge("critique", "review")
    g.add_conditional_edges("review", route_formalise, ["formalise", "rebut", "rule"])
    g.add_conditional_edges("formalise", route_rebut, ["rebut", "rule"])
    g.add_edge("rebut", "rule")
    skeleton.add_closing(g, "rule", skeleton.next_or_end)
    return g
