"""The *deconfusion* protocol: two personas hold intuitions in tension; the others build concrete toy cases
until one intuition gives way.

    open → intuitions (holder A states, then holder B states the one most in tension with it) → build (fan-out:
    each builder makes one toy case) → hold (fan-out: each holder concedes, weakens or counters) → rule → next
    round while both intuitions stand | judge → end

The tension is a mutual attack between the two intuitions, so under grounded semantics both start undecided.
A toy case that undermines an intuition is an anchored critique of it (it quotes the words it breaks, names a
flaw type and a severity); a holder's counter attacks the case; a concession supports it. Then independent
jurors rule on each case like on any critique (graphs/protocols/rulings.py): only a sustained fatal or
major case defeats its intuition, which then gives way, the rival is reinstated, and the debate stops. A revision
(a weaker intuition) replaces the old one, stays in tension, and faces the case it claims to survive unless the
jury overruled that case.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send
from pydantic import BaseModel, ConfigDict, Field

from gauntlet.agents import prompts
from gauntlet.agents import protocol_prompts as pp
from gauntlet.agents.schemas import CritiqueItem, RebuttalSet, rebuttal_schema
from gauntlet.graphs.argument.argument_graph import ArgumentGraph
from gauntlet.graphs.protocols import critiques, skeleton
from gauntlet.graphs.protocols.judging import judge
from gauntlet.graphs.protocols.rebuttal_moves import rebuttal_nodes
from gauntlet.graphs.protocols.rulings import rule
from gauntlet.graphs.protocols.state import DebateContext, DebateState, Edge, Node, Task, Update, task_for
from gauntlet.graphs.protocols.toolkit import ask, budgeted, cited, edge, node, owner, superseded

SUMMARY = "two intuitions in tension; the others build toy cases until one gives way"


class DeconfusionOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    holders: list[str] | None = Field(default=None, min_length=2, max_length=2,
                                      description="the two personas in tension (default: the first two proposers)")


def holders_of(config: Any) -> list[str]:
    opts = DeconfusionOptions.model_validate(config.protocol_options)
    return list(opts.holders or config.panel.proposers[:2])


def check_panel(config: Any) -> None:
    holders = holders_of(config)
    if len(holders) != 2 or holders[0] == holders[1]:
        raise ValueError("protocol deconfusion needs two different holders: list two panel.proposers or set "
                         "protocol_options.holders")
    panel = set(config.panel.proposers) | set(config.panel.critics) | {config.panel.judge}
    missing = [h for h in holders if h not in panel]
    if missing:
        raise ValueError(f"deconfusion holder {missing[0]!r} is not on the panel; add it to panel.proposers")
    if not [c for c in config.panel.critics if c not in holders]:
        raise ValueError("protocol deconfusion needs panel.critics other than the two holders to build toy cases")


def intuitions(nodes: list[Node], edges: list[Edge], holders: list[str]) -> dict[str, str]:
    """Each holder's current intuition (their latest idea not replaced by a revision)."""
    gone = superseded(nodes, edges)
    out: dict[str, str] = {}
    for n in nodes:
        if n["kind"] == "idea" and n["id"] not in gone and owner(n) in holders:
            out[owner(n)] = n["id"]
    return out


def _line(n: Node) -> str:
    return f"[{n['id']}] ({owner(n)}) {n['title']}: {n['text']}"


@budgeted
async def state_intuitions(state: DebateState, runtime: Runtime[DebateContext]) -> Update:
    """Holders without an intuition (from a seed proposal) state one; B states B's in tension with A's."""
    ctx = runtime.context
    holders = holders_of(ctx.config)
    nodes, edges, calls = list(state.get("nodes", [])), [], []
    fresh: list[Node] = []
    for who in holders:
        have = intuitions(nodes + fresh, [], holders)
        if who in have:
            continue
        rival = next((n for n in nodes + fresh if n["id"] in have.values()), None)
        msgs = pp.intuition_messages(ctx.personas[who], ctx.config.topic, _line(rival) if rival else "")
        it: pp.Intuition
        it, call = await ask(ctx, who, "intuition", 1, msgs, pp.Intuition, pp.intuition_schema())
        fresh += cited([node(f"intuition-{who}", "idea", who, 1, prompts.tidy(it.title, 90),
                             prompts.tidy(it.intuition, 320), intuition=True)], call)
        calls.append(call)
    ids = intuitions(nodes + fresh, [], holders)
    a, b = ids[holders[0]], ids[holders[1]]
    edges += [edge(a, b, "attacks"), edge(b, a, "attacks")]  # the tension itself
    return {"nodes": fresh, "edges": edges, "calls": calls}


def route_build(state: DebateState, runtime: Runtime[DebateContext]) -> list[Send] | str:
    holders = holders_of(runtime.context.config)
    builders = [c for c in state.get("critics", []) if c not in holders]
    return [Send("build", task_for(state, b)) for b in builders] or "judge"


@budgeted
async def build(task: Task, runtime: Runtime[DebateContext]) -> Update:
    ctx = runtime.context
    who, rnd = task["persona"], task["round"]
    holders = holders_of(ctx.config)
    by_id = {n["id"]: n for n in task["nodes"]}
    live = intuitions(task["nodes"], task["edges"], holders)
    ids = [live[h] for h in holders if h in live]
    tension = "\n".join(_line(by_id[i]) for i in ids)
    earlier = prompts.describe_nodes([n for n in task["nodes"] if n["data"].get("toy_case")], limit_chars=1200)
    msgs = pp.toy_case_messages(ctx.personas[who], ctx.config.topic, tension, ids, earlier)
    tc: pp.ToyCase
    tc, call = await ask(ctx, who, "build", rnd, msgs, pp.ToyCase,
                               pp.toy_case_schema(ids, critiques.quotable([by_id[i] for i in ids])))
    if tc.target not in ids:
        return {"calls": [call]}
    kind = "counterexample" if tc.verdict == "undermines" else "support"
    item = CritiqueItem.model_construct(target=tc.target, kind=kind, anchor=tc.anchor, flaw_type=tc.flaw_type,
                                        severity=tc.severity, failed_check="", text=tc.case)  # a case runs longer
    (item, anchor, _), = critiques.place([item], by_id)
    # Anchored, a case that undermines attacks its intuition (counted once sustained); unanchored, it is a comment.
    n, e = critiques.critique_record(item, anchor, who, rnd, f"r{rnd}-case-{who}", title="toy case",
                                     max_chars=420, toy_case=True)
    return {"nodes": cited([n], call), "edges": [e], "calls": [call]}


def route_hold(state: DebateState, runtime: Runtime[DebateContext]) -> list[Send] | str:
    holders = holders_of(runtime.context.config)
    live = intuitions(state.get("nodes", []), state.get("edges", []), holders)
    hit = {e["dst"] for e in state.get("edges", []) if e["kind"] == "attacks" and e["src"].startswith(
        f"r{state['round']}-case-")}
    return [Send("hold", task_for(state, h)) for h in holders if live.get(h) in hit] or "rule"


@budgeted
async def hold(task: Task, runtime: Runtime[DebateContext]) -> Update:
    ctx = runtime.context
    who, rnd = task["persona"], task["round"]
    holders = holders_of(ctx.config)
    by_id = {n["id"]: n for n in task["nodes"]}
    mine = intuitions(task["nodes"], task["edges"], holders)[who]
    cases = [by_id[e["src"]] for e in task["edges"] if e["kind"] == "attacks" and e["dst"] == mine
             and by_id[e["src"]]["data"].get("toy_case") and by_id[e["src"]]["round"] == rnd]
    ids = [c["id"] for c in cases]
    msgs = pp.hold_messages(ctx.personas[who], ctx.config.topic, _line(by_id[mine]),
                            prompts.describe_nodes(cases), ids)
    rs: RebuttalSet
    rs, call = await ask(ctx, who, "hold", rnd, msgs, RebuttalSet, rebuttal_schema(ids))
    rival = next(i for h, i in intuitions(task["nodes"], task["edges"], holders).items() if h != who)
    weakened: list[str] = []

    def weaken(i: int, rid: str, r: Any) -> tuple[list[Node], list[Edge]]:
        if weakened:  # one weakened intuition per turn, however many toy cases it answers
            return [], []
        new_id = f"r{rnd}-intuition-{who}"
        weakened.append(new_id)
        title = prompts.tidy(r.revised_title, 90) or by_id[mine]["title"] + " (weakened)"
        # `fixes`: the case this weaker intuition claims to survive; jurors see it, and face it unless overruled.
        return ([node(new_id, "idea", who, rnd, title, prompts.tidy(r.revised_claim, 320), revises=mine,
                      intuition=True, fixes=[r.target])],
                [edge(new_id, mine, "refines"), edge(rid, new_id, "supports"),
                 edge(new_id, rival, "attacks"), edge(rival, new_id, "attacks")])

    nodes, edges = rebuttal_nodes(rs, ids, who, rnd, f"r{rnd}-hold-{who}", weaken)
    return {"nodes": cited(nodes, call), "edges": edges, "calls": [call]}


def given_way(nodes: list[Node], edges: list[Edge], holders: list[str]) -> str | None:
    """The holder whose intuition is now rejected, if any."""
    graph = ArgumentGraph(nodes, edges)
    for who, idea in intuitions(nodes, edges, holders).items():
        if graph.status(idea) == "shot_down":
            return who
    return None


def route_next(state: DebateState, runtime: Runtime[DebateContext]) -> str:
    if state.get("stopped"):
        return END  # a budget ran out
    holders = holders_of(runtime.context.config)
    if given_way(state.get("nodes", []), state.get("edges", []), holders) or state["round"] >= state["rounds"]:
        return "judge"
    return "next_round"


def build_deconfusion() -> StateGraph:
    g = skeleton.new_graph()
    g.add_node("open", skeleton.open_debate)
    g.add_node("intuitions", state_intuitions)
    g.add_node("build", build)
    g.add_node("review", lambda state: {})  # joins the toy-case branches before the holders answer
    g.add_node("hold", hold)
    g.add_node("rule", rule)  # jurors rule on the toy cases; only sustained fatal/major ones defeat
    g.add_node("check", lambda state: {})  # after the rulings: decides whether one intuition gave way
    g.add_node("judge", judge)
    g.add_node("next_round", skeleton.next_round)
    g.add_edge(START, "open")
    g.add_edge("open", "intuitions")
    g.add_conditional_edges("intuitions", route_build, ["build", "judge"])
    g.add_edge("build", "review")
    g.add_conditional_edges("review", route_hold, ["hold", "rule"])
    g.add_edge("hold", "rule")
    g.add_edge("rule", "check")
    g.add_conditional_edges("check", route_next, ["next_round", "judge"])
    g.add_conditional_edges("next_round", route_build, ["build", "judge"])
    g.add_edge("judge", END)
    return g
