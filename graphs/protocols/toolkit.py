"""The move toolkit every protocol builds its moves from: the structured call (`ask`), node and edge records
checked against their payload models, the budget guard (`budgeted`), per-call seeds, citations, and the two
questions every move asks of the debate (who defends a node; which ideas a revision replaced)."""

from __future__ import annotations

import asyncio
import functools
import zlib
from typing import Any, Awaitable, Callable, cast

from langgraph.runtime import Runtime
from pydantic import BaseModel

from gauntlet.agents import prompts
from gauntlet.agents.routing import for_persona
from gauntlet.agents.structured import complete_structured
from gauntlet.graphs.protocols.budget import BudgetReached
from gauntlet.graphs.protocols.state import Call, DebateContext, Edge, Node, Update, with_debate
from gauntlet.payloads import EdgePayload, LLMCallPayload, NodePayload

Move = Callable[[Any, Runtime[DebateContext]], Awaitable[Update]]


def call_seed(run_seed: int, key: str) -> int:
    """A per-call seed that depends only on the run seed and the call's place in the debate."""
    return zlib.crc32(f"{run_seed}/{key}".encode()) & 0x7FFFFFFF


def node(id: str, kind: str, persona: str, rnd: int, title: str = "", text: str = "", **data: Any) -> Node:
    """A node record, checked against its kind's model (gauntlet.payloads) where the move makes it: a wrong
    field fails here, naming the move, not later in the store. State holds the plain dict (LangGraph serialises it)."""
    return cast(Node, NodePayload(id=id, kind=kind, persona=persona, round=rnd, title=title,  # type: ignore[arg-type]
                                  text=text, data=data).model_dump())


def edge(src: str, dst: str, kind: str) -> Edge:
    return cast(Edge, EdgePayload(src=src, dst=dst, kind=kind).model_dump())  # type: ignore[arg-type]


async def ask(ctx: DebateContext, persona: str, phase: str, rnd: int, messages: list, model: type[BaseModel],
              schema: dict[str, Any], *, tag: str = "", max_tokens: int | None = None,
              ground: bool = True) -> tuple[Any, Call]:
    """One structured call. `tag` tells apart calls of one persona in one phase and round (tournament matches).
    A persona with a corpus gets the passages nearest its task; the record carries them as `citations`.
    `ground=False` for a follow-up turn (a re-ask), whose first turn, as sent, already carries them."""
    key = f"r{rnd}/{phase}/{persona}" + (f"/{tag}" if tag else "")
    card = ctx.personas.get(persona)
    passages = []
    if ground and card is not None and card.corpus:
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


def budgeted(move: Move) -> Move:
    """A move that finds the budget spent adds nothing and flags the state, so the round ends cleanly."""
    @functools.wraps(move)
    async def wrapper(state: Any, runtime: Runtime[DebateContext]) -> Update:
        try:
            return await move(with_debate(state), runtime)  # a Send's slim task gets its lists back
        except BudgetReached as exc:
            return {"stopped": str(exc)}
    return wrapper


def cited(nodes: list[Node], call: Call) -> list[Node]:
    """Nodes made from one call, each carrying the passages the persona was grounded on for it."""
    if call.get("citations"):
        for n in nodes:
            if n["persona"] == call["persona"]:
                n["data"]["citations"] = [{"source": c["source"], "passage": c["passage"]}
                                          for c in call["citations"]]
    return nodes


def owner(n: Node) -> str:
    """Who defends a node: its author, or the champion assigned to a seed proposal."""
    return n["data"].get("champion") or n["persona"]


def superseded(nodes: list[Node], edges: list[Edge]) -> set[str]:
    """Ideas replaced by a revision (the target of a `refines` edge)."""
    return {e["dst"] for e in edges if e["kind"] == "refines"}
