"""Who critiques what, and when: the allocation carried to the critique moves as `Send`s, and the closing pass.

Each round's critique work is allocated (`allocation.allocate`, pure), so no critic picks its target and every live
idea gets its `min_critics_per_idea` distinct critics. Ideas born after a round's critiques (a revision made in
the rebuttal step) get theirs in the next round, and, in the final round, in the **closing pass**: after the
round's rulings, every live idea still short of its critics is allocated once more (coverage only, no spare
critiques: `per_critic=0`), critiqued, and the new critiques ruled before the judge scores. There is no rebuttal
in the closing pass (a rebuttal could revise again, and so on without end); the jurors rule on the critique
alone, and see that it has none. The pass spends the run's budget like any move: when the budget ends first, the
ideas it did not reach stay unexamined and `show` says the budget ended.
"""

from __future__ import annotations

from typing import Any, Callable

from langgraph.runtime import Runtime
from langgraph.graph import END
from langgraph.types import Send

from gauntlet.graphs.protocols import allocation
from gauntlet.graphs.protocols.critique_moves import critique_targets
from gauntlet.graphs.protocols.state import DebateContext, DebateState, Edge, Node, task_for
from gauntlet.graphs.protocols.toolkit import owner, superseded

CLOSE = "close"  # the graph node of the closing pass's critiques (critique_moves.critique with `closing` set)
CLOSE_RULE = "rule_close"  # the rulings on them


def critique_plan(nodes: list[Node], edges: list[Edge], critics: list[str], rnd: int, *,
                  min_critics: int, per_critic: int, seed: int, key: str = "") -> dict[str, list[str]]:
    """This round's allocation over the live ideas; critiques from earlier rounds count toward coverage."""
    gone = superseded(nodes, edges)
    ideas = [n for n in nodes if n["kind"] == "idea"]
    seen: dict[str, set[str]] = {}
    for n in nodes:
        if n["kind"] == "critique" and n["data"].get("target"):
            seen.setdefault(n["data"]["target"], set()).add(n["persona"])
    live = [n["id"] for n in ideas if n["id"] not in gone]
    return allocation.allocate(live, {n["id"]: owner(n) for n in ideas}, critics, min_critics=min_critics,
                               per_critic=per_critic, seed=seed, key=key or f"r{rnd}", seen=seen)


def critique_sends(state: DebateState, cfg: Any) -> list[Send]:
    """One `Send` per (critic, batch of assigned ideas); a critic with nothing assigned still gets a call when
    there are rebuttals or formal results it may critique."""
    nodes, edges, rnd = state.get("nodes", []), state.get("edges", []), state["round"]
    plan = critique_plan(nodes, edges, state.get("critics", []), rnd, min_critics=cfg.min_critics_per_idea,
                         per_critic=cfg.critiques_per_critic, seed=cfg.seed)
    return assignment_sends(state, plan, "critique", spare=lambda critic: any(
        n["kind"] != "idea" for n in critique_targets(nodes, edges, rnd, critic)))


def assignment_sends(state: DebateState, plan: dict[str, list[str]], move: str, *,
                     spare: Callable[[str], bool] | None = None, closing: bool = False) -> list[Send]:
    """The `Send`s that carry an allocation to a move: one per (critic, batch of at most `allocation.BATCH`
    assigned targets), in panel order; a critic with nothing assigned gets one empty call when `spare(critic)`."""
    sends = []
    for critic in state.get("critics", []):
        chunks = allocation.batches(plan.get(critic, []))
        if not chunks and spare is not None and spare(critic):
            chunks = [[]]
        sends += [Send(move, {**task_for(state, critic), "assigned": chunk, "batch": j, "closing": closing})
                  for j, chunk in enumerate(chunks)]
    return sends


def closing_plan(nodes: list[Node], edges: list[Edge], critics: list[str], rnd: int, *,
                 min_critics: int, seed: int) -> dict[str, list[str]]:
    """critic → the live ideas it critiques in the closing pass: only what the ideas still short of their critics
    need (earlier critics count and are not asked again), load spread over the panel."""
    return critique_plan(nodes, edges, critics, rnd, min_critics=min_critics, per_critic=0, seed=seed,
                         key=f"r{rnd}/close")


def closing_router(route_next: Callable[[DebateState], str]) -> Callable[..., list[Send] | str]:
    """The conditional edge after a round's rulings: the closing pass when this round is the debate's last (the
    protocol's own `route_next` would end it: the final round, or a red team with nothing left standing) and some
    live idea is short of critics, else the judge. Not after a budget stop (the debate is over; `show` reports the
    gap); before a later round, that round's allocation covers late ideas."""
    def route_close(state: DebateState, runtime: Runtime[DebateContext]) -> list[Send] | str:
        if state.get("stopped") or route_next(state) != END:
            return "judge"
        cfg = runtime.context.config
        plan = closing_plan(state.get("nodes", []), state.get("edges", []), state.get("critics", []),
                            state["round"], min_critics=cfg.min_critics_per_idea, seed=cfg.seed)
        return assignment_sends(state, plan, CLOSE, closing=True) or "judge"
    return route_close
