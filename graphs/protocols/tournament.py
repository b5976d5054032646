"""The *tournament* protocol: ideas meet in pairwise matches, a judge decides each, Elo ranks them.

    open → propose (fan-out) → gather → match (fan-out, one branch per pairing) → rule → standings → next round | end

In a match each idea's advocate argues why theirs is the better bet: an anchored critique of the rival idea (it
quotes the rival's words it attacks, names a flaw type and a severity). The judge's choice is then read from its
answer probabilities, blind (labels A/B, names scrubbed) and in both orders, which cancels position bias (a known
LLM-judge failure); a side wins only when its calibrated probability reaches the threshold, otherwise the match is
a tie (half a point each in Elo): graphs/protocols/scored_match.py. A judge who defends one of the two ideas hands
the match to a stand-in panellist. Decisions are stored as judgement nodes with
`data["match"] = {a, b, winner, loser, tie, round, index, p_a, threshold, calibration, …}`; Elo is recomputed
from them (graphs/argument/analysis.py), so the stored graph, not this process, is the source of the ranking.

Ranking is not refutation: losing a match shoots no idea down. After the round's matches, independent
jurors rule on every match argument like on any critique (graphs/protocols/rulings.py); only a sustained fatal or
major argument defeats the idea it attacks, and the match decision attacks nothing.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, Literal

from langgraph.graph import END, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send
from pydantic import BaseModel, ConfigDict, Field

from gauntlet.agents import prompts
from gauntlet.agents import protocol_prompts as pp
from gauntlet.graphs.argument import analysis
from gauntlet.agents.schemas import CritiqueItem
from gauntlet.graphs.argument.argument_graph import ArgumentGraph
from gauntlet.graphs.protocols import blind, critiques, scored_match, skeleton
from gauntlet.graphs.protocols.rulings import rule
from gauntlet.graphs.protocols.state import Call, DebateContext, DebateState, Edge, Node, Task, Update, task_for
from gauntlet.graphs.protocols.toolkit import ask, budgeted, cited, node, owner, superseded

SUMMARY = "pairwise matches between ideas, a judge decides each, Elo ratings rank them"


class TournamentOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pairing: Literal["round_robin", "swiss"] = "round_robin"
    debate: bool = Field(default=True, description="advocates argue before the judge decides (2 calls more)")
    max_matches: int = Field(default=64, ge=1, le=10_000, description="cap on matches per round")


class MatchTask(Task):
    match: list[str]  # [idea a, idea b]
    index: int


def check_panel(config: Any) -> None:
    if not config.panel.judge:
        raise ValueError("protocol tournament needs panel.judge to decide the matches")


def options(ctx: DebateContext) -> TournamentOptions:
    return TournamentOptions.model_validate(ctx.config.protocol_options)


def live_ideas(nodes: list[Node], edges: list[Edge]) -> list[str]:
    gone = superseded(nodes, edges)
    return [n["id"] for n in nodes if n["kind"] == "idea" and n["id"] not in gone]


def pairings(ideas: list[str], ratings: dict[str, float], played: set[frozenset[str]], rnd: int, seed: int,
             pairing: str, cap: int) -> list[tuple[str, str]]:
    """This round's matches. Round robin plays every pair not yet played (in a seeded order); Swiss pairs ideas
    of similar rating, avoiding rematches where it can, and gives the odd one out a bye."""
    rng = random.Random(f"{seed}/tournament/{rnd}")
    if pairing == "round_robin":
        pairs = [(a, b) for i, a in enumerate(ideas) for b in ideas[i + 1:] if frozenset((a, b)) not in played]
        if not pairs:  # everyone has met: a new round is a full rematch
            pairs = [(a, b) for i, a in enumerate(ideas) for b in ideas[i + 1:]]
        rng.shuffle(pairs)
        return pairs[:cap]
    order = sorted(ideas, key=lambda i: (-ratings.get(i, analysis.ELO_START), rng.random()))
    out: list[tuple[str, str]] = []
    free = list(order)
    while len(free) >= 2:
        a = free.pop(0)
        b = next((x for x in free if frozenset((a, x)) not in played), free[0])
        free.remove(b)
        out.append((a, b))
    return out[:cap]


def advocate(idea: Node, rival: Node, state: DebateState, index: int) -> str:
    """Who argues for an idea: its owner when on the panel, otherwise a panellist by turn; never the rival's
    owner (one persona arguing both sides of a match is no match)."""
    who, against = owner(idea), owner(rival)
    panel = list(dict.fromkeys(list(state.get("proposers", [])) + list(state.get("critics", []))))
    if who in panel and who != against:
        return who
    others = [p for p in panel if p != against] or panel
    return others[index % len(others)] if others else state.get("judge", "")


# --- routing ----------------------------------------------------------------------------------------------
def _matches(state: DebateState, cap: int, pairing: str, seed: int) -> list[tuple[str, str]]:
    nodes, edges = state.get("nodes", []), state.get("edges", [])
    graph = ArgumentGraph(nodes, edges)
    played = {frozenset((m["a"], m["b"])) for m in analysis.matches(graph)}
    ratings = analysis.elo(graph)
    return pairings(live_ideas(nodes, edges), ratings, played, state["round"], seed, pairing, cap)


def route_matches(state: DebateState, runtime: Runtime[DebateContext]) -> list[Send] | str:
    opts = options(runtime.context)
    pairs = _matches(state, opts.max_matches, opts.pairing, runtime.context.config.seed)
    # The debate so far travels as `seen` (state.task_for); the match move reads the lists back from the state.
    return [Send("match", {**task_for(state, state.get("judge", "")), "match": [a, b], "index": i + 1})
            for i, (a, b) in enumerate(pairs)] or "standings"


# --- moves ------------------------------------------------------------------------------------------------
def _line(n: Node) -> str:
    return f"[{n['id']}] {n['title']}: {n['text']}"


@budgeted
async def match(task: MatchTask, runtime: Runtime[DebateContext]) -> Update:
    ctx = runtime.context
    opts = options(ctx)
    rnd, i, judge = task["round"], task["index"], task["persona"]
    by_id = {n["id"]: n for n in task["nodes"]}
    a, b = task["match"]
    state_like: DebateState = {"proposers": list(ctx.config.panel.proposers),
                               "critics": list(ctx.config.panel.critics), "judge": judge}
    nodes: list[Node] = []
    edges: list[Edge] = []
    calls: list[Call] = []
    cases = {a: "(no argument)", b: "(no argument)"}
    if opts.debate:
        async def argue(mine: str, theirs: str, slot: int) -> None:
            who = advocate(by_id[mine], by_id[theirs], state_like, i + slot)
            msgs = pp.match_argument_messages(ctx.personas[who], ctx.config.topic, _line(by_id[mine]),
                                              _line(by_id[theirs]))
            arg: pp.MatchArgument
            arg, call = await ask(ctx, who, "match", rnd, msgs, pp.MatchArgument,
                                  pp.match_argument_schema(critiques.quotable([by_id[theirs]])[theirs]),
                                  tag=f"m{i}-{mine}")
            cases[mine] = prompts.tidy(arg.text, 360)
            item = CritiqueItem(target=theirs, kind="objection", anchor=arg.anchor, flaw_type=arg.flaw_type,
                                severity=arg.severity, text=arg.text)
            (item, anchor, _), = critiques.place([item], by_id)
            # Anchored, it attacks the rival (counted once sustained); unanchored, it is a comment that attacks nothing.
            n, e = critiques.critique_record(item, anchor, who, rnd, f"r{rnd}-m{i}-for-{mine}",
                                             title="match argument", match=i, side=mine)
            nodes.extend(cited([n], call))
            edges.append(e)
            calls.append(call)

        await asyncio.gather(argue(a, b, 0), argue(b, a, 1))
    decider = blind.impartial(judge, {owner(by_id[a]), owner(by_id[b])}, list(state_like["proposers"])
                              + list(state_like["critics"]), ctx.config.seed, f"r{rnd}/m{i}") or judge
    winner, decision, call = await decide(ctx, decider, rnd, i, by_id[a], by_id[b], cases)
    calls.append(call)
    jid = f"r{rnd}-match{i}"
    why = (f"P({a} is the better bet) = {decision['p_a']:.2f}"
           + (f", threshold {decision['threshold']:.2f}" if decision["threshold"] is not None else ""))
    if winner is None:  # no side reached the threshold (or the backend could not score): a tie
        nodes.append(node(jid, "judgement", decider, rnd, f"Match {i}: {a} and {b} tie", why + ": a tie",
                          match={"a": a, "b": b, "winner": a, "loser": b, "tie": True, "round": rnd,
                                 "index": i, **decision}))
        return {"nodes": nodes, "edges": edges, "calls": calls}
    loser = b if winner == a else a
    nodes.append(node(jid, "judgement", decider, rnd, f"Match {i}: {winner} beats {loser}", why,
                      match={"a": a, "b": b, "winner": winner, "loser": loser, "tie": False, "round": rnd,
                             "index": i, **decision}))
    return {"nodes": nodes, "edges": edges, "calls": calls}


async def decide(ctx: DebateContext, judge: str, rnd: int, i: int, a: Node, b: Node,
                 cases: dict[str, str]) -> tuple[str | None, dict[str, Any], Call]:
    """The match scored blind (labels A and B, names scrubbed), once in each order
    (graphs/protocols/scored_match.py): the winner when its calibrated probability reaches the threshold, else
    None (a tie)."""
    pattern = blind.scrubber(list(ctx.personas) + [p.label for p in ctx.personas.values()])

    def shown(n: Node, label: str) -> str:
        return f"[{label}] {blind.scrub(n['title'], pattern)}: {blind.scrub(n['text'], pattern)}"

    def build(first: Node, second: Node) -> list[Any]:
        return prompts.match_question(ctx.personas[judge], ctx.config.topic, shown(first, "A"), shown(second, "B"),
                                      blind.scrub(cases[first["id"]], pattern),
                                      blind.scrub(cases[second["id"]], pattern))

    return await scored_match.decide(ctx, judge, rnd, i, a, b, build)


def standings(state: DebateState, runtime: Runtime[DebateContext]) -> Update:
    """A readable Elo table after each round (derived: the ranking is recomputed from the matches)."""
    rnd = state["round"]
    ratings = analysis.elo(ArgumentGraph(state.get("nodes", []), state.get("edges", [])))
    if not ratings:
        return {}
    text = "; ".join(f"{k}: {v:.0f}" for k, v in sorted(ratings.items(), key=lambda kv: -kv[1]))
    return {"nodes": [node(f"r{rnd}-elo", "judgement", state.get("judge", ""), rnd,
                                 f"Elo after round {rnd}", text, elo={k: round(v, 1) for k, v in ratings.items()})]}


def build_tournament() -> StateGraph:
    g = skeleton.new_graph()
    skeleton.add_opening(g)
    g.add_node("match", match)
    g.add_node("rule", rule)  # jurors rule on the match arguments; only sustained ones defeat
    g.add_node("standings", standings)
    g.add_node("next_round", skeleton.next_round)
    g.add_conditional_edges(skeleton.GATHER, route_matches, ["match", "standings"])
    g.add_edge("match", "rule")
    g.add_edge("rule", "standings")
    g.add_conditional_edges("standings", skeleton.next_or_end, ["next_round", END])
    g.add_edge("next_round", skeleton.GATHER)
    return g
