"""The *red_team* protocol: many critics, one defender, the fastest path to shooting an idea down.

    open → propose (fan-out) → gather → attack (fan-out to every critic) → defend (one defender) → rule → judge
         → next round while something still stands | end

Critics attack only what is still standing (ideas, and the defender's counters that reinstate them), so each
round spends the panel on the survivors; the run ends early once every idea is shot down. The defender is one
persona for every idea (`protocol_options.defender`, default the first proposer).
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send
from pydantic import BaseModel, ConfigDict, Field

from gauntlet.agents import prompts
from gauntlet.agents import protocol_prompts as pp
from gauntlet.agents.schemas import RebuttalSet, rebuttal_schema
from gauntlet.graphs.protocols import moves
from gauntlet.graphs.protocols.rulings import rule
from gauntlet.graphs.argument.argument_graph import ArgumentGraph
from gauntlet.graphs.protocols.state import DebateContext, DebateState, Task, task_for

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


def targets(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], critic: str) -> list[dict[str, Any]]:
    """What is still worth attacking: live ideas and defender counters that are not already rejected."""
    graph = ArgumentGraph(nodes, edges)
    gone = moves.superseded(nodes, edges)
    return [n for n in nodes if n["id"] not in gone and n["persona"] != critic
            and (n["kind"] == "idea" or (n["kind"] == "rebuttal" and n["data"].get("action") == "counter"))
            and graph.status(n["id"]) != "shot_down"]



def route_attack(state: DebateState) -> list[Send] | str:
    sends = [Send("attack", task_for(state, c)) for c in state.get("critics", [])
             if targets(state.get("nodes", []), state.get("edges", []), c)]
    return sends or "judge"


def route_next(state: DebateState) -> str:
    if state.get("stopped"):
        return END  # a budget ran out
    nodes, edges = state.get("nodes", []), state.get("edges", [])
    graph = ArgumentGraph(nodes, edges)
    gone = moves.superseded(nodes, edges)
    alive = [n for n in graph.ideas() if n.id not in gone and graph.status(n.id) != "shot_down"]
    return "next_round" if alive and state["round"] < state["rounds"] else END


@moves.budgeted
async def attack(task: Task, runtime: Runtime[DebateContext]) -> moves.Update:
    ctx = runtime.context
    who, rnd = task["persona"], task["round"]
    live = targets(task["nodes"], task["edges"], who)
    if not live:
        return {}
    ids = [t["id"] for t in live]
    k = min(ctx.config.critiques_per_critic, len(ids))
    msgs = pp.red_team_messages(ctx.personas[who], ctx.config.topic, prompts.describe_nodes(live), ids, k)
    return await moves.ask_critiques(ctx, who, "attack", rnd, msgs, live, k, f"r{rnd}-attack-{who}")


@moves.budgeted
async def defend(state: DebateState, runtime: Runtime[DebateContext]) -> moves.Update:
    ctx = runtime.context
    who, rnd = defender_of(ctx), state["round"]
    by_id = {n["id"]: n for n in state.get("nodes", [])}
    hits = [e for e in state.get("edges", []) if e["kind"] == "attacks" and by_id[e["src"]]["round"] == rnd
            and by_id[e["src"]]["kind"] == "critique"][:20]
    if not hits or who not in ctx.personas:
        return {}
    shown: dict[str, dict[str, Any]] = {}
    for e in hits:
        shown[e["dst"]] = by_id[e["dst"]]
        shown[e["src"]] = by_id[e["src"]]
    ids = [e["src"] for e in hits]
    msgs = pp.defence_messages(ctx.personas[who], ctx.config.topic, prompts.describe_nodes(list(shown.values())),
                               ids)
    rs: RebuttalSet
    rs, call = await moves.ask(ctx, who, "defend", rnd, msgs, RebuttalSet, rebuttal_schema(ids))
    nodes, edges = moves.rebuttal_moves(rs, ids, who, rnd, f"r{rnd}-defence",
                                        lambda i, rid, r: moves.revised_idea(by_id, r, who, rnd, rid,
                                                                             f"r{rnd}-idea-{who}-rev{i + 1}",
                                                                             champion=who))
    return {"nodes": moves.cited(nodes, call), "edges": edges, "calls": [call]}


def build_red_team() -> StateGraph:
    g = StateGraph(DebateState, context_schema=DebateContext)
    g.add_node("open", moves.open_debate)
    g.add_node("propose", moves.propose)
    g.add_node("gather", lambda state: {})  # joins the proposal branches before the attack
    g.add_node("attack", attack)
    g.add_node("defend", defend)
    g.add_node("rule", rule)  # issue 13: independent jurors rule each anchored critique
    g.add_node("judge", moves.judge)
    g.add_node("next_round", moves.next_round)
    g.add_edge(START, "open")
    g.add_conditional_edges("open", moves.route_propose, ["propose", "gather"])
    g.add_edge("propose", "gather")
    g.add_conditional_edges("gather", route_attack, ["attack", "judge"])
    g.add_edge("attack", "defend")
    g.add_edge("defend", "rule")
    g.add_edge("rule", "judge")
    g.add_conditional_edges("judge", route_next, ["next_round", END])
    g.add_edge("next_round", "gather")
    return g
