"""What every debate protocol shares: the opening (seed ideas, round 1's proposals), the turn to the next round,
and the closing wiring (the final round's closing critique pass, its rulings, the judge), written once.

    START → open → propose (fan-out, round 1 only) → gather → <the protocol's own steps> → …
    … → rule → [final round: close → rule_close] → judge → next_round → gather | END

A protocol adds its own steps between `gather` and its rulings with `add_opening` and `add_closing` around them
(the tournament and deconfusion protocols use only the moves, and wire their own rounds)."""

from __future__ import annotations

from typing import Callable

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send

from gauntlet.agents import prompts
from gauntlet.agents.schemas import Proposal, proposal_schema
from gauntlet.graphs.protocols import allocation
from gauntlet.graphs.protocols import critique_routing as routing
from gauntlet.graphs.protocols.critique_moves import critique
from gauntlet.graphs.protocols.judging import judge
from gauntlet.graphs.protocols.rulings import rule
from gauntlet.graphs.protocols.state import DebateContext, DebateState, Task, Update, task_for
from gauntlet.graphs.protocols.toolkit import ask, budgeted, cited, edge, node

GATHER = "gather"  # the join after the proposals, and where each later round starts


def new_graph() -> StateGraph:
    return StateGraph(DebateState, context_schema=DebateContext)


def add_opening(g: StateGraph) -> None:
    """START → open → propose (one branch per proposer, round 1) → gather; the protocol wires on from `gather`."""
    g.add_node("open", open_debate)
    g.add_node("propose", propose)
    g.add_node(GATHER, lambda state: {})  # joins the proposal branches
    g.add_edge(START, "open")
    g.add_conditional_edges("open", route_propose, ["propose", GATHER])
    g.add_edge("propose", GATHER)


def add_closing(g: StateGraph, after: str, route_next: Callable[[DebateState], str]) -> None:
    """After the round's rulings (`after`): the closing critique pass when the round is the debate's last and an
    idea is short of critics (critique_routing.closing_router), its rulings, the judge, then the next round from
    `gather` or the end, as `route_next` says."""
    g.add_node(routing.CLOSE, critique)  # the closing pass: ideas still short of critics
    g.add_node(routing.CLOSE_RULE, rule)
    g.add_node("judge", judge)
    g.add_node("next_round", next_round)
    g.add_conditional_edges(after, routing.closing_router(route_next), [routing.CLOSE, "judge"])
    g.add_edge(routing.CLOSE, routing.CLOSE_RULE)
    g.add_edge(routing.CLOSE_RULE, "judge")
    g.add_conditional_edges("judge", route_next, ["next_round", END])
    g.add_edge("next_round", GATHER)


def next_or_end(state: DebateState) -> str:
    """Another round while the plan has one and the budget lasts."""
    if state.get("stopped"):
        return END  # a budget ran out: this round is closed, no further one starts
    return "next_round" if state["round"] < state["rounds"] else END


def route_propose(state: DebateState) -> list[Send] | str:
    """Round 1 fans out to every proposer (one `Send` each); later rounds go straight to the join."""
    if state["round"] == 1 and state.get("proposers"):
        return [Send("propose", task_for(state, p)) for p in state["proposers"]]
    return GATHER


def open_debate(state: DebateState, runtime: Runtime[DebateContext]) -> Update:
    """Round 1: the user's seed proposals enter as ideas, each with a defender: the champion its config names, or
    one the protocol assigns (balanced, seeded), recorded as `champion` and `champion_source`."""
    cfg = runtime.context.config
    picks = allocation.champions([sp.champion for sp in cfg.seed_proposals], cfg.panel.proposers,
                                 cfg.panel.critics, cfg.seed)
    out: Update = {"nodes": [], "edges": []}
    for i, (sp, (champion, source)) in enumerate(zip(cfg.seed_proposals, picks), 1):
        idea_id = f"seed-{i}"
        out["nodes"].append(node(idea_id, "idea", "seed", 1, sp.title, sp.claim, rationale=sp.rationale,
                                 champion=champion, champion_source=source))
        for k, claim in enumerate(sp.math_claims, 1):
            out["nodes"].append(node(f"{idea_id}-claim{k}", "claim", "seed", 1, "", claim, champion=champion))
            out["edges"].append(edge(f"{idea_id}-claim{k}", idea_id, "supports"))
    return out


@budgeted
async def propose(task: Task, runtime: Runtime[DebateContext]) -> Update:
    ctx = runtime.context
    who, rnd = task["persona"], task["round"]
    context = prompts.describe_nodes([n for n in task["nodes"] if n["kind"] == "idea"])
    msgs = prompts.propose_messages(ctx.personas[who], ctx.config.topic, context)
    p: Proposal
    p, call = await ask(ctx, who, "propose", rnd, msgs, Proposal, proposal_schema())
    idea_id = f"r{rnd}-idea-{who}"
    nodes = [node(idea_id, "idea", who, rnd, prompts.tidy(p.title, 90), prompts.tidy(p.claim, 320),
                  rationale=prompts.tidy(p.rationale, 420))]
    edges = []
    for k, claim in enumerate(c for c in p.math_claims if c.text.strip()):
        # The author's triage travels with the claim: the formalise move's gate reads claim_kind and quantities.
        nodes.append(node(f"{idea_id}-claim{k + 1}", "claim", who, rnd, "", prompts.tidy(claim.text, 160),
                          claim_kind=claim.kind, quantities=[q for q in claim.quantities if q.strip()]))
        edges.append(edge(f"{idea_id}-claim{k + 1}", idea_id, "supports"))
    return {"nodes": cited(nodes, call), "edges": edges, "calls": [call]}


def next_round(state: DebateState) -> Update:
    return {"round": state["round"] + 1}
