"""Checkpoints store each superstep's delta: the append-only lists are LangGraph DeltaChannels and a
`Send` carries how far the debate had got, not the lists. What a debate means must not change, and checkpoints
written before (plain lists, Sends carrying the lists) must still resume. Real LangGraph, real SQLite saver, real
synthetic server."""

from __future__ import annotations

import asyncio
import json
import operator
import sqlite3
from typing import Annotated, Any, TypedDict

import pytest
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.serde.types import _DeltaSnapshot
from langgraph.graph import START, StateGraph
from langgraph.types import Send

from gauntlet.agents.llm import LLMError
from gauntlet.agents.openai_backend import OpenAIBackend
from gauntlet.errors import RunPaused
from gauntlet.graphs.protocols import state as state_mod
from gauntlet.graphs.protocols.state import AppendOnly, task_for, with_debate
from gauntlet.graphs.run.checkpoint import checkpoint_path
from gauntlet.graphs.run.fork import fork_run
from gauntlet.graphs.run.runner import Runner, _compiled_without_saver
from gauntlet.graphs.store.store import Store

from tests.conftest import run_debate


def _untimed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k not in ("latency_s", "queued_s", "elapsed_s")}
    return [_untimed(v) for v in value] if isinstance(value, list) else value


def content(store: Store, run_id: str) -> dict:
    """What must match between two seeded runs: every debate event by key (timings aside)."""
    return {e.key: _untimed(json.loads(e.payload)) for e in store.events(run_id)
            if e.kind in ("node", "edge", "llm_call", "round_started")}


def checkpoint_rows(store: Store) -> tuple[list[dict], list[tuple[str, Any]]]:
    serde = JsonPlusSerializer()
    with sqlite3.connect(checkpoint_path(store)) as conn:
        cks = [serde.loads_typed((t, b)) for t, b in conn.execute("select type, checkpoint from checkpoints")]
        writes = [(c, serde.loads_typed((t, v))) for c, t, v in conn.execute("select channel, type, value from writes")]
    return cks, writes


def test_checkpoints_hold_deltas_and_sends_carry_no_lists(store, demo, synthetic_url):
    run_id = run_debate(store, demo, synthetic_url)
    cks, writes = checkpoint_rows(store)
    assert len(cks) > 5
    for ck in cks:  # no checkpoint re-stores the lists: absent (replayed from writes) or an explicit snapshot
        for ch in ("nodes", "edges", "calls"):
            assert ch not in ck["channel_values"] or isinstance(ck["channel_values"][ch], _DeltaSnapshot)
    sends = [v for c, v in writes if c == "__pregel_tasks"]
    assert sends and all("seen" in s.arg and "nodes" not in s.arg and "edges" not in s.arg for s in sends)
    # The writes still hold every call record, so a resume can rebuild `calls` (and the log its events).
    calls = [c for ch, v in writes if ch == "calls" for c in v]
    assert {f"call/{c['key']}" for c in calls} == {e.key for e in store.events(run_id, kinds=("llm_call",))}


# with_debate on a real graph ------------------------------------------------------------------------------
class _S(TypedDict, total=False):
    round: int
    nodes: Annotated[list, AppendOnly]
    edges: Annotated[list, AppendOnly]
    seen_by_branch: Annotated[list, operator.add]


def _graph(sender: str) -> Any:
    """`a` and `b` run in one superstep, each adding a node; `sender` fans out to `branch` from there."""
    def add(name: str):
        return lambda s: {"nodes": [{"id": name}], "edges": [{"src": name, "kind": "supports", "dst": "seed"}]}

    def route(s: dict) -> list[Send]:
        return [Send("branch", task_for(s, "p"))]

    def branch(task: dict) -> dict:
        task = with_debate(task)
        return {"seen_by_branch": [[n["id"] for n in task["nodes"]]]}

    g = StateGraph(_S)
    for n in ("seed", "a", "b", "branch"):
        g.add_node(n, {"seed": lambda s: {"nodes": [{"id": "seed"}]}, "branch": branch}.get(n) or add(n))
    g.add_edge(START, "seed")
    g.add_edge("seed", "a")
    g.add_edge("seed", "b")
    g.add_conditional_edges(sender, route, ["branch"])
    return g.compile()


def test_a_branch_gets_the_debate_its_send_saw():
    out = _graph("a").invoke({"round": 1, "nodes": [], "edges": []})
    # `a` saw seed + its own node; `b`'s node, written beside it in that superstep, is not part of the task.
    assert out["seen_by_branch"] == [["seed", "a"]]


def test_a_branch_refuses_a_debate_that_is_not_what_its_send_saw():
    # `b` saw seed + b, but `a`'s node lands before b's in the state: no prefix matches, so it fails loudly.
    with pytest.raises(RuntimeError, match="cannot find the debate its Send saw"):
        _graph("b").invoke({"round": 1, "nodes": [], "edges": []})


def test_a_task_that_carries_its_lists_is_used_as_it_is():
    task = {"persona": "p", "round": 1, "nodes": [{"id": "x"}], "edges": []}
    assert with_debate(task) is task
    state = {"round": 1, "nodes": [], "edges": [], "calls": []}
    assert with_debate(state) is state


# checkpoints written before the delta format ------------------------------------------------------------
def _legacy_task_for(state: dict, persona: str) -> dict:
    return {"persona": persona, "round": state["round"], "nodes": state.get("nodes", []),
            "edges": state.get("edges", [])}


class _FailsAfter:
    """The synthetic backend, failing (as an unreachable endpoint would) from the n-th call on."""

    def __init__(self, inner: OpenAIBackend, n: int) -> None:
        self.inner, self.n, self.name = inner, n, inner.name

    async def complete(self, messages, schema=None, **kw):
        self.n -= 1
        if self.n < 0:
            raise LLMError("endpoint gone")
        return await self.inner.complete(messages, schema, **kw)

    async def score(self, messages, choices, **kw):
        # Forwarded like every wrapper must: without it the debate's scored steps (library checks, jurors) would
        # silently take their unscored paths, and the resumed run would not be the reference debate.
        self.n -= 1
        if self.n < 0:
            raise LLMError("endpoint gone")
        return await self.inner.score(messages, choices, **kw)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_a_run_checkpointed_in_the_old_format_resumes_to_the_same_debate(store, demo, synthetic_url, monkeypatch,
                                                                         tmp_path):
    from gauntlet.graphs.protocols import critique_routing, gauntlet, skeleton

    ref_store = Store(str(tmp_path / "reference.sqlite"))  # its own database: no prover verdicts cached in ours
    reference = content(ref_store, run_debate(ref_store, demo, synthetic_url))

    # Write a run's first checkpoints the old way (plain lists, Sends carrying them), then stop it mid-debate.
    with monkeypatch.context() as m:
        # DebateState as checkpoints before the delta format were written: operator.add lists (its annotations
        # are strings, evaluated in the state module when the graph is built).
        m.setattr(state_mod, "AppendOnly", operator.add)
        for mod in (gauntlet, skeleton, critique_routing):
            m.setattr(mod, "task_for", _legacy_task_for)
        _compiled_without_saver.cache_clear()

        async def start() -> str:
            llm = _FailsAfter(OpenAIBackend(synthetic_url, "synthetic", backoff_s=0.01), 6)
            try:
                return await Runner(store, llm=llm).start(demo, run_id="legacy")
            finally:
                await llm.aclose()

        with pytest.raises(RunPaused):
            asyncio.run(start())
    _compiled_without_saver.cache_clear()
    cks, writes = checkpoint_rows(store)
    assert any(isinstance(ck["channel_values"].get("calls"), list) for ck in cks)  # really the old format
    assert any("nodes" in v.arg for c, v in writes if c == "__pregel_tasks")

    # A fork from an old-format checkpoint (read through the same channels), made before the parent resumes.
    # (At the last superstep that finished: the interrupted one has no checkpoint to fork from.)
    events = store.events("legacy")
    step = max(e.seq for e in events if 0 < e.superstep < max(x.superstep for x in events))
    fork = asyncio.run(fork_run(store, "legacy", step, run_id="legacy-fork"))

    async def resume(run_id: str) -> None:
        llm = OpenAIBackend(synthetic_url, "synthetic", backoff_s=0.01)
        try:
            await Runner(store, llm=llm).resume(run_id)
        finally:
            await llm.aclose()

    for run_id in ("legacy", fork.run_id):
        asyncio.run(resume(run_id))
        assert store.run(run_id).status == "done"
        got = content(store, run_id)
        if run_id == fork.run_id:  # the fork's prover may find verdicts its parent cached in this database
            for key, payload in got.items():
                if payload.get("kind") == "formal_result":
                    payload["data"].pop("cached")
                    reference[key]["data"].pop("cached")
        assert got == reference  # an identical continuation: the same debate
