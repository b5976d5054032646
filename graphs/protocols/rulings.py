"""The ruling move: after rebuttals, independent jurors rule each anchored critique, by score.

Jurors are drawn from `config.rulings` (default: the judge, then critics, then proposers), never the critique's
author nor the target's owner, and none sees another's vote. A juror's vote is P(sustained), read from its
model's answer probabilities and calibrated (graphs/protocols/scored_votes.py); only a vote whose confidence
reaches its calibration's threshold rules, the rest are abstentions that show p. The outcome and its edges come
from `gauntlet.graphs.argument.rulings`: accepted votes that agree decide, a split or no accepted vote at all
leaves the critique `contested`, so it defeats nothing and leaves its target undecided.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from langgraph.runtime import Runtime

from gauntlet.agents.llm import LLMError
from gauntlet.graphs.argument.rulings import outcome_of, ruling_edges
from gauntlet.graphs.protocols import scored_votes, toolkit
from gauntlet.graphs.protocols.budget import BudgetReached
from gauntlet.graphs.protocols.state import Call, DebateContext, DebateState, Edge, Node, Update


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


def ruling_reason(outcome: str, cast: list[dict[str, Any]], abstained: list[dict[str, Any]]) -> str:
    """What decided the ruling, in numbers: each accepted vote's P(sustained) against its threshold, or why no
    vote ruled."""
    def shown(v: dict[str, Any]) -> str:
        t = v.get("threshold")
        return f"{v['juror']} P(sustained) {v['p_sustained']:.2f}" + (f" (threshold {t:.2f})" if t is not None else "")
    if cast:
        return f"{outcome}: " + "; ".join(shown(v) for v in cast)
    scored = [v for v in abstained if "p_sustained" in v]
    if scored:
        return "no vote reached its threshold: " + "; ".join(shown(v) for v in scored)
    return "no juror could rule on it" + (f" ({abstained[0]['abstained']})" if abstained else "")


async def rule(state: DebateState, runtime: Runtime[DebateContext]) -> Update:
    ctx = runtime.context
    nodes, edges, rnd = state.get("nodes", []), state.get("edges", []), state["round"]
    by_id = {n["id"]: n for n in nodes}
    todo = unruled(nodes, edges)
    if not todo:
        return {}
    pool = [p for p in jury_pool(ctx.config) if p in ctx.personas]
    batches = plan(nodes, edges, pool, ctx.config.rulings.jury_size)
    # One pass over the nodes, not one per critique (per critique it is quadratic: ~0.1 s at 256 critics).
    answers: dict[str, list[Node]] = {c["id"]: [] for c in todo}
    revisions: dict[str, list[Node]] = {c["id"]: [] for c in todo}
    for n in nodes:
        if n["kind"] == "rebuttal" and n["data"].get("target") in answers:
            answers[n["data"]["target"]].append(n)
        elif n["kind"] == "idea":
            for cid in dict.fromkeys(n["data"].get("fixes") or []):
                if cid in revisions:
                    revisions[cid].append(n)
    scorer = scored_votes.new_scorer()
    work = [(juror, cid) for (juror, _), ids in batches.items() for cid in ids]

    async def one(juror: str, cid: str) -> Any:
        c = by_id[cid]
        try:
            return await scored_votes.vote(ctx, scorer, juror, rnd, by_id[c["data"]["target"]], c,
                                           scored_votes.reply_text(answers[cid], revisions[cid]))
        except (LLMError, BudgetReached) as exc:
            return exc

    votes: dict[str, list[dict[str, Any]]] = {c["id"]: [] for c in todo}
    abstained: dict[str, list[dict[str, Any]]] = {c["id"]: [] for c in todo}
    calls: list[Call] = []
    stopped = ""
    for (juror, cid), got in zip(work, await asyncio.gather(*(one(j, c) for j, c in work))):
        if isinstance(got, BudgetReached):
            stopped = stopped or str(got)
            continue
        if isinstance(got, LLMError):  # a juror whose call fails abstains
            abstained[cid].append({"juror": juror, "abstained": f"call failed: {str(got)[:160]}"})
            continue
        entry, call = got
        calls.append(call)
        (votes if entry["accepted"] else abstained)[cid].append(entry)
    severities = await _severities(ctx, rnd, by_id, todo, votes) if not stopped else {}
    out_nodes, out_edges = [], []
    for c in todo:
        cast = votes[c["id"]]
        outcome = outcome_of(v["vote"] for v in cast)
        sev = severities.get(c["id"])
        if sev is not None:
            calls.append(sev[1])
        reason = ruling_reason(outcome, cast, abstained[c["id"]])
        every = cast + [v for v in abstained[c["id"]] if "calibration" in v]
        rid = f"ruling-{c['id']}"
        jurors = [v["juror"] for v in cast]
        out_nodes.append(toolkit.node(rid, "ruling", jurors[0] if len(jurors) == 1 else "jury", rnd, outcome,
                                      reason, critique=c["id"], target=c["data"]["target"], outcome=outcome,
                                      reason=reason, votes=cast, abstained=abstained[c["id"]],
                                      threshold=every[0]["threshold"] if every else None,
                                      calibration=", ".join(dict.fromkeys(v["calibration"] for v in every)),
                                      severity=sev[0]["severity"] if sev else c["data"].get("severity"),
                                      **({"severity_score": sev[0]} if sev else {}),
                                      flaw_type=c["data"].get("flaw_type")))
        counters = [r["id"] for r in answers[c["id"]] if r["data"].get("action") == "counter"]
        out_edges += ruling_edges(rid, c["id"], outcome, counters)
        if outcome != "overruled":  # a revision claiming to fix a critique the jury did not overrule faces it
            out_edges += [{"src": c["id"], "dst": r["id"], "kind": "attacks"} for r in revisions[c["id"]]]
    update: Update = {"nodes": out_nodes, "edges": out_edges, "calls": calls}
    if stopped:
        update["stopped"] = stopped  # type: ignore[assignment]
    return update


async def _severities(ctx: DebateContext, rnd: int, by_id: dict[str, Node], todo: list[Node],
                      votes: dict[str, list[dict[str, Any]]]) -> dict[str, tuple[dict[str, Any], Call]]:
    """For each critique the jury sustains, its severity scored by its first accepting juror (critique id ->
    (severity record, call)); only sustained critiques' severity decides anything, so only they are asked.
    A failed or over-budget call keeps the critic's label."""
    sustained = [c for c in todo if outcome_of(v["vote"] for v in votes[c["id"]]) == "sustained"]
    scorer = scored_votes.severity_scorer()

    async def one(c: Node) -> Any:
        try:
            return await scored_votes.severity(ctx, scorer, votes[c["id"]][0]["juror"], rnd,
                                               by_id[c["data"]["target"]], c)
        except (LLMError, BudgetReached):
            return None
    got = await asyncio.gather(*(one(c) for c in sustained))
    return {c["id"]: g for c, g in zip(sustained, got) if g is not None}
