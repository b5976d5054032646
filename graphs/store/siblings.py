"""Sibling runs: runs in the same database with the same config except the seed, i.e. repeats of one
debate. `show --json` marks each sustained critique that recurs in a sibling (graphs/argument/recurrence.py)."""

from __future__ import annotations

import json
from typing import Any, Callable

from sqlmodel import Session, select

from gauntlet.graphs.argument import recurrence
from gauntlet.graphs.store.store import Store
from gauntlet.graphs.store.tables import Run

MAX_SIBLINGS = 8  # the newest ones; show stays quick however often a debate was repeated


def _without_seed(config_json: str | None) -> dict[str, Any]:
    config = json.loads(config_json or "{}")
    config.pop("seed", None)
    return config


def sibling_runs(store: Store, run_id: str) -> list[str]:
    """Runs of the same config with another seed, newest first (forks share their parent's seed: not siblings)."""
    me = store.run(run_id)
    mine = _without_seed(me.config_json)
    with Session(store.engine) as s:
        rows = s.execute(select(Run).where(Run.topic == me.topic, Run.id != run_id)
                         .order_by(Run.created.desc())).scalars().all()
    return [r.id for r in rows if r.seed != me.seed and _without_seed(r.config_json) == mine][:MAX_SIBLINGS]


def add_recurrence(doc: dict[str, Any], store: Store, run_id: str, graph: Any,
                   load: Callable[[Store, str], Any]) -> None:
    """`doc["sibling_runs"]`, and `recurs_in` (sibling run ids) on every critique in an idea's `shot_down_by`."""
    siblings = sibling_runs(store, run_id)
    doc["sibling_runs"] = siblings
    found = recurrence.recurs_in(recurrence.sustained(graph),
                                 {s: recurrence.sustained(load(store, s)) for s in siblings}) if siblings else {}
    for idea in doc["ideas"]:
        for why in idea.get("shot_down_by", []):
            if why.get("kind") == "critique":
                why["recurs_in"] = found.get(why["id"], [])
