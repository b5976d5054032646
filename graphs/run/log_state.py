"""A run's LangGraph state at a superstep, rebuilt from its event log: how a run with no checkpoints here (one
loaded by `gauntlet import`) can still be forked.

The debate state (`DebateState`) is the run's plan plus append-only lists, and every list item is an event
(`node`, `edge`, `llm_call`), so the state after superstep s is the plan plus the items of the events up to s. Items
from parallel branches of one superstep keep the log's order, which may differ from the checkpoint's; nothing
downstream depends on that order beyond how a prompt lists the debate.
"""

from __future__ import annotations

import json
from typing import Any

from gauntlet.errors import InputError
from gauntlet.graphs.protocols.registry import PROTOCOLS
from gauntlet.graphs.run.checkpoint import checkpointer_for
from gauntlet.graphs.store.store import Store, typed_payload
from gauntlet.graphs.store.tables import Event

_ITEMS = {"node": "nodes", "edge": "edges", "llm_call": "calls"}
_NOT_MOVES = ("", "final", "fork")  # phases that name no LangGraph node of the protocol


def state_at(events: list[Event], config: dict[str, Any], superstep: int, prefix_end: int = 0
             ) -> tuple[dict[str, Any], str]:
    """(state values after `superstep`, the node that ran in it); a fork's inherited prefix (seq <= prefix_end)
    counts whole, as its seeded checkpoint did."""
    panel = config.get("panel") or {}
    values: dict[str, Any] = {"round": 1, "rounds": config.get("rounds", 1),
                              "proposers": list(panel.get("proposers") or []),
                              "critics": list(panel.get("critics") or []), "judge": panel.get("judge") or "",
                              "nodes": [], "edges": [], "calls": []}
    ran = ""
    for e in events:
        if e.seq > prefix_end and e.superstep > superstep:
            continue
        if e.kind in _ITEMS:
            values[_ITEMS[e.kind]].append(json.loads(e.payload))
        elif e.kind == "round_started":
            values["round"] = max(values["round"], typed_payload(e).round)
        elif e.kind == "budget_reached":
            values["stopped"] = typed_payload(e).reason
        if e.seq > prefix_end and e.superstep == superstep and e.phase not in _NOT_MOVES:
            # A node's own update names it; a call's phase is the move's name, used only when nothing else ran.
            if e.kind != "llm_call" or not ran:
                ran = e.phase
        elif e.seq > prefix_end and e.superstep == superstep and e.kind == "round_started":
            ran = ran or "next_round"  # the runner writes the round's start (phase-less) from that node only
    return values, ran or "__start__"


async def require_checkpoints(store: Store, run_id: str, protocol: str) -> None:
    """`resume` continues a LangGraph thread; a run imported from a file has none here, so say what to do instead
    (a fork rebuilds the state from the log and gets a thread of its own)."""
    async with checkpointer_for(store) as saver:
        app = PROTOCOLS[protocol]().compile(checkpointer=saver)
        snap = await app.aget_state({"configurable": {"thread_id": run_id}})
    if snap.created_at is None:
        last = store.last_seq(run_id)
        raise InputError(f"run {run_id} has no checkpoints in this database (it was imported from a file)",
                         field="RUN_ID", fix=f"fork it where it stopped, `gauntlet fork {run_id} --step {last}`, "
                                             "then resume the fork")
