"""The *red_team* protocol: many critics, one defender, the fastest path to shooting an idea down.

    open → propose (fan-out) → gather → attack (allocated fan-out) → defend (one defender) → rule
         → [final round: closing critique pass → rule] → judge → next round while something still stands | end

Critics attack only what is still standing (ideas, and the defender's counters that reinstate them), so each
round spends the panel on the survivors; the run ends early once every idea is shot down. As in the gauntlet
protocol, no critic picks its target: each round the panel is allocated afresh over what still stands
(`allocation.allocate`), so every target gets `min_critics_per_idea` distinct attackers (fewer only when the
panel, less the target's owner and the defender, is smaller) and the load is balanced; a survivor faces the panel
again next round. Revisions the defender makes in the final round get their critics in the closing pass
(protocols/critique_routing.py). The defender is one persona for every idea (`protocol_options.defender`, default
the first proposer) and never attacks.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send
from pydantic import BaseModel, ConfigDict, Field

from gauntlet.agents import prompts
from gauntlet.agents import protocol_prompts as pp
from gauntlet.agents.schemas import RebuttalSet, rebuttal_schema
from gauntlet.graphs.argument.argument_graph import ArgumentGraph
from gauntlet.graphs.protocols import allocation, skeleton
from gauntlet.graphs.protocols import critique_routing as routing
from gauntlet.graphs.protocols.critique_moves import CritiqueTask, critique_assigned
from gauntlet.graphs.protocols.rebuttal_moves import rebuttal_nodes, revised_idea
from gauntlet.graphs.protocols.rulings import rule
from gauntlet.graphs.protocols.state import DebateContext, DebateState, Edge, Node, Update
from gauntlet.graphs.protocols.toolkit import ask, budgeted, cited, owner, superseded

SUMMARY = "many critics attack, one defender answers, until every idea is shot down or the rounds run out"


class RedTeamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    defender: str | None = Field(default=None, description="the one persona defending every idea")


def check_panel(config: Any) -> None:
    opts = RedTeamOptions.model_validate(config.protocol_options)
    if opts.defender is None and not config.panel.proposers and not config.panel.judge:
        raise ValueError("protocol red_team needs a defender: set protocol_options.defender or panel.proposers")
    panel = set(config.panel.proposers) | set(config.panel.critics) | {config.panel.judge}
    if opts.defender is not None and opts.defender not in panel:
        raise ValueError(f"protocol_options.defender {opts.defender!r} is not on the panel; add it to "
                         "panel.proposers")
    if len(config.panel.critics) < 2:
        raise ValueError("protocol red_team needs at least two panel.critics (it is a team)")


def defender_of(ctx: DebateContext) -> str:
    opts = RedTeamOptions.model_validate(ctx.config.protocol_options)
    return opts.defender or (ctx.config.panel.proposers or [ctx.config.panel.judge or ""])[0]


def targets(nodes: list[Node], edges: list[Edge]) -> list[Node]:
    """What is still worth attacking: live ideas and defender counters that are not already rejected."""
    graph = ArgumentGraph(nodes, edges)
    gone = superseded(nodes, edges)
    return [n for n in nodes if n["id"] not in gone
            and (n["kind"] == "idea" or (n["kind"] == "rebuttal" and n["data"].get("action") == "counter"))
            and graph.status(n["id"]) != "shot_down"]


def attack_plan(nodes: list[Node], edges: list[Edge], critics: list[str], defender: str,
                rnd: int, *, min_critics: int, per_critic: int, seed: int) -> dict[str, list[str]]:
    """critic → the targets it attacks this round: the allocation over what still stands, never a target's owner,
    never the defender (it answers the attacks)."""
    live = targets(nodes, edges)
    return allocation.allocate([n["id"] for n in live], {n["id"]: owner(n) for n in live},
                               [c for c in critics if c != defender], min_critics=min_critics,
                               per_critic=per_critic, seed=seed, key=f"red_team/r{rnd}")


def route_attack(state: DebateState, runtime: Runtime[DebateContext]) -> list[Send] | str:
    """One `Send` per (critic, batch of allocated targets)."""
    ctx = runtime.context
    plan = attack_plan(state.get("nodes", []), state.get("edges", []), state.get("critics", []), defender_of(ctx),
                       state["round"], min_critics=ctx.config.min_critics_per_idea,
                       per_critic=ctx.config.critiques_per_critic, seed=ctx.config.seed)
    return routing.assignment_sends(state, plan, "attack") or "judge"


def route_next(state: DebateState) -> str:
    if state.get("stopped"):
        return END  # a budget ran out
    nodes, edges = state.get("nodes", []), state.get("edges", [])
    graph = ArgumentGraph(nodes, edges)
    gone = superseded(nodes, edges)
    alive = [n for n in graph.ideas() if n.id not in gone and graph.status(n.id) != "shot_down"]
    return "next_round" if alive and state["round"] < state["rounds"] else END


@budgeted
async def attack(task: CritiqueTask, runtime: Runtime[DebateContext]) -> Update:
    """A critic attacks the targets allocated to it, each with its own attack (listed in a per-call seeded order)."""
    ctx = runtime.context
    who, rnd, batch = task["persona"], task["round"], task.get("batch", 0)
    by_id = {n["id"]: n for n in task["nodes"]}
    assigned = [i for i in task.get("assigned", []) if i in by_id]
    if not assigned:
        return {}
    tag = f"b{batch + 1}" if batch else ""
    live = allocation.shuffled([by_id[i] for i in assigned], ctx.config.seed, f"r{rnd}/attack/{who}/{tag}")
    ids = [t["id"] for t in live]
    msgs = pp.red_team_messages(ctx.personas[who], ctx.config.topic, prompts.describe_nodes(live), ids, len(ids))
    prefix = f"r{rnd}-attack-{who}" + (f"-{tag}" if tag else "")
    return await critique_assigned(ctx, who, "attack", rnd, msgs, live, assigned, len(ids), prefix, tag)


@budgeted
async def defend(state: DebateState, runtime: Runtime[DebateContext]) -> Update:
    ctx = runtime.context
    who, rnd = defender_of(ctx), state["round"]
    by_id = {n["id"]: n for n in state.get("nodes", [])}
    hits = [e for e in state.get("edges", []) if e["kind"] == "attacks" and by_id[e["src"]]["round"] == rnd
            and by_id[e["src"]]["kind"] == "critique"][:20]
    if not hits or who not in ctx.personas:
        return {}
    shown: dict[str, Node] = {}
    for e in hits:
        shown[e["dst"]] = by_id[e["dst"]]
        shown[e["src"]] = by_id[e["src"]]
    ids = [e["src"] for e in hits]
    msgs = pp.defence_messages(ctx.personas[who], ctx.config.topic, prompts.describe_nodes(list(shown.values())),
                               ids)
    rs: RebuttalSet
    rs, call = await ask(ctx, who, "defend", rnd, msgs, RebuttalSet, rebuttal_schema(ids))
    nodes, edges = rebuttal_nodes(rs, ids, who, rnd, f"r{rnd}-defence",
                                  lambda i, rid, r: revised_idea(by_id, r, who, rnd, rid,
                                                                 f"r{rnd}-idea-{who}-rev{i + 1}", champion=who))
    return {"nodes": cited(nodes, call), "edges": edges, "calls": [call]}


def build_red_team() -> StateGraph:
    g = skeleton.new_graph()
    skeleton.add_opening(g)
    g.add_node("attack", attack)
    g.add_node("defend", defend)
    g.add_node("rule", rule)  # independent jurors rule each anchored critique
    g.add_conditional_edges(skeleton.GATHER, route_attack, ["attack", "judge"])
    g.add_edge("attack", "defend")
    g.add_edge("defend", "rule")
    skeleton.add_closing(g, "rule", route_next)
    return g
