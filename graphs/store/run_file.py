"""The portable run file: one run's whole event log, config, personas (cards included), provenance and reviewer
annotations, so another database can replay, review, annotate and fork it (`gauntlet export --format run`,
`gauntlet import`).

Format (JSON Lines, UTF-8, optionally gzip): one JSON object per line, each with a `type`:

    {"type": "header", "format": "gauntlet-run", "version": 1, "run": {...}, "personas": [...], "provenance": {...}}
    {"type": "event", "seq": 1, "key": "...", "kind": "run_started", ..., "payload": {...}}      (seq 1..N, in order)
    {"type": "annotation", "node_id": "...", "kind": "comment", ...}                            (0..M)
    {"type": "end", "events": N, "annotations": M, "sha256": "...", "exported_by": "..."}

`sha256` is over every record before the end line, each written as canonical JSON (sorted keys, no spaces,
non-ASCII kept) plus a newline, so a truncated or edited file is caught. The trailer's `exported_by` is not hashed:
the same debate exported by two versions of the tool has the same hash. The JSON schema of each record is
generated from the models below (`python -m gauntlet.graphs.store.run_file` prints it).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any, Iterator, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy import select
from sqlmodel import Session

from gauntlet.errors import InputError
from gauntlet.kinds import EDGE_KINDS, NODE_KINDS, EventKind, RunStatus
from gauntlet.payloads import json_schemas as payload_schemas
from gauntlet.payloads import parse_payload
from gauntlet.graphs.store.store import Store
from gauntlet.graphs.store.tables import Annotation, Event

FORMAT = "gauntlet-run"
VERSION = 1  # bump on any change a reader of the old version would misread; readers refuse newer versions


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunMeta(_Record):
    run_id: str
    topic: str
    status: RunStatus
    protocol: str
    config: dict[str, Any] = Field(description="the run's RunConfig as JSON (a fork's changed panel included)")
    config_source: str = ""
    seed: int = 0
    model: str = ""
    created: float
    updated: float
    parent_run_id: str | None = None
    fork_step: int | None = None
    error: str | None = None
    stats: dict[str, Any] = Field(default_factory=dict)


class PersonaRecord(_Record):
    name: str
    discipline: str = ""
    roles: str = Field("", description="comma-separated: proposer, critic, judge")
    card: dict[str, Any] = Field(description="the persona card as stored with the run (replay and fork use it)")


class Header(_Record):
    type: Literal["header"]
    format: str = Field(description=f"always {FORMAT!r}")
    version: int = Field(description="format version; a reader refuses versions newer than its own")
    run: RunMeta
    personas: list[PersonaRecord]
    provenance: dict[str, Any] = Field(description="model endpoint and prover settings the run used")


class EventRecord(_Record):
    type: Literal["event"]
    seq: int = Field(ge=1)
    key: str
    kind: EventKind
    round: int = 0
    phase: str = ""
    persona: str = ""
    superstep: int = 0
    ts: float
    payload: dict[str, Any] = Field(description="the event kind's payload model in gauntlet.payloads (NodePayload, "
                                                "EdgePayload, LLMCallPayload, ...); checked on read")


class AnnotationRecord(_Record):
    type: Literal["annotation"]
    node_id: str
    author: str = "reviewer"
    kind: Literal["comment", "override"] = "comment"
    verdict: Literal["valid", "invalid", "accepted", "rejected"] | None = None
    text: str = ""
    created: float


class End(_Record):
    type: Literal["end"]
    events: int
    annotations: int
    sha256: str
    exported_by: str = ""


RecordModel = Union[Header, EventRecord, AnnotationRecord, End]
_RECORD = TypeAdapter(Annotated[RecordModel, Field(discriminator="type")])


def json_schema() -> dict[str, Any]:
    """The JSON schema of one line of a run file (generated from the models, never written by hand); an event's
    payload is tied to its kind's model by if/then clauses."""
    schema = _RECORD.json_schema()
    defs, refs = payload_schemas()
    schema["$defs"].update(defs)
    schema["$defs"]["EventRecord"]["allOf"] = [
        {"if": {"properties": {"kind": {"const": kind}}}, "then": {"properties": {"payload": {"$ref": ref}}}}
        for kind, ref in refs.items()]
    return schema


def canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _tool_version() -> str:
    try:
        return "gauntlet-workbench " + metadata.version("gauntlet-workbench")
    except metadata.PackageNotFoundError:
        return "gauntlet-workbench"


# --- writing ----------------------------------------------------------------------------------------------
def records(store: Store, run_id: str, *, as_id: str | None = None, as_status: str | None = None
            ) -> Iterator[dict[str, Any]]:
    """A stored run as run-file records (header, events, annotations), streamed; `as_id` and `as_status` stand
    in for the run's own id and status (to compare it with a file)."""
    row = store.run(run_id)
    info = store.run_info(row)
    config = json.loads(row.config_json)
    yield {"type": "header", "format": FORMAT, "version": VERSION,
           "run": {"run_id": as_id or row.id, "topic": row.topic, "status": as_status or info.status, "protocol": row.protocol,
                   "config": config, "config_source": row.config_source, "seed": row.seed, "model": row.model,
                   "created": row.created, "updated": row.updated, "parent_run_id": row.parent_run_id,
                   "fork_step": row.fork_step, "error": row.error, "stats": info.stats},
           "personas": [{"name": p.name, "discipline": p.discipline, "roles": p.roles,
                         "card": json.loads(p.card_json)} for p in store.personas(run_id)],
           "provenance": {"model": row.model, "model_config": config.get("model"),
                          "provers": config.get("provers")}}
    with Session(store.engine) as s:
        # Streamed in pages: a large run never sits in memory whole.
        q = select(Event).where(Event.run_id == run_id).order_by(Event.seq).execution_options(yield_per=500)
        for e in s.execute(q).scalars():
            yield {"type": "event", "seq": e.seq, "key": e.key, "kind": e.kind, "round": e.round,
                   "phase": e.phase, "persona": e.persona, "superstep": e.superstep, "ts": e.ts,
                   "payload": json.loads(e.payload)}
    for a in store.annotations(run_id):
        yield {"type": "annotation", "node_id": a.node_id, "author": a.author, "kind": a.kind,
               "verdict": a.verdict, "text": a.text, "created": a.created}


def digest(store: Store, run_id: str, *, as_id: str | None = None, as_status: str | None = None) -> str:
    """The content hash a run file of this run would carry (the same debate always hashes the same)."""
    h = hashlib.sha256()
    for rec in records(store, run_id, as_id=as_id, as_status=as_status):
        h.update((canonical(rec) + "\n").encode("utf-8"))
    return h.hexdigest()


def write(store: Store, run_id: str, out: io.TextIOBase) -> dict[str, Any]:
    """Stream the run file to a text stream; returns the end record."""
    h = hashlib.sha256()
    counts = {"event": 0, "annotation": 0}
    for rec in records(store, run_id):
        line = canonical(rec) + "\n"
        h.update(line.encode("utf-8"))
        out.write(line)
        counts[rec["type"]] = counts.get(rec["type"], 0) + 1
    end = {"type": "end", "events": counts["event"], "annotations": counts["annotation"], "sha256": h.hexdigest(),
           "exported_by": _tool_version()}
    out.write(canonical(end) + "\n")
    return end


def write_file(store: Store, run_id: str, path: Path) -> dict[str, Any]:
    """Write to `path` (gzip when it ends in .gz) atomically: a crash leaves no half file under the name."""
    store.run(run_id)  # a bad id fails before any file is touched
    tmp = path.with_name(path.name + ".part")
    try:
        if path.suffix == ".gz":
            # mtime=0: the same run gives byte-identical files (examples stay quiet in git).
            with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz, \
                    io.TextIOWrapper(gz, encoding="utf-8", newline="\n") as text:
                end = write(store, run_id, text)
        else:
            with open(tmp, "w", encoding="utf-8", newline="\n") as text:
                end = write(store, run_id, text)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return end


# --- reading ----------------------------------------------------------------------------------------------
def _lines(path: Path) -> Iterator[tuple[int, str]]:
    if not path.is_file():
        raise InputError("no such run file", file=str(path), fix="pass a file written by `gauntlet export --format run`")
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open(path, "rt", encoding="utf-8") if gzipped else open(path, encoding="utf-8")) as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    yield n, line
    except (EOFError, gzip.BadGzipFile, OSError) as exc:
        raise InputError(f"the gzip stream is truncated or damaged ({type(exc).__name__})", file=str(path),
                         fix="copy the file again from its source, or export it again") from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=str(path),
                         fix="pass a file written by `gauntlet export --format run`") from None


def _bad(path: Path, line: int, what: str, fix: str) -> InputError:
    return InputError(f"line {line}: {what}", file=str(path), fix=fix)


def _parse(path: Path, n: int, line: str) -> RecordModel:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError:
        raise _bad(path, n, "not a JSON object (the file is truncated or damaged)",
                   "copy the file again, or export it again") from None
    if not isinstance(raw, dict):
        raise _bad(path, n, "not a JSON object", "pass a file written by `gauntlet export --format run`")
    if raw.get("type") == "header":
        if raw.get("format") != FORMAT:
            raise _bad(path, n, f"unknown format {raw.get('format')!r}", f"pass a {FORMAT} file")
        if not isinstance(raw.get("version"), int) or raw["version"] > VERSION or raw["version"] < 1:
            raise _bad(path, n, f"format version {raw.get('version')!r} is not one this gauntlet reads (1..{VERSION})",
                       "upgrade gauntlet (pip install -U gauntlet-workbench) or export with a matching version")
    try:
        rec = _RECORD.validate_python(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"][1:]) or "type"  # loc[0] is the record type
        if loc.endswith("kind") and raw.get("type") == "event":
            raise _bad(path, n, f"unknown event kind {raw.get('kind')!r}",
                       "upgrade gauntlet: this version knows " + ", ".join(EventKind.__args__)) from None
        raise _bad(path, n, f"field {loc}: {err['msg']}", "pass an unedited run file") from None
    if isinstance(rec, EventRecord):
        if rec.kind in ("node", "edge"):
            known = NODE_KINDS if rec.kind == "node" else EDGE_KINDS
            if isinstance(rec.payload.get("kind"), str) and rec.payload["kind"] not in known:
                raise _bad(path, n, f"unknown {rec.kind} kind {rec.payload['kind']!r}",
                           f"upgrade gauntlet: this version knows {', '.join(known)}")
        try:  # the payload must fit its kind's model (gauntlet.payloads), as every stored event does
            parse_payload(rec.kind, rec.payload)
        except InputError as exc:
            raise _bad(path, n, f"event {rec.key}: {exc.message} at {exc.field}", "pass an unedited run file") from None
    return rec


def read(path: Path) -> Iterator[Header | EventRecord | AnnotationRecord]:
    """Every record of a run file, checked: format and version, kinds, order, counts and the content hash.

    The hash is only known at the end, so a caller that writes must read twice (`verify` first).
    """
    h = hashlib.sha256()
    header: Header | None = None
    events = annotations = 0
    end: End | None = None
    for n, line in _lines(path):
        if end is not None:
            raise _bad(path, n, "data after the end record", "pass an unedited run file")
        rec = _parse(path, n, line)
        if header is None and not isinstance(rec, Header):
            raise _bad(path, n, "the first record is not the header", "pass a file written by `gauntlet export "
                       "--format run`")
        if isinstance(rec, End):
            end = rec
            continue
        if isinstance(rec, Header) and header is not None:
            raise _bad(path, n, "a second header", "pass one run per file")
        if isinstance(rec, EventRecord):
            if annotations or rec.seq != events + 1:
                raise _bad(path, n, f"event seq {rec.seq} out of order (expected {events + 1})",
                           "pass an unedited run file")
            events += 1
        elif isinstance(rec, AnnotationRecord):
            annotations += 1
        else:
            header = rec  # type: ignore[assignment]
        h.update((canonical(rec.model_dump(mode="json")) + "\n").encode("utf-8"))
        yield rec
    if header is None:
        raise InputError("empty run file", file=str(path), fix="pass a file written by `gauntlet export --format run`")
    if end is None:
        raise InputError(f"truncated: no end record after {events} events", file=str(path),
                         fix="copy the file again from its source, or export it again")
    if (end.events, end.annotations) != (events, annotations):
        raise InputError(f"truncated: the end record counts {end.events} events and {end.annotations} annotations, "
                         f"the file holds {events} and {annotations}", file=str(path),
                         fix="copy the file again from its source, or export it again")
    if end.sha256 != h.hexdigest():
        raise InputError("content hash mismatch: the file was edited or damaged after export", file=str(path),
                         fix="use the file as exported (re-export it from the source database)")


def verify(path: Path) -> tuple[Header, str, int, int]:
    """Read a whole file without keeping it: (header, content hash, events, annotations); InputError if bad."""
    header, events, annotations = None, 0, 0
    h = hashlib.sha256()
    for rec in read(path):  # raises at the end if this hash and the file's disagree
        h.update((canonical(rec.model_dump(mode="json")) + "\n").encode("utf-8"))
        if isinstance(rec, Header):
            header = rec
        elif isinstance(rec, EventRecord):
            events += 1
        else:
            annotations += 1
    assert header is not None
    return header, h.hexdigest(), events, annotations


if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2))
