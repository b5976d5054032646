"""Fork a run at a step: a new run whose log is a copy of the parent's prefix and whose LangGraph thread is seeded
from the parent's checkpoint, with a changed panel and/or a human intervention. `Runner.resume` continues it.

A step is an event seq (as in `gauntlet replay --until`). LangGraph checkpoints exist per superstep, not per
event, so a fork point inside a superstep snaps to the end of that superstep: the fork's log and its state then
agree exactly (every node in the state is in the log, and nothing after it is).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from gauntlet.config import RunConfig
from gauntlet.errors import InputError
from gauntlet.payloads import EdgePayload, HumanNoteData, NodePayload, RunForkedPayload
from gauntlet.graphs.run.checkpoint import checkpointer_for
from gauntlet.graphs.run.log_state import state_at
from gauntlet.graphs.protocols.registry import PROTOCOLS
from gauntlet.graphs.run.runner import new_run_id
from gauntlet.graphs.store.store import NewEvent, Store
from gauntlet.graphs.store.tables import Event

# Lifecycle events that describe the parent's process, not the debate: a fork does not inherit them.
_NOT_COPIED = ("run_finished", "run_failed", "run_interrupted", "run_resumed")
NOTE_EDGES = ("attacks", "supports")


@dataclass
class ForkSpec:
    """What changes in the fork. Empty = an identical continuation from the step."""

    drop: list[str] = field(default_factory=list)  # personas removed from every role
    add_critics: list[str] = field(default_factory=list)
    add_proposers: list[str] = field(default_factory=list)
    judge: str | None = None
    rounds: int | None = None
    note: str = ""  # a human intervention, injected as a human_note node
    note_on: str | None = None  # the node it attacks or supports
    note_edge: str = "attacks"
    author: str = "reviewer"


@dataclass
class ForkResult:
    run_id: str
    parent_run_id: str
    fork_step: int  # the last parent event copied (the requested step, snapped to its superstep's end)
    superstep: int
    note_id: str | None


def prefix_end(events: list[Event]) -> int:
    """In a fork, the last event of its inherited prefix (copied log, fork marker, injected note); 0 otherwise."""
    return max((e.seq for e in events if e.kind == "run_forked" or e.phase == "fork"), default=0)


def effective_superstep(events: list[Event], step: int) -> int:
    """The superstep this run's own LangGraph thread had reached at event `step`.

    Lifecycle events carry 0, so take the running max; a fork's inherited prefix carries the parent's numbers,
    so only the events after it count.
    """
    start = prefix_end(events)
    return max((e.superstep for e in events if start < e.seq <= step), default=0)


def _panel(cfg: dict[str, Any], spec: ForkSpec) -> dict[str, Any]:
    panel = dict(cfg["panel"])
    drop = set(spec.drop)
    panel["proposers"] = [p for p in panel.get("proposers", []) if p not in drop]
    panel["critics"] = [c for c in panel.get("critics", []) if c not in drop]
    panel["proposers"] += [p for p in spec.add_proposers if p not in panel["proposers"]]
    panel["critics"] += [c for c in spec.add_critics if c not in panel["critics"]]
    if spec.judge is not None:
        panel["judge"] = spec.judge or None
    elif panel.get("judge") in drop:
        panel["judge"] = None
    return panel


def _cards(store: Store, parent_id: str, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Persona cards for the fork: the parent's stored cards first (a replay must not depend on the library)."""
    cards = {p.name: json.loads(p.card_json) for p in store.personas(parent_id)}
    missing = [n for n in names if n not in cards]
    if missing:
        from gauntlet.agents.persona import library
        lib = library()
        for n in missing:
            if n not in lib:
                raise InputError(f"unknown persona {n!r}", field="persona",
                                 fix=f"pick one of {', '.join(sorted(lib))} (see `gauntlet personas`)")
            cards[n] = lib[n].model_dump()
    return cards


async def _checkpoint(store: Store, protocol: str, thread: str, superstep: int
                      ) -> tuple[dict[str, Any], str] | None:
    """(state values after `superstep`, the node that ran in it) from the parent's LangGraph thread; None when
    the thread has no checkpoints in this database (an imported run)."""
    async with checkpointer_for(store) as saver:
        app = PROTOCOLS[protocol]().compile(checkpointer=saver)
        snaps = {s.metadata.get("step"): s
                 async for s in app.aget_state_history({"configurable": {"thread_id": thread}})}
    if not snaps:
        return None
    if superstep not in snaps or superstep - 1 not in snaps:
        raise InputError(f"no checkpoint for step {superstep} of run {thread}", field="--step",
                         fix="pick a step of a run made by `gauntlet run` with this database's checkpoints")
    ran = snaps[superstep - 1].next  # what ran in this superstep decides where the graph goes next
    return dict(snaps[superstep].values), (ran[0] if ran else "__start__")


async def fork_run(store: Store, parent_id: str, step: int, spec: ForkSpec | None = None, *,
                   run_id: str | None = None) -> ForkResult:
    """Create the fork (status `interrupted`, so `gauntlet resume` continues it) and return where it starts."""
    spec = spec or ForkSpec()
    parent = store.run(parent_id)
    events = store.events(parent_id)
    if not events or not 1 <= step <= events[-1].seq:
        raise InputError(f"step {step} is outside run {parent_id} (1..{events[-1].seq if events else 0})",
                         field="--step", fix="pick a step shown by `gauntlet replay RUN_ID`")
    superstep = effective_superstep(events, step)
    if parent.parent_run_id and parent.fork_step is not None and superstep == 0:
        try:
            store.run(parent.parent_run_id)
        except InputError:
            raise InputError(f"step {step} is in the part run {parent_id} copied from run {parent.parent_run_id}, "
                             "which is not in this database", field="--step",
                             fix=f"fork from a step after {prefix_end(events)}, or import the parent run too"
                             ) from None
        # A fork's inherited prefix is a copy of its parent's log, whose checkpoints live on the parent's thread
        # (an intervention injected at the fork point is not carried over: fork from a later step to keep it).
        return await fork_run(store, parent.parent_run_id, min(step, parent.fork_step), spec, run_id=run_id)
    cfg = json.loads(parent.config_json)
    cfg["panel"] = _panel(cfg, spec)
    if spec.rounds is not None:
        cfg["rounds"] = spec.rounds
    try:
        config = RunConfig.model_validate(cfg)
    except ValueError as exc:
        raise InputError(f"the forked panel is invalid: {str(exc).splitlines()[-1].strip()}", field="panel",
                         fix="keep at least one critic, and a proposer or a seed proposal") from None
    # An imported run has no checkpoints here: its state is rebuilt from its log instead.
    values, as_node = (await _checkpoint(store, parent.protocol, parent_id, superstep)
                       or state_at(events, json.loads(parent.config_json), superstep, prefix_end(events)))
    nodes = {n["id"]: n for n in values.get("nodes", [])}
    note_id = None
    new_nodes: list[dict[str, Any]] = []
    new_edges: list[dict[str, str]] = []
    if spec.note.strip():
        if spec.note_on not in nodes:
            raise InputError(f"node {spec.note_on!r} does not exist at step {step}", field="--note-on",
                             fix="pick a node id from the graph as of that step")
        if spec.note_edge not in NOTE_EDGES:
            raise InputError(f"unknown edge {spec.note_edge!r}", field="note_edge", fix="use attacks or supports")
        note_id = f"human-{1 + sum(1 for n in nodes.values() if n['kind'] == 'human_note')}"
        new_nodes.append(NodePayload(id=note_id, kind="human_note", persona=spec.author,
                                     round=values.get("round", 1), title="Human intervention", text=spec.note,
                                     data=HumanNoteData(author=spec.author, target=spec.note_on).model_dump(
                                         exclude_unset=True)).model_dump())
        new_edges.append(EdgePayload(src=note_id, dst=spec.note_on, kind=spec.note_edge).model_dump())

    panel = config.panel
    roles: dict[str, list[str]] = {}
    for role, names in (("proposer", panel.proposers), ("critic", panel.critics),
                        ("judge", [panel.judge] if panel.judge else [])):
        for n in names:
            roles.setdefault(n, []).append(role)
    cards = _cards(store, parent_id, roles)
    # Everything up to the end of the superstep; a fork's own inherited prefix is copied whole.
    start, reached, copied = prefix_end(events), 0, []
    for e in events:
        if e.seq > start:
            reached = max(reached, e.superstep)
            if reached > superstep:
                break
        if e.kind not in _NOT_COPIED:
            copied.append(e)
    last = copied[-1].seq if copied else step
    run_id = run_id or new_run_id()
    store.create_run(run_id, topic=parent.topic, config=config.model_dump(mode="json"),
                     source=parent.config_source, seed=parent.seed, model=parent.model,
                     personas=[(n, cards[n].get("discipline", ""), ",".join(r), cards[n]) for n, r in roles.items()],
                     protocol=parent.protocol, parent_run_id=parent_id, fork_step=last)

    # The LangGraph thread first, then the log: if seeding fails, the run row says so and no log is half-made.
    values.update({"proposers": list(panel.proposers), "critics": list(panel.critics), "judge": panel.judge or "",
                   "rounds": config.rounds, "nodes": values.get("nodes", []) + new_nodes,
                   "edges": values.get("edges", []) + new_edges})
    try:
        async with checkpointer_for(store) as saver:
            app = PROTOCOLS[config.protocol]().compile(checkpointer=saver)
            await app.aupdate_state({"configurable": {"thread_id": run_id}}, values, as_node=as_node)
    except Exception as exc:
        store.set_status(run_id, "failed", error=f"fork seeding failed: {type(exc).__name__}: {exc}")
        raise

    log = [NewEvent(key=e.key, kind=e.kind, payload=json.loads(e.payload), round=e.round, phase=e.phase,
                    persona=e.persona, superstep=e.superstep) for e in copied]
    changes = {"drop": spec.drop, "add_critics": spec.add_critics, "add_proposers": spec.add_proposers,
               "judge": spec.judge, "rounds": spec.rounds, "note_id": note_id}
    # The fork's own events carry step 0: the seeded checkpoint is step 0 of the fork's LangGraph thread.
    log.append(NewEvent(key=f"run/forked/{run_id}", kind="run_forked", phase="fork",
                        payload=RunForkedPayload(parent_run_id=parent_id, parent_step=last,
                                                 changes=changes).model_dump()))
    rnd = values.get("round", 1)
    for n in new_nodes:
        log.append(NewEvent(key=f"node/{n['id']}", kind="node", payload=n, round=rnd, phase="fork",
                            persona=spec.author))
    for e in new_edges:
        log.append(NewEvent(key=f"edge/{e['src']}/{e['kind']}/{e['dst']}", kind="edge", payload=e, round=rnd,
                            phase="fork"))
    store.append(run_id, log)
    store.set_status(run_id, "interrupted")  # ready for `gauntlet resume`, and not mistaken for a live process
    return ForkResult(run_id=run_id, parent_run_id=parent_id, fork_step=last, superstep=superstep, note_id=note_id)

