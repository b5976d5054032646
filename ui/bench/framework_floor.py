"""The orchestration benchmark's framework floor: what LangGraph itself costs per fan-out superstep.

A graph with the debate's own state type (append-only `DeltaChannel` lists) and checkpointer, whose `width`
branches do no debate work at all: each sleeps L and writes one small node and one call record, as a critic's
branch does. Its wall time over `steps` supersteps, less steps × L, is the framework's share (task preparation,
config and callback plumbing, applying writes, checkpoints). `bench orchestration` reports it beside
`vs_bare_client`, so how much of the gap to the bare client is LangGraph's is measured in the same run rather
than argued.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any, Callable

from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

from gauntlet.graphs.protocols.state import DebateState
from gauntlet.graphs.run import event_loop
from gauntlet.graphs.run.checkpoint import checkpointer_for
from gauntlet.graphs.run.collector import debate_collector
from gauntlet.graphs.store.store import Store


def fan_out_graph(width: int, steps: int, latency_s: float) -> StateGraph:
    """START → (width branches → join) × steps → END; each branch sleeps `latency_s` and appends one node."""

    async def branch(task: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(latency_s)
        step, i = task["step"], task["i"]
        return {"nodes": [{"id": f"s{step}-n{i}", "kind": "critique", "persona": f"critic-{i:04d}", "round": 1,
                           "title": "", "text": "a critique of about this length " * 6, "data": {"target": "i1"}}],
                "calls": [{"key": f"s{step}/{i}", "persona": f"critic-{i:04d}", "round": 1, "phase": "critique"}]}

    def fan(step: int) -> Callable[[Any], list[Send]]:
        return lambda state: [Send(f"branch{step}", {"step": step, "i": i}) for i in range(width)]

    g = StateGraph(DebateState)
    g.add_node("begin", lambda state: {})
    g.add_edge(START, "begin")
    previous = "begin"
    for step in range(steps):
        g.add_node(f"branch{step}", branch)
        g.add_node(f"join{step}", lambda state: {})
        g.add_conditional_edges(previous, fan(step), [f"branch{step}"])
        g.add_edge(f"branch{step}", f"join{step}")
        previous = f"join{step}"
    g.add_edge(previous, END)
    return g


async def _timed(app: Any, thread: str) -> float:
    t0 = time.perf_counter()
    state = {"round": 1, "nodes": [], "edges": [], "calls": []}
    async for _ in app.astream(state, {"configurable": {"thread_id": thread}}, durability="async",
                               stream_mode=["updates", "checkpoints"]):  # as the runner streams a debate
        pass
    return time.perf_counter() - t0


def superstep_overhead(width: int, latency_ms: float, db_dir: Path, *, steps: int = 3,
                       repeat: int = 3) -> dict[str, Any]:
    """LangGraph's own milliseconds per superstep of `width` branches (median of `repeat` runs after one
    untimed run), with the debate's checkpointer on a fresh SQLite file, and without any checkpointer."""
    graph = fan_out_graph(width, steps, latency_ms / 1000)
    ideal = steps * latency_ms / 1000

    async def run(with_checkpoints: bool, thread: str) -> float:
        if not with_checkpoints:
            return await _timed(graph.compile(), thread)
        store = Store(str(db_dir / f"floor-{time.monotonic_ns()}.sqlite"))
        try:
            async with checkpointer_for(store) as saver:
                return await _timed(graph.compile(checkpointer=saver), thread)
        finally:
            store.engine.dispose()

    out: dict[str, Any] = {"width": width, "supersteps": steps}
    with debate_collector():  # the collector settings a debate runs under
        for label, checkpoints in (("ms_per_superstep", True), ("ms_per_superstep_no_checkpoints", False)):
            walls = [event_loop.run(run(checkpoints, f"floor-{k}")) for k in range(repeat + 1)][1:]
            out[label] = round(1000 * (statistics.median(walls) - ideal) / steps, 1)
    return out
