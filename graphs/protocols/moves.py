"""Debate moves as plain async functions: each reads the state, calls personas, returns new nodes/edges/calls."""

from __future__ import annotations

import asyncio
import functools
import zlib
from typing import Any, Awaitable, Callable

from langgraph.runtime import Runtime
from langgraph.types import Send
from pydantic import BaseModel

from gauntlet.agents import prompts, stances
from gauntlet.payloads import EdgePayload, LLMCallPayload, NodePayload
from gauntlet.agents.llm import LLMError
from gauntlet.agents.schemas import (CritiqueSet, Judgement, Proposal, RebuttalItem, RebuttalSet, critique_schema,
                                     judgement_schema, proposal_schema, rebuttal_schema)
from gauntlet.agents.structured import complete_structured
from gauntlet.agents.routing import for_persona
from gauntlet.graphs.argument import coverage
from gauntlet.graphs.argument.argument_graph import ArgumentGraph
from gauntlet.graphs.protocols import allocation, blind, critiques, echo, rebuttals
from gauntlet.graphs.protocols.budget import BudgetReached
from gauntlet.graphs.protocols.state import DebateContext, DebateState, Task, task_for, with_debate

Update = dict[str, list[dict[str, Any]]]
CRITIQUE_TOKENS = 190  # one anchored critique's JSON: anchor, flaw_type, severity, failed_check and two sentences


def call_seed(run_seed: int, key: str) -> int:
    """A per-call seed that depends only on the run seed and the call's place in the debate."""
    return zlib.crc32(f"{run_seed}/{key}".encode()) & 0x7FFFFFFF


def node(id: str, kind: str, persona: str, rnd: int, title: str = "", text: str = "",
         **data: Any) -> dict[str, Any]:
    """A node payload, checked against its kind's model (gauntlet.payloads) where the move makes it: a wrong
    field fails here, naming the move, not later in the store. State holds the plain dict (LangGraph serialises it)."""
    return NodePayload(id=id, kind=kind, persona=persona, round=rnd, title=title, text=text,  # type: ignore[arg-type]
                       data=data).model_dump()


def edge(src: str, dst: str, kind: str) -> dict[str, str]:
    return EdgePayload(src=src, dst=dst, kind=kind).model_dump()  # type: ignore[arg-type]


async def ask(ctx: DebateContext, persona: str, phase: str, rnd: int, messages: list, model: type[BaseModel],
               schema: dict[str, Any], *, tag: str = "", max_tokens: int | None = None) -> tuple[Any, dict[str, Any]]:
    """One structured call. `tag` tells apart calls of one persona in one phase and round (tournament matches).
    A persona with a corpus gets the passages nearest its task; the record carries them as `citations`."""
    key = f"r{rnd}/{phase}/{persona}" + (f"/{tag}" if tag else "")
    card = ctx.personas.get(persona)
    passages = []
    if card is not None and card.corpus:
        passages = await asyncio.to_thread(ctx.retrieve, card.corpus, persona, messages[-1]["content"])
        messages = prompts.with_passages(messages, passages)
    ctx.budget.reserve_call()
    extra = {"max_tokens": max_tokens} if max_tokens else {}
    value, c = await complete_structured(for_persona(ctx.llm, persona), messages, model, schema=schema,
                                         seed=call_seed(ctx.config.seed, key), **extra)
    ctx.budget.record(c.prompt_tokens + c.completion_tokens)
    record = LLMCallPayload(key=key, persona=persona, phase=phase, round=rnd, messages=messages, response=c.text,
                            model=c.model, prompt_tokens=c.prompt_tokens, completion_tokens=c.completion_tokens,
                            latency_s=round(c.latency_s, 4), queued_s=round(c.queued_s, 4), attempts=c.attempts,
                            faults=c.faults, repaired=c.repaired, citations=[p.citation() for p in passages])
    return value, record.model_dump(exclude_unset=True)  # flags such as `closing` only where a move sets them


def budgeted(move: Callable[..., Awaitable[Update]]) -> Callable[..., Awaitable[Update]]:
    """A move that finds the budget spent adds nothing and flags the state, so the round ends cleanly."""
    @functools.wraps(move)
    async def wrapper(state: Any, runtime: Runtime[DebateContext]) -> Update:
        try:
            return await move(with_debate(state), runtime)  # a Send's slim task gets its lists back
        except BudgetReached as exc:
            return {"stopped": str(exc)}  # type: ignore[dict-item]
    return wrapper


def cited(nodes: list[dict[str, Any]], call: dict[str, Any]) -> list[dict[str, Any]]:
    """Nodes made from one call, each carrying the passages the persona was grounded on for it."""
    if call.get("citations"):
        for n in nodes:
            if n["persona"] == call["persona"]:
                n["data"]["citations"] = [{"source": c["source"], "passage": c["passage"]}
                                          for c in call["citations"]]
    return nodes


def superseded(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> set[str]:
    """Ideas replaced by a revision (the target of a `refines` edge)."""
    return {e["dst"] for e in edges if e["kind"] == "refines"}


def owner(n: dict[str, Any]) -> str:
    """Who defends a node: its author, or the champion assigned to a seed proposal."""
    return n["data"].get("champion") or n["persona"]


def critique_targets(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], rnd: int,
                     critic: str) -> list[dict[str, Any]]:
    """What a critic may attack this round: live ideas, recent rebuttals and formal results (a formalisation
    can be unfaithful to its claim), never their own."""
    gone = superseded(nodes, edges)
    return [n for n in nodes
            if n["kind"] in ("idea", "rebuttal", "formal_result") and n["id"] not in gone and owner(n) != critic
            and (n["kind"] == "idea" or n["round"] == rnd - 1 or n["round"] == rnd)]


class CritiqueTask(Task):
    """One critique call: the critic, and the ideas the protocol assigned to it (`batch` numbers a critic's calls
    when its assignments are cut into several; `closing` marks the closing pass, see protocols/closing.py)."""

    assigned: list[str]
    batch: int
    closing: bool


def route_propose(state: DebateState) -> list[Send] | str:
    """Round 1 fans out to every proposer (one `Send` each); later rounds go straight to the join."""
    if state["round"] == 1 and state.get("proposers"):
        return [Send("propose", task_for(state, p)) for p in state["proposers"]]
    return "gather"


# --- moves ------------------------------------------------------------------------------------------------
def open_debate(state: DebateState, runtime: Runtime[DebateContext]) -> Update:
    """Round 1: the user's seed proposals enter as ideas, each with a defender: the champion its config names, or
    one the protocol assigns (balanced, seeded), recorded as `champion` and `champion_source`."""
    cfg = runtime.context.config
    picks = allocation.champions([sp.champion for sp in cfg.seed_proposals], cfg.panel.proposers,
                                 cfg.panel.critics, cfg.seed)
    out: Update = {"nodes": [], "edges": []}
    for i, (sp, (champion, source)) in enumerate(zip(cfg.seed_proposals, picks), 1):
        idea_id = f"seed-{i}"
        out["nodes"].append(node(idea_id, "idea", "seed", 1, sp.title, sp.claim, rationale=sp.rationale,
                                 champion=champion, champion_source=source))
        for k, claim in enumerate(sp.math_claims, 1):
            out["nodes"].append(node(f"{idea_id}-claim{k}", "claim", "seed", 1, "", claim, champion=champion))
            out["edges"].append(edge(f"{idea_id}-claim{k}", idea_id, "supports"))
    return out


@budgeted
async def propose(task: Task, runtime: Runtime[DebateContext]) -> Update:
    ctx = runtime.context
    who, rnd = task["persona"], task["round"]
    context = prompts.describe_nodes([n for n in task["nodes"] if n["kind"] == "idea"])
    msgs = prompts.propose_messages(ctx.personas[who], ctx.config.topic, context)
    p: Proposal
    p, call = await ask(ctx, who, "propose", rnd, msgs, Proposal, proposal_schema())
    idea_id = f"r{rnd}-idea-{who}"
    nodes = [node(idea_id, "idea", who, rnd, prompts.tidy(p.title, 90), prompts.tidy(p.claim, 320),
                  rationale=prompts.tidy(p.rationale, 420))]
    edges = []
    for k, claim in enumerate(c for c in p.math_claims if c.text.strip()):
        # The author's triage travels with the claim: the formalise move's gate reads claim_kind and quantities.
        nodes.append(node(f"{idea_id}-claim{k + 1}", "claim", who, rnd, "", prompts.tidy(claim.text, 160),
                          claim_kind=claim.kind, quantities=[q for q in claim.quantities if q.strip()]))
        edges.append(edge(f"{idea_id}-claim{k + 1}", idea_id, "supports"))
    return {"nodes": cited(nodes, call), "edges": edges, "calls": [call]}


@budgeted
async def critique(task: CritiqueTask, runtime: Runtime[DebateContext]) -> Update:
    """A critic critiques the ideas allocated to it (each must get its own critique; one re-ask covers any the
    model skipped), plus, with spare room, recent rebuttals and formal results."""
    ctx = runtime.context
    who, rnd, batch, closing = task["persona"], task["round"], task.get("batch", 0), task.get("closing", False)
    tag = f"b{batch + 1}" if batch else ""
    phase = "close" if closing else "critique"  # a closing-pass call is told apart from the round's own
    # Only the assigned ideas: a dict of the whole debate per task was ~2,000 nodes × 50 closing-pass critics.
    wanted = set(task.get("assigned", []))
    by_id = {n["id"]: n for n in task["nodes"] if n["id"] in wanted} if wanted else {}
    assigned = [i for i in task.get("assigned", []) if i in by_id]
    extras = [] if batch or closing else [n for n in critique_targets(task["nodes"], task["edges"], rnd, who)
                                          if n["kind"] != "idea"]
    key = f"r{rnd}/{phase}/{who}/{tag}"
    targets = allocation.shuffled([by_id[i] for i in assigned], ctx.config.seed, key) + extras
    if not targets:
        return {}
    ids = [t["id"] for t in targets]
    k = max(len(assigned), min(ctx.config.critiques_per_critic, len(ids)))
    context = prompts.describe_nodes(targets, limit_chars=600 * len(targets))
    msgs = prompts.critique_messages(ctx.personas[who], ctx.config.topic, context, ids, k, assigned=assigned)
    shown = await stances.relevant(ctx.personas[who].stances, msgs[-1]["content"])  # a clone's own positions
    msgs = prompts.with_stances(msgs, shown)
    prefix = f"r{rnd}-{'close' if closing else 'crit'}-{who}" + (f"-{tag}" if tag else "")
    out = await critique_assigned(ctx, who, phase, rnd, msgs, targets, assigned, k, prefix, tag)
    if closing:  # made in the closing pass (protocols/closing.py): its calls and critiques say so
        for c in out["calls"]:
            c["closing"] = True
        for n in out["nodes"]:
            n["data"]["closing"] = True
    if shown:  # the clone's stated positions it saw, and those its text cites by label
        for n in out["nodes"]:
            n["data"].update(stances_shown=[st.model_dump() for st in shown],
                             stances_cited=stances.citations(n["text"], shown))
    return out


async def critique_assigned(ctx: DebateContext, who: str, phase: str, rnd: int, msgs: list,
                            targets: list[dict[str, Any]], assigned: list[str], k: int, prefix: str,
                            tag: str) -> Update:
    """A critic's call on the targets allocated to it, each of which must get its own critique: the schema asks
    for at least one item per assigned target, and one more call per target the answer still skipped."""
    by_id = {t["id"]: t for t in targets}
    out = await ask_critiques(ctx, who, phase, rnd, msgs, targets, k, prefix, tag=tag, min_items=len(assigned))
    out["calls"][0]["assigned"] = assigned
    missing = [i for i in assigned if i not in {n["data"]["target"] for n in out["nodes"]}]
    if missing:
        # The model doubled up on one idea and skipped another: one more call per skipped idea, each with that
        # idea as its only allowed target, so a schema-constrained model cannot miss it again.
        again = await asyncio.gather(*(cover(ctx, who, phase, rnd, by_id[i], f"{tag}cover{j + 1}",
                                             f"{prefix}-cover{j + 1}") for j, i in enumerate(missing)),
                                     return_exceptions=True)
        for more in again:
            if isinstance(more, BudgetReached):
                out["stopped"] = str(more)  # keep the calls already made (and paid for); the round then ends
                continue
            if isinstance(more, BaseException):
                raise more
            for key_ in ("nodes", "edges", "calls"):
                out[key_] = out[key_] + more[key_]
    for n in out["nodes"]:
        n["data"]["assigned"] = n["data"]["target"] in assigned
    return out


async def cover(ctx: DebateContext, who: str, phase: str, rnd: int, idea: dict[str, Any], tag: str,
                id_prefix: str) -> Update:
    """One critique of one allocated idea the critic's first answer skipped."""
    msgs = prompts.critique_messages(ctx.personas[who], ctx.config.topic, prompts.describe_nodes([idea]),
                                     [idea["id"]], 1, assigned=[idea["id"]])
    out = await ask_critiques(ctx, who, phase, rnd, msgs, [idea], 1, id_prefix, tag=tag, min_items=1)
    out["calls"][0]["assigned"] = [idea["id"]]
    return out


async def ask_critiques(ctx: DebateContext, who: str, phase: str, rnd: int, msgs: list, targets: list[dict[str, Any]],
                        k: int, id_prefix: str, *, tag: str = "", min_items: int = 1) -> Update:
    """A critic's call, anchored: attacks whose anchor is not in their target are re-asked once in the same
    conversation; what still misses becomes an unanchored comment (see graphs/protocols/critiques.py)."""
    ids = [t["id"] for t in targets]
    by_id = {t["id"]: t for t in targets}
    spans = critiques.quotable(targets)
    cs: CritiqueSet
    # An anchored critique is longer JSON than a bare one: room for CRITIQUE_TOKENS each, or the output truncates.
    room = max(ctx.config.model.max_tokens, CRITIQUE_TOKENS * k)
    cs, call = await ask(ctx, who, phase, rnd, msgs, CritiqueSet, critique_schema(ids, k, spans, min_items),
                         tag=tag, max_tokens=room)
    placed = critiques.place(critiques.first_per_target_kind(cs.critiques, ids), by_id)
    calls = [call]
    missed = critiques.misses(placed)
    if missed:
        again_ids = list(dict.fromkeys(placed[i][0].target for i in missed))
        msgs2 = prompts.reanchor_messages(msgs, call["response"], critiques.reask_lines(placed, missed, by_id))
        try:
            cs2, call2 = await ask(ctx, who, phase, rnd, msgs2, CritiqueSet,
                                   critique_schema(again_ids, len(missed), {t: spans[t] for t in again_ids}),
                                   tag=f"{tag}reanchor", max_tokens=max(ctx.config.model.max_tokens,
                                                                        CRITIQUE_TOKENS * len(missed)))
            calls.append(call2)
            placed = critiques.merge_reasked(placed, missed, critiques.place(
                critiques.first_per_target_kind(cs2.critiques, again_ids), by_id, reasked=True))
        except (BudgetReached, LLMError):
            pass  # no second chance affordable: the misses stay unanchored comments
    nodes, edges = critiques.critique_records(placed, who, rnd, id_prefix)
    return {"nodes": cited(nodes, call), "edges": edges, "calls": calls}


@budgeted
async def rebut(task: Task, runtime: Runtime[DebateContext]) -> Update:
    ctx = runtime.context
    who, rnd = task["persona"], task["round"]
    by_id = {n["id"]: n for n in task["nodes"]}
    attacks = [e for e in task["edges"] if e["kind"] == "attacks" and by_id[e["src"]]["round"] == rnd
               and by_id[e["src"]]["kind"] == "critique" and owner(by_id[e["dst"]]) == who]
    if not attacks:
        return {}
    shown = []
    for e in attacks:
        shown += [by_id[e["dst"]], by_id[e["src"]]]
    ids = allocation.shuffled([e["src"] for e in attacks], ctx.config.seed, f"r{rnd}/rebut/{who}")
    msgs = prompts.rebuttal_messages(ctx.personas[who], ctx.config.topic,
                                     prompts.describe_nodes(list({n["id"]: n for n in shown}.values())), ids)
    rs, calls, dropped = await answer_without_echo(ctx, who, rnd, msgs, ids, {i: by_id[i]["text"] for i in ids})

    def revise(i: int, rid: str, r: RebuttalItem) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        attacked = by_id[by_id[r.target]["data"]["target"]]
        return revised_idea(by_id, r, who, rnd, rid, f"r{rnd}-idea-{who}-rev{i + 1}", champion=owner(attacked))

    nodes, edges = rebuttal_moves(rs, ids, who, rnd, f"r{rnd}-reb-{who}", revise)
    calls[-1]["dropped_echoes"] = dropped
    return {"nodes": cited(nodes, calls[0]), "edges": edges, "calls": calls}


async def answer_without_echo(ctx: DebateContext, who: str, rnd: int, msgs: list, ids: list[str],
                              critique_text: dict[str, str]) -> tuple[RebuttalSet, list[dict[str, Any]],
                                                                      list[dict[str, Any]]]:
    """The defender's answers with echoes (a rebuttal repeating its critique) re-asked once, then dropped.
    Returns the answers kept, the calls made and a record of what was dropped."""
    rs: RebuttalSet
    rs, call = await ask(ctx, who, "rebut", rnd, msgs, RebuttalSet, rebuttal_schema(ids))
    copies = echo.echoes(rs, critique_text)
    if not copies:
        return rs, [call], []
    asked = list(dict.fromkeys(r.target for r in copies))
    retry = msgs[:-1] + [{"role": "user", "content": msgs[-1]["content"] + echo.reask_note(asked)}]
    again: RebuttalSet
    again, second = await ask(ctx, who, "rebut", rnd, retry, RebuttalSet, rebuttal_schema(asked), tag="reask")
    kept, dropped = echo.merged(echo.without(rs, copies), again, critique_text, asked)
    return RebuttalSet.model_construct(responses=kept), [call, second], dropped


Revision = Callable[[int, str, RebuttalItem], tuple[list[dict[str, Any]], list[dict[str, str]]]]


def rebuttal_moves(rs: RebuttalSet, ids: list[str], who: str, rnd: int, rid_prefix: str,
                   revise: Revision) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """A rebuttal node per answered attack (first answer per target): a counter attacks the critique, a concession
    supports it, and a revision is handed to `revise(i, rebuttal_id, item)`, which each protocol words its own way."""
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, str]] = []
    done: set[str] = set()
    for i, r in enumerate(rs.responses):
        if r.target not in ids or r.target in done:
            continue
        done.add(r.target)
        rid = f"{rid_prefix}-{i + 1}"
        # Issue 13: the action is what the text says (a repaired action keeps the given one beside it).
        action, repair = rebuttals.settled_action(r.action, r.text, r.revised_claim)
        extra = {"action_given": r.action, "action_repair": repair} if repair else {}
        nodes.append(node(rid, "rebuttal", who, rnd, action, prompts.tidy(r.text, 320), action=action,
                          target=r.target, **extra))
        if action == "counter":
            edges.append(edge(rid, r.target, "attacks"))
        elif action == "concede":
            edges.append(edge(rid, r.target, "supports"))
        elif action == "revise":
            more_nodes, more_edges = revise(i, rid, r)
            nodes += more_nodes
            edges += more_edges
    return nodes, edges


def revised_idea(by_id: dict[str, dict[str, Any]], r: RebuttalItem, who: str, rnd: int, rid: str, new_id: str,
                 **data: Any) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The idea a critique attacked, revised by its author: it `refines` the old one and the rebuttal supports it.
    Nothing when the critique attacked something other than an idea (a claim, a rebuttal)."""
    attacked = by_id[r.target]["data"]["target"]
    if by_id[attacked]["kind"] != "idea":
        return [], []
    title = prompts.tidy(r.revised_title, 90) or by_id[attacked]["title"] + " (revised)"
    # `fixes`: the critique this revision claims to answer; jurors see the revision when they rule on it.
    new = node(new_id, "idea", who, rnd, title, prompts.tidy(r.revised_claim, 320), revises=attacked,
               fixes=[r.target], **data)
    return [new], [edge(new_id, attacked, "refines"), edge(rid, new_id, "supports")]


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
    against: dict[str, list[dict[str, Any]]] = {}
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

        async def score(wanted: list[str], tag: str) -> tuple[Judgement, dict[str, Any]]:
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


def next_round(state: DebateState) -> dict[str, Any]:
    return {"round": state["round"] + 1}
