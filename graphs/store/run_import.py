"""Load a run file into a database as a run of its own, through the store's event-append path, in one transaction.

Under the file's run id when that id is free; a run already holding this exact content (same hash) makes the
import a no-op (idempotent); otherwise the run gets a fresh id derived from the file's. The file is read and
checked whole before anything is written, so a bad file writes nothing.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from gauntlet.errors import InputError
from gauntlet.graphs.store import run_file
from gauntlet.graphs.store.run_file import AnnotationRecord, EventRecord, Header
from gauntlet.graphs.store.store import NewEvent, Store
from gauntlet.graphs.store.tables import Annotation, PersonaRow, Run

_BATCH = 1000  # events per append call inside the one transaction (bounded memory for large runs)


@dataclass
class ImportResult:
    run_id: str
    imported: bool  # False: this content was already in the database under run_id
    source_run_id: str
    sha256: str
    events: int
    annotations: int

    def as_dict(self) -> dict[str, object]:
        return {"run_id": self.run_id, "imported": self.imported, "source_run_id": self.source_run_id,
                "sha256": self.sha256, "events": self.events, "annotations": self.annotations}


def _same_content(store: Store, header: Header, sha: str) -> str | None:
    """A run in the store whose content is the file's (under any id), if there is one."""
    meta = header.run
    with Session(store.engine) as s:
        # Candidates share topic and creation time (kept by import); only they are hashed.
        ids = s.execute(select(Run.id).where(Run.topic == meta.topic, Run.created == meta.created)).scalars().all()
    for rid in sorted(ids, key=lambda r: r != meta.run_id):
        # A file saved mid-run says running; imported, that run is interrupted here: the same content.
        here = store.run_info(store.run(rid)).status
        as_status = meta.status if (meta.status, here) == ("running", "interrupted") else None
        if run_file.digest(store, rid, as_id=meta.run_id, as_status=as_status) == sha:
            return rid
    return None


def import_file(store: Store, path: Path, *, known_protocols: tuple[str, ...] | None = None) -> ImportResult:
    header, sha, n_events, n_notes = run_file.verify(path)
    meta = header.run
    if known_protocols is not None and meta.protocol not in known_protocols:
        raise InputError(f"unknown protocol {meta.protocol!r}", file=str(path), field="run.protocol",
                         fix=f"upgrade gauntlet: this version knows {', '.join(known_protocols)}")
    existing = _same_content(store, header, sha)
    if existing is not None:
        return ImportResult(existing, False, meta.run_id, sha, n_events, n_notes)
    with Session(store.engine) as s:
        taken = s.get(Run, meta.run_id) is not None
    run_id = f"{meta.run_id}-{secrets.token_hex(3)}" if taken else meta.run_id

    try:
        _write(store, path, header, run_id)
    except IntegrityError:
        raise InputError("the file holds two rows with one identity (a node id or edge twice)", file=str(path),
                         fix="pass an unedited run file") from None
    return ImportResult(run_id, True, meta.run_id, sha, n_events, n_notes)


def _write(store: Store, path: Path, header: Header, run_id: str) -> None:
    meta = header.run
    with Session(store.write_engine) as s:
        # A run made elsewhere has no live process here: a file saved mid-run arrives interrupted.
        s.add(Run(id=run_id, topic=meta.topic, status="interrupted" if meta.status == "running" else meta.status,
                  protocol=meta.protocol, config_json=json.dumps(meta.config, sort_keys=True),
                  config_source=meta.config_source, seed=meta.seed, model=meta.model, created=meta.created,
                  updated=meta.updated, parent_run_id=meta.parent_run_id, fork_step=meta.fork_step, pid=None,
                  error=meta.error, stats_json=json.dumps(meta.stats, sort_keys=True)))
        for p in header.personas:
            s.add(PersonaRow(run_id=run_id, name=p.name, discipline=p.discipline, roles=p.roles,
                             card_json=json.dumps(p.card, sort_keys=True)))
        s.flush()
        batch: list[NewEvent] = []
        for rec in run_file.read(path):
            if isinstance(rec, EventRecord):
                batch.append(NewEvent(key=rec.key, kind=rec.kind, payload=rec.payload, round=rec.round,
                                      phase=rec.phase, persona=rec.persona, superstep=rec.superstep, ts=rec.ts))
                if len(batch) >= _BATCH:
                    _append(store, s, run_id, batch, path)
                    batch = []
            elif isinstance(rec, AnnotationRecord):
                if batch:
                    _append(store, s, run_id, batch, path)
                    batch = []
                s.add(Annotation(run_id=run_id, node_id=rec.node_id, author=rec.author, kind=rec.kind,
                                 verdict=rec.verdict, text=rec.text, created=rec.created))
        if batch:
            _append(store, s, run_id, batch, path)
        s.commit()  # all or nothing: an exception above rolls the whole run back


def _append(store: Store, s: Session, run_id: str, batch: list[NewEvent], path: Path) -> None:
    fresh = store.append_in(s, run_id, batch)
    if len(fresh) != len(batch):  # a duplicate key would shift every later seq: the log would not be the file's
        raise InputError("the file repeats an event key", file=str(path), fix="pass an unedited run file")
