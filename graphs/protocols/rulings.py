"""The ruling move (issue 13): after rebuttals, independent jurors rule each anchored critique.

Jurors are drawn from `config.rulings` (default: the judge, then critics, then proposers), never the critique's
author nor the target's owner. Calls are batched: one call per (juror, target) rules on every critique of that
target the juror may judge, and jurors' calls are independent (none sees another's vote). The outcome and its
edges come from `gauntlet.graphs.argument.rulings`; a juror whose call fails abstains, and a critique nobody
could rule on is `contested`, so it defeats nothing and leaves its target undecided.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from langgraph.runtime import Runtime

from gauntlet.agents import prompts
from gauntlet.agents.llm import LLMError
from gauntlet.agents.schemas import RulingSet, ruling_schema
from gauntlet.graphs.argument.rulings import outcome_of, ruling_edges
from gauntlet.graphs.protocols import toolkit
from gauntlet.graphs.protocols.budget import BudgetReached
from gauntlet.graphs.protocols.rebuttals import echoes, settled_vote
from gauntlet.graphs.protocols.state import Call, DebateContext, DebateState, Edge, Node, Update

RULING_TOKENS = 80  # one vote's JSON with its one-line reason


def jury_pool(config: Any) -> list[str]:
    pool = config.rulings.jurors or [config.panel.judge or "", *config.panel.critics, *config.panel.proposers]
    return [p for p in dict.fromkeys(pool) if p]


def jurors_for(pool: list[str], critic: str, author: str, k: int) -> list[str]:
    """The first k of the pool who neither wrote the critique nor own its target (same order for every critique,
    so one juror's calls batch all the critiques of a target)."""
    return list(itertools.islice((p for p in pool if p not in (critic, author)), k))  # stop at k: pools are big


def unruled(nodes: list[Node], edges: list[Edge]) -> list[Node]:
    """Anchored critiques (their attack edge exists) with no ruling yet."""
    ruled = {n["data"].get("critique") for n in nodes if n["kind"] == "ruling"}
    by_id = {n["id"]: n for n in nodes}
    return [by_id[e["src"]] for e in edges
            if e["kind"] == "attacks" and by_id[e["src"]]["kind"] == "critique"
            and "severity" in by_id[e["src"]]["data"] and e["dst"] == by_id[e["src"]]["data"].get("target")
            and e["src"] not in ruled]


def describe_critique(c: Node, answers: list[Node]) -> str:
    d = c["data"]
    line = (f"[{c['id']}] by {c['persona']} ({d.get('flaw_type')}, {d.get('severity')}) quoting "
            f"\"{d.get('anchor', '')}\": {c['text']}")
    for r in answers:
        line += f"\n    rebuttal ({r['data'].get('action')}): {r['text']}"
    return line if answers else line + "\n    (no rebuttal)"


def plan(nodes: list[Node], edges: list[Edge], pool: list[str],
         k: int) -> dict[tuple[str, str], list[str]]:
    """(juror, target id) → the critique ids that juror rules on in one call."""
    by_id = {n["id"]: n for n in nodes}
    calls: dict[tuple[str, str], list[str]] = {}
    for c in unruled(nodes, edges):
        target = by_id[c["data"]["target"]]
        for juror in jurors_for(pool, c["persona"], toolkit.owner(target), k):
            calls.setdefault((juror, target["id"]), []).append(c["id"])
    return calls


def groundless(reason: str, critique: str, batch: list[str], by_id: dict[str, Node]) -> str:
    """Why a juror's reason backs no verdict on `critique` ("" when it does): it only restates that critique, or
    another critique of the same call (a small model pastes one critic's words as its reason for every ruling)."""
    if echoes(reason, by_id[critique]["text"]):
        return "reason restates the critique"
    if any(echoes(reason, by_id[c]["text"]) for c in batch if c != critique):
        return "reason restates another critique"
    return ""


async def rule(state: DebateState, runtime: Runtime[DebateContext]) -> Update:
    ctx = runtime.context
    nodes, edges, rnd = state.get("nodes", []), state.get("edges", []), state["round"]
    by_id = {n["id"]: n for n in nodes}
    todo = unruled(nodes, edges)
    if not todo:
        return {}
    pool = [p for p in jury_pool(ctx.config) if p in ctx.personas]
    batches = plan(nodes, edges, pool, ctx.config.rulings.jury_size)
    # One pass over the nodes, not one per critique (that was quadratic: ~0.1 s at 256 critics, issue 18).
    answers: dict[str, list[Node]] = {c["id"]: [] for c in todo}
    revisions: dict[str, list[Node]] = {c["id"]: [] for c in todo}
    for n in nodes:
        if n["kind"] == "rebuttal" and n["data"].get("target") in answers:
            answers[n["data"]["target"]].append(n)
        elif n["kind"] == "idea":
            for cid in dict.fromkeys(n["data"].get("fixes") or []):
                if cid in revisions:
                    revisions[cid].append(n)

    async def one(juror: str, target: str, ids: list[str],
                  tag: str = "") -> tuple[str, Any, Call | None]:
        t = by_id[target]
        shown = "\n".join(describe_critique(by_id[c], answers[c]) + "".join(
            f"\n    revised to: {r['title']}: {r['text']}" for r in revisions[c]) for c in ids)
        msgs = prompts.ruling_messages(ctx.personas[juror], ctx.config.topic,
                                       f"[{t['id']}] {t['title'] + ': ' if t['title'] else ''}{t['text']}", shown, ids)
        try:
            rs, call = await toolkit.ask(ctx, juror, "rule", rnd, msgs, RulingSet, ruling_schema(ids),
                                       tag=tag or target,
                                       max_tokens=max(ctx.config.model.max_tokens, RULING_TOKENS * len(ids)))
        except (LLMError, BudgetReached) as exc:
            return juror, exc, None
        return juror, rs, call

    votes: dict[str, list[dict[str, str]]] = {c["id"]: [] for c in todo}
    abstained: dict[str, list[dict[str, str]]] = {c["id"]: [] for c in todo}
    calls: list[Call] = []
    stopped = ""

    def take(juror: str, rs: Any, ids: list[str]) -> list[str]:
        """Record one call's votes (the first per critique); returns the critiques of `ids` it skipped."""
        done: set[str] = set()
        for item in rs.rulings:
            if item.critique in ids and item.critique not in done:
                done.add(item.critique)
                vote, repair = settled_vote(item.vote, item.reason)  # a vote means what its reason says
                entry = {"juror": juror, "vote": vote, "reason": prompts.tidy(item.reason, 200),
                         **({"vote_given": item.vote, "vote_repair": repair} if repair else {})}
                why_not = groundless(item.reason, item.critique, ids, by_id)
                if why_not:  # a reason that only restates a text it was shown backs no verdict: an abstention
                    abstained[item.critique].append({**entry, "abstained": why_not})
                    continue
                votes[item.critique].append(entry)
        return [c for c in ids if c not in done]

    async def ask_all(work: dict[tuple[str, str], list[str]], reask: bool) -> dict[tuple[str, str], list[str]]:
        nonlocal stopped
        results = await asyncio.gather(*(one(j, t, ids, f"{t}/reask" if reask else "")
                                         for (j, t), ids in work.items()))
        skipped: dict[tuple[str, str], list[str]] = {}
        for (juror, target), (_, rs, call) in zip(work, results):
            if call is None:
                stopped = stopped or (str(rs) if isinstance(rs, BudgetReached) else "")
                continue
            calls.append({**call, "reask": True} if reask else call)
            missed = take(juror, rs, work[(juror, target)])
            if missed:
                skipped[(juror, target)] = missed
        return skipped

    skipped = await ask_all(batches, reask=False)
    if skipped and not stopped:
        # A small model often drops an item of a batched list: the juror is asked once more about just the
        # critiques it skipped (none of which it has seen ruled); a second skip leaves them without its vote.
        await ask_all(skipped, reask=True)
    out_nodes, out_edges = [], []
    for c in todo:
        cast = votes[c["id"]]
        outcome = outcome_of(v["vote"] for v in cast)
        agreeing = [v["reason"] for v in cast if v["vote"] == outcome]
        reason = (agreeing[0] if agreeing else
                  "; ".join(f"{v['juror']}: {v['vote']}" for v in cast)
                  or ("every juror's reason only restated the critique" if abstained[c["id"]]
                      else "no juror could rule on it"))
        rid = f"ruling-{c['id']}"
        jurors = [v["juror"] for v in cast]
        out_nodes.append(toolkit.node(rid, "ruling", jurors[0] if len(jurors) == 1 else "jury", rnd, outcome,
                                    reason, critique=c["id"], target=c["data"]["target"], outcome=outcome,
                                    reason=reason, votes=cast, abstained=abstained[c["id"]],
                                    severity=c["data"].get("severity"),
                                    flaw_type=c["data"].get("flaw_type")))
        counters = [r["id"] for r in answers[c["id"]] if r["data"].get("action") == "counter"]
        out_edges += ruling_edges(rid, c["id"], outcome, counters)
        if outcome != "overruled":  # a revision claiming to fix a critique the jury did not overrule faces it
            out_edges += [{"src": c["id"], "dst": r["id"], "kind": "attacks"} for r in revisions[c["id"]]]
    update: Update = {"nodes": out_nodes, "edges": out_edges, "calls": calls}
    if stopped:
        update["stopped"] = stopped  # type: ignore[assignment]
    return update
