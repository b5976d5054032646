"""The critique moves: a critic critiques what the allocation gave it, anchored (each attack quotes its target's
words), each assigned target covered (one more call per target the first answer skipped). The gauntlet protocol's
critique step and every protocol's closing pass run `critique`; other protocols word their own call and reuse
`critique_assigned` (the red team's attack)."""

from __future__ import annotations

import asyncio

from langgraph.runtime import Runtime

from gauntlet.agents import prompts, protocol_prompts, stances
from gauntlet.agents.llm import LLMError
from gauntlet.agents.schemas import CritiqueSet, critique_schema
from gauntlet.graphs.protocols import allocation, critiques, library_grounding
from gauntlet.graphs.protocols.budget import BudgetReached
from gauntlet.graphs.protocols.state import DebateContext, Edge, Node, Task, Update
from gauntlet.graphs.protocols.toolkit import ask, budgeted, cited, owner, superseded

CRITIQUE_TOKENS = 190  # one anchored critique's JSON: anchor, flaw_type, severity, failed_check and two sentences


def critique_targets(nodes: list[Node], edges: list[Edge], rnd: int, critic: str) -> list[Node]:
    """What a critic may attack this round: live ideas, recent rebuttals and formal results (a formalisation
    can be unfaithful to its claim), never their own."""
    gone = superseded(nodes, edges)
    return [n for n in nodes
            if n["kind"] in ("idea", "rebuttal", "formal_result") and n["id"] not in gone and owner(n) != critic
            and (n["kind"] == "idea" or n["round"] == rnd - 1 or n["round"] == rnd)]


class CritiqueTask(Task):
    """One critique call: the critic, and the ideas the protocol assigned to it (`batch` numbers a critic's calls
    when its assignments are cut into several; `closing` marks the closing pass, see critique_routing.py)."""

    assigned: list[str]
    batch: int
    closing: bool


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
    msgs = prompts.critique_messages(ctx.personas[who], ctx.config.topic, context, ids, k, assigned=assigned,
                                     formal=any(t["kind"] == "formal_result" for t in targets))
    shown = await stances.relevant(ctx.personas[who].stances, msgs[-1]["content"])  # a clone's own positions
    msgs = prompts.with_stances(msgs, shown)
    # Known failure modes a scored check found applicable to these ideas, with when they do not apply.
    known, checked = await library_grounding.for_critic(ctx, who, [by_id[i] for i in assigned])
    msgs = protocol_prompts.with_library(msgs, known)
    prefix = f"r{rnd}-{'close' if closing else 'crit'}-{who}" + (f"-{tag}" if tag else "")
    out = await critique_assigned(ctx, who, phase, rnd, msgs, targets, assigned, k, prefix, tag)
    await library_grounding.record(out, known, checked)
    if closing:  # made in the closing pass (critique_routing.py): its calls and critiques say so
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
                            targets: list[Node], assigned: list[str], k: int, prefix: str,
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


async def cover(ctx: DebateContext, who: str, phase: str, rnd: int, idea: Node, tag: str,
                id_prefix: str) -> Update:
    """One critique of one allocated idea the critic's first answer skipped."""
    msgs = prompts.critique_messages(ctx.personas[who], ctx.config.topic, prompts.describe_nodes([idea]),
                                     [idea["id"]], 1, assigned=[idea["id"]], formal=idea["kind"] == "formal_result")
    out = await ask_critiques(ctx, who, phase, rnd, msgs, [idea], 1, id_prefix, tag=tag, min_items=1)
    out["calls"][0]["assigned"] = [idea["id"]]
    return out


async def ask_critiques(ctx: DebateContext, who: str, phase: str, rnd: int, msgs: list, targets: list[Node],
                        k: int, id_prefix: str, *, tag: str = "", min_items: int = 1) -> Update:
    """A critic's call, anchored: attacks whose anchor is not in their target are re-asked once in the same
    conversation; what still misses becomes an unanchored comment (see graphs/protocols/critiques.py)."""
    ids = [t["id"] for t in targets]
    by_id = {t["id"]: t for t in targets}
    spans = critiques.quotable(targets)
    formal = {t["id"] for t in targets if t["kind"] == "formal_result"}
    cs: CritiqueSet
    # An anchored critique is longer JSON than a bare one: room for CRITIQUE_TOKENS each, or the output truncates.
    room = max(ctx.config.model.max_tokens, CRITIQUE_TOKENS * k)
    cs, call = await ask(ctx, who, phase, rnd, msgs, CritiqueSet, critique_schema(ids, k, spans, min_items, formal),
                         tag=tag, max_tokens=room)
    placed = critiques.place(critiques.first_per_target_kind(cs.critiques, ids), by_id)
    calls = [call]
    missed = critiques.misses(placed)
    if missed:
        again_ids = list(dict.fromkeys(placed[i][0].target for i in missed))
        msgs2 = prompts.reanchor_messages(call["messages"], call["response"],
                                          critiques.reask_lines(placed, missed, by_id))
        try:
            again_spans = {t: spans[t] for t in again_ids}
            cs2, call2 = await ask(ctx, who, phase, rnd, msgs2, CritiqueSet,
                                   critique_schema(again_ids, len(missed), again_spans, formal=formal),
                                   tag=f"{tag}reanchor", max_tokens=max(ctx.config.model.max_tokens,
                                                                        CRITIQUE_TOKENS * len(missed)),
                                   ground=False)  # a follow-up turn: the first, as sent, has the passages
            calls.append(call2)
            placed = critiques.merge_reasked(placed, missed, critiques.place(
                critiques.first_per_target_kind(cs2.critiques, again_ids), by_id, reasked=True))
        except (BudgetReached, LLMError):
            pass  # no second chance affordable: the misses stay unanchored comments
    nodes, edges = critiques.critique_records(placed, who, rnd, id_prefix)
    return {"nodes": cited(nodes, call), "edges": edges, "calls": calls}
