"""The dashboard reads while a run writes: SQLite WAL, short transactions, busy timeout — no lock errors and
every read is a consistent snapshot (a node event and its derived row commit together)."""

from __future__ import annotations

import multiprocessing as mp
import os
import time

from sqlalchemy import text

from gauntlet.graphs.store.store import NewEvent, Store

SOAK_S = float(os.environ.get("GAUNTLET_SOAK_S", "120"))


def _writer(db: str, seconds: float, out: mp.Queue) -> None:
    store = Store(db)
    store.create_run("soak", topic="soak", config={}, source="t", seed=0, model="m", personas=[])
    n, errors, deadline = 0, [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        batch = []
        for _ in range(20):
            n += 1
            batch.append(NewEvent(f"node/n{n}", "node", {"id": f"n{n}", "kind": "critique", "persona": "w",
                                                         "round": 1, "text": "x" * 200}))
            if n > 1:
                batch.append(NewEvent(f"edge/n{n}", "edge", {"src": f"n{n}", "dst": f"n{n - 1}", "kind": "attacks"}))
        try:
            store.append("soak", batch)
        except Exception as exc:  # noqa: BLE001 - the test reports any failure kind
            errors.append(repr(exc))
    out.put(("writer", n, errors))


def _reader(db: str, seconds: float, out: mp.Queue) -> None:
    store = Store(db)
    reads, errors, inconsistent, deadline = 0, [], 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with store.engine.connect() as c:
                with c.begin():  # one read transaction = one WAL snapshot (the store emits a real BEGIN)
                    events = c.execute(text("SELECT count(*) FROM event WHERE run_id='soak' AND kind='node'")).scalar()
                    nodes = c.execute(text("SELECT count(*) FROM node WHERE run_id='soak'")).scalar()
                    edges_e = c.execute(text("SELECT count(*) FROM event WHERE run_id='soak' AND kind='edge'")).scalar()
                    edges = c.execute(text("SELECT count(*) FROM edge WHERE run_id='soak'")).scalar()
            inconsistent += (events != nodes) + (edges_e != edges)
            reads += 1
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))
    out.put(("reader", reads, errors + [f"{inconsistent} inconsistent snapshots"] * bool(inconsistent)))


def test_writer_and_readers_for_minutes(tmp_path):
    db = str(tmp_path / "soak.sqlite")
    Store(db)
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(db, SOAK_S, out))]
    procs += [ctx.Process(target=_reader, args=(db, SOAK_S, out)) for _ in range(3)]
    for p in procs:
        p.start()
    results = [out.get(timeout=SOAK_S + 120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    for role, count, errors in results:
        assert errors == [], (role, errors[:3])
        assert count > 0, role
    written = next(c for r, c, _ in results if r == "writer")
    assert len(Store(db).nodes("soak")) == written
