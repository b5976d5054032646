"""The *formalise* move: every math claim not yet checked goes to the provers; the verdict becomes a node.

A `formal_result` node keeps the claim's words, the formal texts and the formaliser's assumptions together, so
a reviewer can judge the formalisation as well as the verdict. Edges: `formalises` (result → claim) always; a
refutation `attacks` the claim and every idea the claim supports (the semantics pin it in, so those go out);
a proof `supports` the claim.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from langgraph.runtime import Runtime

from gauntlet.agents.llm import LLMError
from gauntlet.graphs.protocols.moves import Update, call_seed, edge, node
from gauntlet.graphs.protocols.state import DebateContext, DebateState
from gauntlet.provers.claim import Claim, Verdict, error
from gauntlet.provers.formalise import formalise_claim, formalise_messages
from gauntlet.provers.router import Router

_SEED_CLAIM = re.compile(r"^seed-(\d+)-claim(\d+)$")


def result_id(claim_id: str) -> str:
    return f"{claim_id}-formal"


def pending_claims(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Claim nodes with no formal result yet."""
    done = {e["dst"] for e in edges if e["kind"] == "formalises"}
    ids = {n["id"] for n in nodes}
    return [n for n in nodes if n["kind"] == "claim" and n["id"] not in done and result_id(n["id"]) not in ids]


def given_formalisation(claim: dict[str, Any], ctx: DebateContext) -> Claim | None:
    """A formalisation that came with the claim (node data, or the seed proposal in the config)."""
    data = claim.get("data") or {}
    smtlib, lean, assumptions = data.get("smtlib"), data.get("lean"), list(data.get("assumptions") or [])
    m = _SEED_CLAIM.match(claim["id"])
    if not (smtlib or lean) and m:
        proposals = ctx.config.seed_proposals
        i, k = int(m.group(1)) - 1, int(m.group(2)) - 1
        formal = proposals[i].formal_for(k) if i < len(proposals) else None
        if formal is not None:
            smtlib, lean, assumptions = formal.smtlib, formal.lean, list(formal.assumptions)
    if not (smtlib or lean):
        return None
    return Claim(text=claim.get("text", ""), smtlib=smtlib or None, lean_statement=lean or None,
                 assumptions=tuple(assumptions), id=claim["id"])


async def formalise(state: DebateState, runtime: Runtime[DebateContext]) -> Update:
    ctx = runtime.context
    cfg = ctx.config.provers
    claims = pending_claims(state.get("nodes", []), state.get("edges", []))
    if not cfg.enabled or not claims:
        return {}
    by_id = {n["id"]: n for n in state.get("nodes", [])}
    # Off the loop: the first Ray pool of a process connects to (or starts) Ray, which takes seconds.
    router = await asyncio.to_thread(Router.from_config, cfg, ctx.verdict_cache)
    slots = asyncio.Semaphore(await asyncio.to_thread(lambda: router.pool.capacity))
    rnd = state["round"]

    async def one(c: dict[str, Any]) -> Update:
        supported = [e["dst"] for e in state.get("edges", []) if e["src"] == c["id"] and e["kind"] == "supports"]
        calls: list[dict[str, Any]] = []
        claim = given_formalisation(c, ctx)
        source = "given"
        if claim is None:
            source = "formaliser"
            context = " ".join(f"{by_id[i].get('title', '')}: {by_id[i].get('text', '')}" for i in supported
                               if i in by_id)
            claim, call, fault = await _ask_formaliser(ctx, c, rnd, context)
            if call:
                calls.append(call)
            if claim is None:
                return _emit(c, rnd, Claim(text=c.get("text", ""), id=c["id"]), error("formaliser", fault),
                             supported, source, calls)
        async with slots:
            verdict = await asyncio.to_thread(router.check, claim)
        return _emit(c, rnd, claim, verdict, supported, source, calls, pool=router.pool.name)

    parts = await asyncio.gather(*(one(c) for c in claims))
    out: Update = {"nodes": [], "edges": [], "calls": []}
    for p in parts:
        for k in out:
            out[k] += p.get(k, [])
    return out


async def _ask_formaliser(ctx: DebateContext, c: dict[str, Any], rnd: int,
                          context: str) -> tuple[Claim | None, dict[str, Any] | None, str]:
    key = f"r{rnd}/formalise/{c['id']}"
    try:
        f, comp = await formalise_claim(ctx.llm, c.get("text", ""), context=context,
                                        seed=call_seed(ctx.config.seed, key))
    except LLMError as exc:
        return None, None, f"formaliser failed: {exc}"
    record = {"key": key, "persona": "formaliser", "phase": "formalise", "round": rnd,
              "messages": formalise_messages(c.get("text", ""), context), "response": comp.text,
              "model": comp.model, "prompt_tokens": comp.prompt_tokens,
              "completion_tokens": comp.completion_tokens, "latency_s": round(comp.latency_s, 4),
              "queued_s": round(comp.queued_s, 4), "attempts": comp.attempts, "faults": comp.faults,
              "repaired": comp.repaired}
    return f.claim(c.get("text", ""), c["id"]), record, ""


def _emit(c: dict[str, Any], rnd: int, claim: Claim, v: Verdict, supported: list[str], source: str,
          calls: list[dict[str, Any]], pool: str = "") -> Update:
    rid = result_id(c["id"])
    n = node(rid, "formal_result", "prover", rnd, f"{v.verdict} by {v.prover}", v.detail,
             verdict=v.verdict, prover=v.prover, detail=v.detail, counterexample=v.counterexample,
             smtlib=claim.smtlib, lean=claim.lean_text(), assumptions=list(claim.assumptions),
             claim_text=claim.text or c.get("text", ""), claim=c["id"], formalised_by=source, checked_on=pool,
             cached=v.cached, elapsed_s=round(v.elapsed_s, 4))
    edges = [edge(rid, c["id"], "formalises")]
    if v.verdict == "refuted":
        edges.append(edge(rid, c["id"], "attacks"))
        edges += [edge(rid, idea, "attacks") for idea in supported]
    elif v.verdict == "proved":
        edges.append(edge(rid, c["id"], "supports"))
    return {"nodes": [n], "edges": edges, "calls": calls}
