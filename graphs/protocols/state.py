"""Debate state for LangGraph: append-only lists merged by reducers, so parallel branches never clash.

Also the shapes that cross every move's boundary: a `Node`, an `Edge` and a `Call` record as the state holds them
(plain dicts LangGraph can serialise, shaped like `gauntlet.payloads`' NodePayload, EdgePayload and
LLMCallPayload), the `Update` a move returns, and the debate's `initial_state`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Callable, Sequence, TypedDict

from langgraph.channels import DeltaChannel

from gauntlet.agents.llm import LLM
from gauntlet.agents.corpus import Passage, passages_for
from gauntlet.agents.persona import Persona
from gauntlet.provers.cache import VerdictCache
from gauntlet.graphs.protocols.budget import Budget
from gauntlet.config import RunConfig


class Node(TypedDict):
    """A node as the state holds it: `NodePayload.model_dump()`; `data` is its kind's record (`payloads.NODE_DATA`)."""

    id: str
    kind: str
    persona: str
    round: int
    title: str
    text: str
    data: dict[str, Any]


class Edge(TypedDict):
    """An edge as the state holds it: `EdgePayload.model_dump()`."""

    src: str
    dst: str
    kind: str


# An LLM call record (`LLMCallPayload.model_dump(exclude_unset=True)`): an open record, moves add flags beside
# the typed fields (`closing`, `assigned`, `labels`, `dropped_echoes`, ...).
Call = dict[str, Any]


class Update(TypedDict, total=False):
    """What a move returns: new items for the append-only lists, and `stopped` when the budget ended it."""

    nodes: list[Node]
    edges: list[Edge]
    calls: list[Call]
    stopped: str
    round: int


def appended(items: list[Any], updates: Sequence[list[Any]]) -> list[Any]:
    """The append-only lists' reducer: every update's items after the old ones, in order (a new list; the old
    one may be a checkpoint's). Folding batches one at a time or all at once gives the same list, as LangGraph's
    DeltaChannel requires."""
    out = list(items)
    for update in updates:
        out.extend(update)
    return out


# Why DeltaChannel, not operator.add: a checkpoint then stores only the superstep's new items (the tasks' writes
# it keeps anyway), not the whole list again. With `calls` carrying every prompt, re-serialising the lists at
# every superstep was ~17 MB of msgpack per 256-critic run. Checkpoints of older runs hold plain lists;
# DeltaChannel reads those as they are, so they still resume and fork.
AppendOnly = DeltaChannel(appended)


def _first_reason(old: str | None, new: str | None) -> str:
    """Parallel branches may all hit the budget in one step; keep the first reason."""
    return old or new or ""


class DebateState(TypedDict, total=False):
    # The plan lives in the state (not only the config) so a fork can change it from a checkpoint.
    round: int
    rounds: int
    proposers: list[str]
    critics: list[str]
    judge: str
    stopped: Annotated[str, _first_reason]  # set when a budget ends the debate; routing then goes to the end
    nodes: Annotated[list[Node], AppendOnly]
    edges: Annotated[list[Edge], AppendOnly]
    calls: Annotated[list[Call], AppendOnly]


class Task(TypedDict, total=False):
    """The input of one fanned-out branch: who acts, in which round, on what (the debate so far).

    What a `Send` carries is slimmer: `seen` in place of `nodes` and `edges` (see `task_for`); the move gets them
    back from the graph's state (`with_debate`) before it runs."""

    persona: str
    round: int
    nodes: list[Node]
    edges: list[Edge]
    seen: list[Any]  # [len(nodes), len(edges), last node's id, last edge's (src, kind, dst)] when sent


@dataclass
class DebateContext:
    """Run-scoped, non-serialisable things nodes need (LangGraph passes it as the runtime context)."""

    run_id: str
    config: RunConfig
    personas: dict[str, Persona]
    llm: LLM
    budget: Budget = field(default_factory=Budget)
    # Prover verdicts cached in the run's own database (the runner hands it over); None: no cache.
    verdict_cache: VerdictCache | None = None
    # Retrieval over a persona's corpus: (corpus dir, persona, query) -> passages; tests and servers may swap it.
    retrieve: Callable[[str | None, str, str], list[Passage]] = passages_for


def initial_state(ctx: DebateContext) -> DebateState:
    """Round 1 of the plan the config sets, with empty lists (every protocol starts here)."""
    cfg = ctx.config
    return {"round": 1, "rounds": cfg.rounds, "proposers": list(cfg.panel.proposers),
            "critics": list(cfg.panel.critics), "judge": cfg.panel.judge or "", "nodes": [], "edges": [],
            "calls": []}


def _edge_key(e: Edge) -> list[str]:
    return [e["src"], e["kind"], e["dst"]]


def task_for(state: DebateState, persona: str) -> Task:
    """The `Send` payload of one persona's branch: who, which round, and how far the debate had got.

    Why not the lists themselves: LangGraph stores every `Send`'s payload twice (the sending task's writes and
    the next checkpoint), so 256 critics each carrying the whole debate were ~56 MB of msgpack per run, most of a
    run's checkpoint cost. The branch reads the same lists from the state instead (`with_debate`)."""
    nodes, edges = state.get("nodes", []), state.get("edges", [])
    return {"persona": persona, "round": state["round"],
            "seen": [len(nodes), len(edges), nodes[-1]["id"] if nodes else None,
                     _edge_key(edges[-1]) if edges else None]}


def with_debate(task: Any) -> Any:
    """A branch's task with `nodes` and `edges` as its `Send` saw them; anything else (the whole state, a task
    that carries its lists, as in checkpoints written before the slim payload) is returned as it is.

    The branch runs in the superstep after the one that sent it, so the state it reads holds what the sender saw,
    plus whatever other tasks of the sender's superstep appended (none, in the shipped protocols: they fan out
    from join nodes). The lists are append-only and written in task order, so the sender's view is a prefix; its
    last node id and edge confirm which, and anything else is an error, never a silently different debate."""
    if not isinstance(task, dict) or "seen" not in task or "nodes" in task:
        return task
    from langgraph._internal._constants import CONFIG_KEY_READ  # what LangGraph's ToolNode reads state with too
    from langgraph.config import get_config

    values = get_config()["configurable"][CONFIG_KEY_READ](["nodes", "edges"])
    n, m, last_node, last_edge = task["seen"]
    nodes, edges = values.get("nodes") or [], values.get("edges") or []
    nodes, edges = (nodes if len(nodes) == n else nodes[:n]), (edges if len(edges) == m else edges[:m])
    if (len(nodes) != n or len(edges) != m or (n and nodes[-1]["id"] != last_node)
            or (m and _edge_key(edges[-1]) != list(last_edge))):
        raise RuntimeError(f"the {task.get('persona')!r} branch cannot find the debate its Send saw "
                           f"({n} nodes, {m} edges) in the graph's state; send from a node no other task "
                           "writes nodes or edges beside, or send the lists themselves")
    return {**task, "nodes": nodes, "edges": edges}
