"""Drive a debate: config → LangGraph (checkpointed) → events in the store. The only place that does both."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import secrets
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import orjson
from sqlalchemy import select

from gauntlet.agents.backends import describe
from gauntlet.agents.llm import LLM, LLMError
from gauntlet.agents.routing import make_run_llm
from gauntlet.config import RunConfig
from gauntlet.graphs.run.loading import LoadedConfig
from gauntlet.provers.cache import VerdictCache
from gauntlet.errors import RunPaused
from gauntlet.payloads import (BudgetReachedPayload, LLMCallPayload, RoundStartedPayload, RunEndedPayload,
                               RunResumedPayload, RunStartedPayload)
from gauntlet.graphs.protocols.budget import Budget, BudgetReached
from gauntlet.graphs.run.checkpoint import checkpointer_for
from gauntlet.graphs.run.collector import debate_collector
from gauntlet.graphs.run.log_state import require_checkpoints
from gauntlet.graphs.store.event_writer import BatchedWriter
from gauntlet.graphs.protocols.state import initial_state
from gauntlet.graphs.protocols.registry import PROTOCOLS
from gauntlet.graphs.protocols.state import DebateContext
from gauntlet.graphs.store.store import NewEvent, Store
from gauntlet.graphs.store.tables import Event

log = logging.getLogger("gauntlet.run")
OnEvent = Callable[[NewEvent], None]


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def _call_key(c: dict[str, Any]) -> str:
    return f"call/{c['key']}"


def _node_key(n: dict[str, Any]) -> str:
    return f"node/{n['id']}"


def _edge_key(e: dict[str, Any]) -> str:
    return f"edge/{e['src']}/{e['kind']}/{e['dst']}"


def events_from_update(node_name: str, update: dict[str, Any], superstep: int) -> list[NewEvent]:
    """The events one LangGraph node update implies, with idempotent keys."""
    out: list[NewEvent] = []
    for c in update.get("calls") or []:
        out.append(NewEvent(key=_call_key(c), kind="llm_call", payload=c, round=c["round"],
                            phase=c["phase"], persona=c["persona"], superstep=superstep))
    for n in update.get("nodes") or []:
        out.append(NewEvent(key=_node_key(n), kind="node", payload=n, round=n["round"],
                            phase=node_name, persona=n["persona"], superstep=superstep))
    for e in update.get("edges") or []:
        out.append(NewEvent(key=_edge_key(e), kind="edge", payload=e,
                            phase=node_name, superstep=superstep))
    if node_name == "next_round" and "round" in update:
        out.append(NewEvent(key=f"round/{update['round']}", kind="round_started",
                            payload=RoundStartedPayload(round=update["round"]).model_dump(),
                            round=update["round"], superstep=superstep))
    return out


def all_streamed(state: dict[str, Any], streamed: set[str]) -> bool:
    """Whether every item of the final state already went out as an event (keys only: building thousands of
    events to find none missing was ~10 ms at the end of every 256-critic run)."""
    return (all(_call_key(c) in streamed for c in state.get("calls") or [])
            and all(_node_key(n) in streamed for n in state.get("nodes") or [])
            and all(_edge_key(e) in streamed for e in state.get("edges") or []))


def call_payloads(store: Store, run_id: str) -> list[dict[str, Any]]:
    """The run's llm_call payloads in order. Only that column, parsed with orjson: loading ORM rows and json.loads
    of every prompt was most of a finished run's bookkeeping (~0.1 s at 410 calls)."""
    q = select(Event.payload).where(Event.run_id == run_id, Event.kind == "llm_call").order_by(Event.seq)
    with store.engine.connect() as conn:
        return [orjson.loads(p) for p in conn.execute(q).scalars()]


@functools.lru_cache(maxsize=None)
def _compiled_without_saver(factory: Callable[[], Any]) -> Any:
    return factory().compile()


def compiled(factory: Callable[[], Any], saver: Any) -> Any:
    """The protocol's graph compiled with this run's checkpointer. Compiling (validation, channels from the state
    type) took 20-50 ms a run, so it is done once per protocol and copied with the saver; LangGraph's strict
    msgpack mode wraps the saver at compile time, so it compiles afresh there."""
    from langgraph._internal import _serde

    if _serde.STRICT_MSGPACK_ENABLED:
        return factory().compile(checkpointer=saver)
    return _compiled_without_saver(factory).copy({"checkpointer": saver})


def run_stats(store: Store, run_id: str, wall_s: float | None = None) -> dict[str, Any]:
    """Per-run accounting from the stored llm_call events."""
    return stats_of(call_payloads(store, run_id), wall_s)


def stats_of(payloads: list[dict[str, Any]], wall_s: float | None = None) -> dict[str, Any]:
    """Per-run accounting from llm_call payloads (the stored ones, or a finished debate's state)."""
    # Typed without re-validating: every payload passed its model on the way into the store.
    calls = [LLMCallPayload.model_construct(**c) for c in payloads]
    lat = [c.latency_s for c in calls]
    faults: dict[str, int] = {}
    for c in calls:
        for f in c.faults:
            faults[str(f)] = faults.get(str(f), 0) + 1
    stats = {"calls": len(calls), "prompt_tokens": sum(c.prompt_tokens for c in calls),
             "completion_tokens": sum(c.completion_tokens for c in calls),
             "latency_median_s": statistics.median(lat) if lat else None,
             # Tails say whether the engine (latency) or our in-flight limit (queueing) held a round back.
             "latency_p95_s": sorted(lat)[int(0.95 * (len(lat) - 1))] if lat else None,
             "queued_total_s": round(sum(c.queued_s for c in calls), 3),
             "queued_max_s": max((c.queued_s for c in calls), default=0.0),
             "faults": faults, "repaired": sum(1 for c in calls if c.repaired)}
    if wall_s is not None:
        stats["wall_s"] = round(wall_s, 3)
    return stats


@dataclass
class Runner:
    """Runs, resumes and forks debates against one store."""

    store: Store
    on_event: OnEvent | None = None
    llm: LLM | None = None  # injected in tests/benchmarks; otherwise built from the config
    _owned_llm: bool = field(default=False, init=False)

    def _context(self, run_id: str, loaded: LoadedConfig) -> DebateContext:
        llm = self.llm
        if llm is None:
            llm = make_run_llm(loaded.config)  # one backend, or per-persona endpoints (agents/routing.py)
            self._owned_llm = True
        b = loaded.config.budgets
        # A resumed run keeps spending the same budget: count what earlier processes already used.
        used = run_stats(self.store, run_id)
        prior = json.loads(self.store.run(run_id).stats_json or "{}")
        budget = Budget(max_calls=b.max_calls, max_tokens=b.max_tokens, wall_seconds=b.wall_seconds,
                        calls=used["calls"], tokens=used["prompt_tokens"] + used["completion_tokens"],
                        elapsed_before=float(prior.get("wall_s") or 0.0))
        return DebateContext(run_id=run_id, config=loaded.config, personas=dict(loaded.personas), llm=llm,
                             budget=budget, verdict_cache=self._verdict_cache())

    def _verdict_cache(self) -> VerdictCache | None:
        """Prover verdicts live in the run's own database; a cache that cannot open is only a miss."""
        try:
            return VerdictCache(engine=self.store.write_engine)
        except Exception:  # noqa: BLE001 - never fail a debate over its cache
            return None

    async def start(self, loaded: LoadedConfig, *, run_id: str | None = None) -> str:
        cfg = loaded.config
        run_id = run_id or new_run_id()
        roles: dict[str, list[str]] = {}
        for role, names in (("proposer", cfg.panel.proposers), ("critic", cfg.panel.critics),
                            ("judge", [cfg.panel.judge] if cfg.panel.judge else [])):
            for n in names:
                roles.setdefault(n, []).append(role)
        personas = [(name, loaded.personas[name].discipline, ",".join(r),
                     loaded.personas[name].model_dump()) for name, r in roles.items()]
        self.store.create_run(run_id, topic=cfg.topic, config=cfg.model_dump(mode="json"),
                              source=loaded.source, seed=cfg.seed, model=describe(cfg.model),
                              personas=personas, protocol=cfg.protocol)
        self._emit(run_id, [NewEvent(key="run/started", kind="run_started",
                                     payload=RunStartedPayload(config=cfg.model_dump(mode="json"),
                                                                source=loaded.source).model_dump())])
        ctx = self._context(run_id, loaded)
        await self._drive(run_id, ctx, initial_state(ctx))
        return run_id

    async def resume(self, run_id: str) -> str:
        row = self.store.run(run_id)
        await require_checkpoints(self.store, run_id, row.protocol)  # an imported run: fork it instead
        loaded = self.loaded_config(run_id)
        self.store.set_status(run_id, "running", pid=os.getpid())
        self._emit(run_id, [NewEvent(key=f"run/resumed/{self.store.last_seq(run_id)}", kind="run_resumed",
                                     payload=RunResumedPayload(previous_status=row.status).model_dump())])
        await self._drive(run_id, self._context(run_id, loaded), None)
        return run_id

    def loaded_config(self, run_id: str) -> LoadedConfig:
        """The run's config and persona cards exactly as stored (so replays do not depend on the library)."""
        from gauntlet.agents.persona import Persona

        row = self.store.run(run_id)
        cfg = RunConfig.model_validate(json.loads(row.config_json))
        cards = {p.name: Persona.model_validate(json.loads(p.card_json)) for p in self.store.personas(run_id)}
        return LoadedConfig(config=cfg, personas=cards, source=row.config_source)

    def _emit(self, run_id: str, events: list[NewEvent]) -> None:
        fresh = self.store.append(run_id, events)
        if self.on_event:
            for e in fresh:
                self.on_event(e)

    async def _drive(self, run_id: str, ctx: DebateContext, state: dict[str, Any] | None) -> None:
        with debate_collector():  # the GC walked every object in the process many times a turn (collector.py)
            await self._drive_graph(run_id, ctx, state)

    async def _drive_graph(self, run_id: str, ctx: DebateContext, state: dict[str, Any] | None) -> None:
        t0 = time.perf_counter() - ctx.budget.elapsed_before  # wall time counts across resumes
        final_calls: list[dict[str, Any]] | None = None  # every call of the run, once the graph has finished
        factory = PROTOCOLS[ctx.config.protocol]
        config = {"configurable": {"thread_id": run_id}, "recursion_limit": 100 + 10 * ctx.config.rounds}
        try:
            async with checkpointer_for(self.store) as saver:
                app = compiled(factory, saver)
                final, superstep, streamed = await self._stream(run_id, app, state, config, ctx)
                if final is None:  # no superstep ran in this process: the state is the checkpoint's
                    final = (await app.aget_state(config)).values
                # A crash between a checkpoint and its events loses nothing: re-derive from the final state what
                # the stream did not carry (on a resume, what the killed process checkpointed but never wrote).
                items = {k: final.get(k) for k in ("calls", "nodes", "edges")}
                if not all_streamed(items, streamed):
                    self._emit(run_id, [e for e in events_from_update("final", items, superstep)
                                        if e.key not in streamed])
                final_calls = items["calls"] or []
        except BudgetReached:
            pass  # a move outside the budgeted wrapper hit the cap; what it did before is already stored
        except LLMError as exc:
            msg = f"LLM backend failed: {exc}; fix the endpoint, then `gauntlet resume {run_id}`"
            log.error("run %s interrupted: %s", run_id, msg)
            self._finish(run_id, "interrupted", t0, error=msg)
            raise RunPaused(f"run {run_id}: {msg}") from None
        except BaseException as exc:
            msg = f"{type(exc).__name__}: {exc}"
            status = ("interrupted" if isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError))
                      else "failed")
            log.error("run %s %s: %s", run_id, status, msg, exc_info=status == "failed")
            self._finish(run_id, status, t0, error=msg)
            raise
        finally:
            if self._owned_llm:
                await ctx.llm.aclose()
        if ctx.budget.reason:
            self._emit(run_id, [NewEvent(key="run/budget_reached", kind="budget_reached",
                                         payload=BudgetReachedPayload(reason=ctx.budget.reason).model_dump())])
        self._finish(run_id, "done", t0, stopped_by=ctx.budget.reason, calls=final_calls)

    async def _stream(self, run_id: str, app: Any, state: dict[str, Any] | None, config: dict[str, Any],
                      ctx: DebateContext) -> tuple[dict[str, Any] | None, int, set[str]]:
        """Run the graph, handing each update's events to the batched writer. Returns the last checkpoint's
        state (None if no superstep ran), the superstep count and the keys of the events handed over."""
        superstep, final, streamed = 0, None, set()
        # Batched and off the event loop: the stream (and so the next superstep) never waits on a write.
        writer = BatchedWriter(functools.partial(self._emit, run_id))
        try:
            async for mode, chunk in app.astream(state, config, context=ctx, durability="async",
                                                 stream_mode=["updates", "checkpoints"]):
                if mode == "checkpoints":
                    superstep = int(chunk["metadata"].get("step", superstep)) + 1
                    final = chunk["values"]  # the state after this superstep: no need to load it back at the end
                    continue
                for node_name, update in chunk.items():
                    if isinstance(update, dict):
                        events = events_from_update(node_name, update, superstep)
                        streamed.update(e.key for e in events)
                        writer.put(events)
        finally:
            await writer.close()  # also on failure: what happened before it is in the log
        return final, superstep, streamed

    def _finish(self, run_id: str, status: str, t0: float, error: str | None = None,
                stopped_by: str | None = None, calls: list[dict[str, Any]] | None = None) -> None:
        """Mark the run ended. `calls`: the finished graph's own list of every call of the run (what its events
        hold, resumed and forked runs included), which spares reading them all back (~15 ms at 256 critics)."""
        kind = {"done": "run_finished", "failed": "run_failed", "interrupted": "run_interrupted"}[status]
        self._emit(run_id, [NewEvent(key=f"run/{kind}/{self.store.last_seq(run_id)}", kind=kind,
                                     payload=RunEndedPayload(error=error).model_dump(exclude_none=True))])
        wall = time.perf_counter() - t0
        stats = run_stats(self.store, run_id, wall) if calls is None else stats_of(calls, wall)
        if stopped_by:
            stats["stopped_by"] = f"budget: {stopped_by}"
        self.store.set_status(run_id, status, error=error, stats=stats)
