"""Benchmark: server-side time to open the run page of a synthetic N-node run (`gauntlet bench ui`).

The run is written through `Store.append` like a real one (ideas, claims, critiques, rebuttals, judgements and
formal results, over several rounds and personas). The page is executed by Streamlit's AppTest — the whole script,
including the graph component's payload — with the data cache cleared before each measured open, so the number is
a cold open of that run, not a cache hit. Prints one JSON object.

    python -m ui.bench_ui --nodes 10000 --json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"  # ui/dashboard/app.py
PERSONAS = [f"persona-{i:02d}" for i in range(12)]


def synthetic_run(db: str, nodes: int, *, seed: int = 0, run_id: str = "bench-ui") -> str:
    """Write a debate-shaped run of about `nodes` nodes into the store at `db`; returns its run id."""
    from gauntlet.graphs.store.store import NewEvent, Store

    rng = random.Random(seed)
    store = Store(db)
    store.create_run(run_id, topic=f"synthetic {nodes}-node debate", config={"synthetic": True}, source="bench",
                     seed=seed, model="synthetic", personas=[(p, "bench", "proposer,critic", {"name": p})
                                                             for p in PERSONAS])
    events: list[NewEvent] = [NewEvent("run/started", "run_started", {"config": {"topic": "synthetic"}})]
    rounds = max(1, nodes // 1000)
    ideas: list[str] = []
    attackable: list[str] = []
    for i in range(nodes):
        rnd = 1 + i * rounds // nodes
        who = rng.choice(PERSONAS)
        roll = rng.random()
        if roll < 0.1 or not ideas:
            kind, nid, edge = "idea", f"idea-{i}", None
            ideas.append(nid)
        elif roll < 0.2:
            kind, nid, edge = "claim", f"claim-{i}", (rng.choice(ideas), "supports")
        elif roll < 0.65:
            kind, nid, edge = "critique", f"crit-{i}", (rng.choice(ideas + attackable[-50:]), "attacks")
        elif roll < 0.9 and attackable:
            kind, nid, edge = "rebuttal", f"reb-{i}", (rng.choice(attackable[-200:]), "attacks")
        elif roll < 0.97:
            kind, nid, edge = "formal_result", f"formal-{i}", (rng.choice(ideas), "formalises")
        else:
            kind, nid, edge = "judgement", f"judge-{i}", None
        data: dict[str, Any] = {}
        if kind == "judgement":
            data["scores"] = [{"target": t, "score": rng.randint(0, 10)} for t in rng.sample(ideas, min(5, len(ideas)))]
        if kind == "formal_result":
            data.update(verdict=rng.choice(["proved", "refuted", "unknown"]), prover="z3",
                        claim_text="x + y >= x for naturals", smtlib="(declare-const x Int)(assert (< x 0))")
        if kind in ("critique", "rebuttal"):
            attackable.append(nid)
        events.append(NewEvent(f"node/{nid}", "node", {"id": nid, "kind": kind, "persona": who, "round": rnd,
                                                       "title": f"{kind} {i}", "text": f"synthetic {kind} text " * 8,
                                                       "data": data}, round=rnd, persona=who, superstep=rnd))
        if edge:
            events.append(NewEvent(f"edge/{nid}/{edge[1]}/{edge[0]}", "edge",
                                   {"src": nid, "dst": edge[0], "kind": edge[1]}, round=rnd, superstep=rnd))
    events.append(NewEvent("run/finished", "run_finished", {}))
    for k in range(0, len(events), 5000):
        store.append(run_id, events[k:k + 5000])
    store.set_status(run_id, "done")
    store.engine.dispose()
    return run_id


def bench_ui(nodes: int = 10_000, repeats: int = 3, db: str | None = None) -> dict[str, Any]:
    """Median (of `repeats`) cold server-side render time of the run page; also the warm (cached) rerun time."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as tmp:
        db = db or str(Path(tmp) / "bench.sqlite")
        t0 = time.perf_counter()
        run_id = synthetic_run(db, nodes)
        write_s = time.perf_counter() - t0
        old = os.environ.get("GAUNTLET_DB")
        os.environ["GAUNTLET_DB"] = db  # how AppTest hands the app its database (`gauntlet ui` passes --db)
        try:
            warm = AppTest.from_file(str(APP), default_timeout=120)
            warm.run()  # imports and the runs page: not part of opening a run
            cold: list[float] = []
            rerun: list[float] = []
            for _ in range(repeats):
                st.cache_data.clear()
                at = AppTest.from_file(str(APP), default_timeout=120)
                # A server scans the installed packages for components once, at start; AppTest does it per
                # instance (about 0.3 s, more on a busy machine). Share the warm one: it is not the page's time.
                at._bidi_component_manager = getattr(warm, "_bidi_component_manager", None)
                at.query_params["run"] = run_id
                t = time.perf_counter()
                at.run()
                cold.append(time.perf_counter() - t)
                if at.exception:
                    raise RuntimeError(at.exception[0].value)
                t = time.perf_counter()
                at.run()
                rerun.append(time.perf_counter() - t)
        finally:
            if old is None:
                os.environ.pop("GAUNTLET_DB", None)
            else:
                os.environ["GAUNTLET_DB"] = old
    return {"bench": "ui", "nodes": nodes, "repeats": repeats, "render_s_median": round(statistics.median(cold), 3),
            "render_s": [round(x, 3) for x in cold], "rerun_s_median": round(statistics.median(rerun), 3),
            "write_s": round(write_s, 3), "budget_s": 2.0, "within_budget": statistics.median(cold) < 2.0}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nodes", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", action="store_true", help="accepted for symmetry with `gauntlet bench`; always JSON")
    args = p.parse_args()
    print(json.dumps(bench_ui(args.nodes, args.repeats)))


if __name__ == "__main__":
    main()
