"""The *formalise* move: every math claim not yet checked goes through the faithfulness gate; the outcome becomes
a node.

A claim without a given formalisation goes to provers.pipeline (triage, k candidates, deterministic checks,
agreement, back-translation); only a candidate that passed every check may pin a verdict. A formalisation the
claim's author supplied (seed configs) goes to the provers directly, after the vacuity check. A `formal_result`
node keeps the claim's words, the formal text, every check and every rejected candidate with its reason, so a
reviewer sees why the machine abstained. Edges: `formalises` (result → claim) always; a refutation `attacks` the
claim and every idea the claim supports (the semantics pin it in, so those go out); a proof `supports` the claim.
Abstentions (`not_formalisable`, `rejected`, `unknown`, `error`) attack and support nothing.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from langgraph.runtime import Runtime

from gauntlet.graphs.protocols.state import DebateContext, DebateState, Edge, Node, Update
from gauntlet.graphs.protocols.toolkit import call_seed, edge, node
from gauntlet.provers import gate_z3
from gauntlet.provers.claim import Claim, Verdict
from gauntlet.provers.gate import Check
from gauntlet.provers.pipeline import GateResult, GateSettings, run_gate
from gauntlet.provers.router import Router

_SEED_CLAIM = re.compile(r"^seed-(\d+)-claim(\d+)$")


def result_id(claim_id: str) -> str:
    return f"{claim_id}-formal"


def pending_claims(nodes: list[Node], edges: list[Edge]) -> list[Node]:
    """Claim nodes with no formal result yet."""
    done = {e["dst"] for e in edges if e["kind"] == "formalises"}
    ids = {n["id"] for n in nodes}
    return [n for n in nodes if n["kind"] == "claim" and n["id"] not in done and result_id(n["id"]) not in ids]


def given_formalisation(claim: Node, ctx: DebateContext) -> Claim | None:
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
    # Off the loop: the first Ray pool of a process connects to (or starts) Ray, which takes seconds.
    router = await asyncio.to_thread(Router.from_config, cfg, ctx.verdict_cache)
    slots = asyncio.Semaphore(await asyncio.to_thread(lambda: router.pool.capacity))
    settings = GateSettings.from_config(cfg)
    rnd = state["round"]

    async def one(c: Node) -> Update:
        supported = [e["dst"] for e in state.get("edges", []) if e["src"] == c["id"] and e["kind"] == "supports"]
        claim = given_formalisation(c, ctx)
        if claim is not None:
            async with slots:
                verdict, checks = await asyncio.to_thread(check_given, router, claim)
            return _emit(c, rnd, claim, verdict, checks, supported, pool=router.pool.name)
        data = c.get("data") or {}
        result = await run_gate(ctx.llm, c.get("text", ""), quantities=data.get("quantities"),
                                claim_kind=data.get("claim_kind"), settings=settings,
                                seed=call_seed(ctx.config.seed, f"r{rnd}/formalise/{c['id']}"))
        ctx.budget.record(sum(k["prompt_tokens"] + k["completion_tokens"] for k in result.calls))
        return _emit_gated(c, rnd, result, supported)

    parts = await asyncio.gather(*(one(c) for c in claims))
    out: Update = {"nodes": [], "edges": [], "calls": []}
    for p in parts:
        for k in out:
            out[k] += p.get(k, [])
    return out


def check_given(router: Router, claim: Claim) -> tuple[Verdict, list[Check]]:
    """A formalisation its author wrote: the provers decide it, but a proof from contradictory hypotheses is
    vacuous, so the SMT-LIB's assertions other than the last (the hypotheses) must be satisfiable."""
    checks = [Check("given", True, "formalisation supplied with the claim by its author")]
    verdict = router.check(claim)
    if claim.smtlib and verdict.verdict == "proved":
        sat = gate_z3.hypotheses_sat(claim.smtlib, timeout_s=router.timeout_s)
        checks.append(Check("vacuity", sat == "sat", "" if sat == "sat" else
                            "the hypotheses (every assertion but the last) are not satisfiable: the proof is vacuous"))
        if sat != "sat":
            verdict = verdict.with_(verdict="unknown", detail="rejected: vacuous hypotheses; " + verdict.detail)
    return verdict, checks


def _emit(c: Node, rnd: int, claim: Claim, v: Verdict, checks: list[Check], supported: list[str],
          pool: str = "") -> Update:
    rid = result_id(c["id"])
    n = node(rid, "formal_result", "prover", rnd, f"{v.verdict} by {v.prover}", v.detail,
             verdict=v.verdict, prover=v.prover, detail=v.detail, counterexample=v.counterexample,
             smtlib=claim.smtlib, lean=claim.lean_text(), assumptions=list(claim.assumptions),
             claim_text=claim.text or c.get("text", ""), claim=c["id"], formalised_by="given", checked_on=pool,
             cached=v.cached, elapsed_s=round(v.elapsed_s, 4), checks=[k.as_json() for k in checks],
             candidates=[])
    return {"nodes": [n], "edges": _edges(rid, c["id"], v.verdict, supported), "calls": []}


def _emit_gated(c: Node, rnd: int, r: GateResult, supported: list[str]) -> Update:
    rid = result_id(c["id"])
    prover = "z3" if r.verdict in ("proved", "refuted", "unknown") else "gate"
    n = node(rid, "formal_result", "prover", rnd, f"{r.verdict} by {prover}", r.reason,
             verdict=r.verdict, prover=prover, detail=r.reason, counterexample=r.counterexample,
             counterexample_text=r.counterexample_text() or None, smtlib=r.formal, lean=None,
             symbols=r.symbols(), assumptions=list(r.accepted.hypotheses) if r.accepted else [],
             claim_text=c.get("text", ""), claim=c["id"], formalised_by="formaliser", checked_on="local",
             cached=False, elapsed_s=round(r.elapsed_s, 4), checks=[k.as_json() for k in r.checks],
             candidates=r.candidates, gate_calls=len(r.calls))
    calls = [{"key": f"r{rnd}/formalise/{c['id']}/{k['label'].replace(' ', '-')}", "persona": "formaliser",
              "phase": "formalise", "round": rnd, **{f: v for f, v in k.items() if f != "label"}} for k in r.calls]
    return {"nodes": [n], "edges": _edges(rid, c["id"], r.verdict, supported), "calls": calls}


def _edges(rid: str, claim_id: str, verdict: str, supported: list[str]) -> list[dict[str, str]]:
    edges = [edge(rid, claim_id, "formalises")]
    if verdict == "refuted":
        edges.append(edge(rid, claim_id, "attacks"))
        edges += [edge(rid, idea, "attacks") for idea in supported]
    elif verdict == "proved":
        edges.append(edge(rid, claim_id, "supports"))
    return edges
