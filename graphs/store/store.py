"""The store: one SQLAlchemy database (SQLite WAL file by default, PostgreSQL by URL) holding every run."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import orjson
from sqlalchemy import event as sa_event
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, OperationalError, ProgrammingError
from sqlmodel import Session, SQLModel, create_engine, delete

from gauntlet.errors import InputError
from gauntlet.kinds import RUN_STATUSES
from gauntlet.payloads import parse_payload
from gauntlet.processes import pid_alive
from gauntlet.graphs.store import migrations
from gauntlet.graphs.store.tables import Annotation, Edge, Event, Node, PersonaRow, Run

DEFAULT_DB = "runs/gauntlet.sqlite"


@dataclass
class NewEvent:
    """An event before it has a place in the log."""

    key: str
    kind: str
    payload: dict[str, Any]
    round: int = 0
    phase: str = ""
    persona: str = ""
    superstep: int = 0
    ts: float | None = None  # when it happened; None = now (an imported event keeps its original time)


@dataclass
class RunInfo:
    run_id: str
    status: str
    topic: str
    created: float
    protocol: str = "gauntlet"
    parent_run_id: str | None = None
    fork_step: int | None = None
    model: str = ""
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def db_url(db: str | None) -> str:
    """A SQLAlchemy URL from `--db`: a URL as given, or a file path for SQLite."""
    db = db or os.environ.get("GAUNTLET_DB") or DEFAULT_DB
    if "://" in db:
        try:
            make_url(db)
        except ArgumentError:
            raise InputError(f"not a database URL: {db!r}", field="--db",
                             fix="use a file path or e.g. postgresql+psycopg://user@host/db") from None
        return db
    return f"sqlite:///{Path(db)}"


class Store:
    """Typed access to runs, events and the derived argument-graph rows. Short transactions throughout."""

    def __init__(self, db: str | None = None, *, create: bool = True) -> None:
        self.url = db_url(db)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            path = Path(self.url.removeprefix("sqlite:///"))
            if not create and not path.is_file():
                raise InputError("no such database file", file=str(path),
                                 fix="run `gauntlet run CONFIG` first, or pass --db")
            path.parent.mkdir(parents=True, exist_ok=True)
            self.sqlite_path: Path | None = path
            self.engine: Engine = _sqlite_engine(self.url, "BEGIN")
            # Writers take the lock up front: a deferred transaction that reads and then writes can fail at
            # once with SQLITE_BUSY_SNAPSHOT when another process committed in between; IMMEDIATE waits instead.
            self.write_engine: Engine = _sqlite_engine(self.url, "BEGIN IMMEDIATE")
        else:
            self.sqlite_path = None
            try:
                self.engine = create_engine(self.url, pool_pre_ping=True)
                self.write_engine = self.engine
            except (ArgumentError, NoSuchModuleError, ImportError) as exc:
                raise InputError(f"cannot use database URL {self.url!r} ({type(exc).__name__})", field="--db",
                                 fix="use a SQLite path or postgresql+psycopg://… (pip install -e '.[postgres]')"
                                 ) from None
        self._create_tables()

    def _create_tables(self) -> None:
        for attempt in range(5):
            try:
                # Ordered migrations own the schema: a new database is created by them, an older one upgraded
                # in place (graphs/store/migrations); concurrent first opens race, and the loser retries.
                migrations.upgrade(self.write_engine)
                return
            except (OperationalError, ProgrammingError, IntegrityError) as exc:
                # Two processes opening a new database race on CREATE TABLE; the loser just retries.
                if ("already exists" in str(exc.orig) or "locked" in str(exc.orig)) and attempt < 4:
                    time.sleep(0.05 * (attempt + 1))
                    continue
                if isinstance(exc, OperationalError):
                    raise InputError(f"cannot open database: {str(exc.orig).splitlines()[0]}", field="--db",
                                     fix="check the path or URL and that the server is up") from None
                raise

    # runs ------------------------------------------------------------------------------------------
    def create_run(self, run_id: str, *, topic: str, config: dict[str, Any], source: str, seed: int,
                   model: str, personas: Iterable[tuple[str, str, str, dict]], protocol: str = "gauntlet",
                   parent_run_id: str | None = None, fork_step: int | None = None) -> None:
        with Session(self.write_engine) as s:
            s.add(Run(id=run_id, topic=topic, status="running", protocol=protocol,
                      config_json=json.dumps(config, sort_keys=True), config_source=source, seed=seed,
                      model=model, parent_run_id=parent_run_id, fork_step=fork_step, pid=os.getpid()))
            s.flush()  # the run row first; then the panel in one Core insert (ORM objects were ~40 ms at 261)
            rows = [{"run_id": run_id, "name": name, "discipline": discipline, "roles": roles,
                     "card_json": canonical_json(card)} for name, discipline, roles, card in personas]
            if rows:
                s.execute(insert(PersonaRow.__table__), rows)
            s.commit()

    def set_status(self, run_id: str, status: str, *, error: str | None = None,
                   stats: dict[str, Any] | None = None, pid: int | None = None) -> None:
        assert status in RUN_STATUSES
        values: dict[str, Any] = {"status": status, "updated": time.time(), "error": error}
        if stats is not None:
            values["stats_json"] = json.dumps(stats, sort_keys=True)
        if pid is not None:
            values["pid"] = pid
        with Session(self.write_engine) as s:
            s.execute(update(Run).where(Run.id == run_id).values(**values))
            s.commit()

    def run(self, run_id: str) -> Run:
        with Session(self.engine) as s:
            row = s.get(Run, run_id)
        if row is None:
            raise InputError(f"no run {run_id!r} in {self.url}", field="RUN_ID",
                             fix="list runs with `gauntlet runs`, or pass the right --db")
        return row

    def run_info(self, row: Run) -> RunInfo:
        status = row.status
        # A run marked running whose process is gone was killed: it can be resumed.
        if status == "running" and not pid_alive(row.pid):
            status = "interrupted"
        return RunInfo(run_id=row.id, status=status, topic=row.topic, created=row.created,
                       protocol=row.protocol, parent_run_id=row.parent_run_id, fork_step=row.fork_step,
                       model=row.model, stats=json.loads(row.stats_json or "{}"), error=row.error)

    def runs(self) -> list[RunInfo]:
        with Session(self.engine) as s:
            rows = s.execute(select(Run).order_by(Run.created.desc())).scalars().all()
        return [self.run_info(r) for r in rows]

    def personas(self, run_id: str) -> list[PersonaRow]:
        with Session(self.engine) as s:
            return list(s.execute(select(PersonaRow).where(PersonaRow.run_id == run_id)
                               .order_by(PersonaRow.id)).scalars().all())

    # events ----------------------------------------------------------------------------------------
    def append(self, run_id: str, events: list[NewEvent]) -> list[NewEvent]:
        """Append events not yet stored (by key) and derive their nodes/edges, in one transaction.

        Returns the events that were new; the rest were already there (a replayed step writes nothing twice).
        """
        if not events:
            return []
        with Session(self.write_engine) as s:
            fresh = self.append_in(s, run_id, events)
            s.commit()
        return fresh

    def append_in(self, s: Session, run_id: str, events: list[NewEvent]) -> list[NewEvent]:
        """`append` inside the caller's transaction (an import writes a whole run in one), without committing."""
        keys = [e.key for e in events]
        existing: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            existing.update(s.execute(select(Event.key).where(Event.run_id == run_id, Event.key.in_(chunk)))
                            .scalars().all())
        fresh, seen = [], set(existing)
        for e in events:
            if e.key not in seen:
                seen.add(e.key)
                fresh.append(e)
        if not fresh:
            return []
        seq = (s.execute(select(func.max(Event.seq)).where(Event.run_id == run_id)).scalar() or 0)
        now = time.time()
        rows, nodes, edges = [], [], []
        for e in fresh:
            # The one gate every event passes (a run, a fork, an import): its payload must fit its kind's model.
            parse_payload(e.kind, e.payload, where=f"event {e.key}")
            seq += 1
            rows.append({"run_id": run_id, "seq": seq, "key": e.key, "kind": e.kind, "round": e.round,
                         "phase": e.phase, "persona": e.persona, "superstep": e.superstep,
                         "payload": canonical_json(e.payload),
                         "ts": now if e.ts is None else e.ts})
            derived = derive_row(run_id, e.kind, e.payload, seq)
            if derived is not None:
                (nodes if e.kind == "node" else edges).append(derived)
        # Core inserts on the tables: the ORM's bulk path costs ~3x the database's own time per row here.
        s.execute(insert(Event.__table__), rows)
        if nodes:
            s.execute(insert(Node.__table__), nodes)
        if edges:
            s.execute(insert(Edge.__table__), edges)
        return fresh

    def events(self, run_id: str, *, until: int | None = None, kinds: Iterable[str] | None = None) -> list[Event]:
        q = select(Event).where(Event.run_id == run_id)
        if until is not None:
            q = q.where(Event.seq <= until)
        if kinds is not None:
            q = q.where(Event.kind.in_(list(kinds)))
        with Session(self.engine) as s:
            return list(s.execute(q.order_by(Event.seq)).scalars().all())

    def payloads(self, run_id: str, kind: str, *, until: int | None = None) -> list[Any]:
        """The typed payloads (gauntlet.payloads) of one kind of event, in log order."""
        return [typed_payload(e) for e in self.events(run_id, until=until, kinds=(kind,))]

    def last_seq(self, run_id: str) -> int:
        with Session(self.engine) as s:
            return s.execute(select(func.max(Event.seq)).where(Event.run_id == run_id)).scalar() or 0

    def nodes(self, run_id: str, *, until: int | None = None) -> list[Node]:
        q = select(Node).where(Node.run_id == run_id)
        if until is not None:
            q = q.where(Node.seq <= until)
        with Session(self.engine) as s:
            return list(s.execute(q.order_by(Node.seq)).scalars().all())

    def edges(self, run_id: str, *, until: int | None = None) -> list[Edge]:
        q = select(Edge).where(Edge.run_id == run_id)
        if until is not None:
            q = q.where(Edge.seq <= until)
        with Session(self.engine) as s:
            return list(s.execute(q.order_by(Edge.seq)).scalars().all())

    def rebuild_derived(self, run_id: str) -> None:
        """Recompute Node and Edge rows from the event log (the log is the truth)."""
        events = self.events(run_id, kinds=("node", "edge"))
        with Session(self.write_engine) as s:
            s.execute(delete(Node).where(Node.run_id == run_id))
            s.execute(delete(Edge).where(Edge.run_id == run_id))
            nodes = [r for e in events if e.kind == "node"
                     if (r := derive_row(run_id, "node", json.loads(e.payload), e.seq))]
            edges = [r for e in events if e.kind == "edge"
                     if (r := derive_row(run_id, "edge", json.loads(e.payload), e.seq))]
            if nodes:
                s.execute(insert(Node), nodes)
            if edges:
                s.execute(insert(Edge), edges)
            s.commit()

    # annotations -----------------------------------------------------------------------------------
    def annotate(self, run_id: str, node_id: str, *, text: str = "", kind: str = "comment",
                 verdict: str | None = None, author: str = "reviewer") -> Annotation:
        if kind not in ("comment", "override"):
            raise InputError(f"unknown annotation kind {kind!r}", field="kind", fix="use comment or override")
        if kind == "override" and verdict not in ("valid", "invalid", "accepted", "rejected"):
            raise InputError(f"unknown verdict {verdict!r}", field="verdict",
                             fix="use valid, invalid, accepted or rejected")
        row = Annotation(run_id=run_id, node_id=node_id, text=text, kind=kind, verdict=verdict, author=author)
        with Session(self.write_engine) as s:
            s.add(row)
            s.commit()
            s.refresh(row)
        return row

    def annotations(self, run_id: str) -> list[Annotation]:
        with Session(self.engine) as s:
            return list(s.execute(select(Annotation).where(Annotation.run_id == run_id)
                               .order_by(Annotation.id)).scalars().all())


def typed_payload(e: Event) -> Any:
    """A stored event's payload as its kind's model (a damaged row fails naming its seq and field)."""
    return parse_payload(e.kind, json.loads(e.payload), where=f"event {e.seq}")


def canonical_json(value: Any) -> str:
    """Sorted-key JSON text for a stored payload. orjson: the stdlib's json.dumps of every event payload (prompts
    included) held the GIL ~0.2 ms per call in the writer thread (BENCHMARKS.md). NaN is stored as null;
    what orjson refuses (integers past 64 bits, e.g. a z3 counterexample) goes through the stdlib."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, sort_keys=True)


def derive_row(run_id: str, kind: str, payload: dict[str, Any], seq: int) -> dict[str, Any] | None:
    """The Node/Edge row an event implies (None for other kinds)."""
    if kind == "node":
        return {"run_id": run_id, "id": payload["id"], "kind": payload["kind"],
                "persona": payload.get("persona", ""), "round": payload.get("round", 0),
                "title": payload.get("title", ""), "text": payload.get("text", ""),
                "data_json": canonical_json(payload.get("data", {})), "seq": seq}
    if kind == "edge":
        return {"run_id": run_id, "src": payload["src"], "dst": payload["dst"], "kind": payload["kind"],
                "seq": seq}
    return None


def _sqlite_engine(url: str, begin: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    sa_event.listen(engine, "connect", _sqlite_pragmas)

    # pysqlite opens transactions lazily and never for SELECTs, so two reads in one Session could see two
    # different commits. Emitting BEGIN ourselves makes every Session one consistent WAL snapshot.
    @sa_event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # let the "begin" hook above control transactions
    cur = dbapi_conn.cursor()
    # WAL lets the dashboard read while a run writes; busy_timeout waits out short write locks.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
