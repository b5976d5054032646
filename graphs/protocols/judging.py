"""The judge's move: blind, order-free scoring of the live ideas on a stated rubric, closing each round."""

from __future__ import annotations

import asyncio

from langgraph.runtime import Runtime

from gauntlet.agents import prompts
from gauntlet.agents.schemas import Judgement, judgement_schema
from gauntlet.graphs.argument import coverage
from gauntlet.graphs.argument.argument_graph import ArgumentGraph
from gauntlet.graphs.protocols import blind
from gauntlet.graphs.protocols.state import Call, DebateContext, DebateState, Node, Update
from gauntlet.graphs.protocols.toolkit import ask, budgeted, node, owner, superseded


@budgeted
async def judge(state: DebateState, runtime: Runtime[DebateContext]) -> Update:
    """Blind, order-free scoring on a stated rubric: the judge sees neutral labels in a shuffled order, no author
    names; ideas the judge defends are scored by a stand-in panellist instead."""
    ctx = runtime.context
    who, rnd = state.get("judge") or "", state["round"]
    if not who:
        return {}
    gone = superseded(state["nodes"], state["edges"])
    ideas = [n for n in state["nodes"] if n["kind"] == "idea" and n["id"] not in gone]
    if not ideas:
        return {}
    graph = ArgumentGraph(state["nodes"], state["edges"])
    cfg = ctx.config
    rule = coverage.CoverageRule(cfg.min_critics_per_idea, tuple(state.get("critics", [])))
    examined = coverage.ideas_coverage(graph, rule)
    against: dict[str, list[Node]] = {}
    for n in state["nodes"]:
        if n["kind"] == "critique" and n["data"].get("target") in examined:
            against.setdefault(n["data"]["target"], []).append(n)
    pattern = blind.scrubber([name for name in ctx.personas] + [p.label for p in ctx.personas.values()])
    panel = list(state.get("proposers", [])) + list(state.get("critics", []))
    groups = blind.panels(ideas, {n["id"]: owner(n) for n in ideas}, who, panel, cfg.seed, rnd)
    status = {n["id"]: graph.status(n["id"]) for n in ideas}
    seen = {i: c["examined"] for i, c in examined.items()}
    scores, calls = [], []
    for scorer, group in groups.items():
        labels, order, blocks = blind.sheet(group, status, seen, against, pattern, cfg.seed, f"r{rnd}/judge/{scorer}")
        tag = "" if scorer == who else "stand-in"

        async def score(wanted: list[str], tag: str) -> tuple[Judgement, Call]:
            msgs = prompts.judge_messages(ctx.personas[scorer], cfg.topic,
                                          "\n".join(blocks[lab] for lab in wanted), wanted)
            j, call = await ask(ctx, scorer, "judge", rnd, msgs, Judgement, judgement_schema(wanted), tag=tag)
            call["labels"] = labels
            return j, call

        first = [await score(order, tag)]
        done = {sc.target for sc in first[0][0].scores if sc.target in labels}
        # Ideas the reply left unscored (it scored another twice): one call each, with that idea the only target.
        rescored = await asyncio.gather(*(score([lab], f"{tag}rescore-{lab}") for lab in order if lab not in done))
        for j, call in first + list(rescored):
            calls.append(call)
            for sc in j.scores:
                if sc.target in labels and labels[sc.target] not in {s["target"] for s in scores}:
                    scores.append({"target": labels[sc.target], "score": sc.score,
                                   "reason": prompts.tidy(sc.reason, 200), "by": scorer})  # first score counts
    text = "; ".join(f"{s['target']}: {s['score']}/10" for s in scores)
    return {"nodes": [node(f"r{rnd}-judgement", "judgement", who, rnd, f"Round {rnd} scores", text,
                           scores=scores, blind=True)],
            "calls": calls}
