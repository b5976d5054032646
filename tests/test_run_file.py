"""Saved debates travel: the run file round-trips every protocol losslessly (SQLite and PostgreSQL), re-imports are
idempotent, bad files write nothing, imported runs fork, and the shipped examples still import."""

from __future__ import annotations

import asyncio
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gauntlet.graphs.protocols.registry import PROTOCOLS
from gauntlet.graphs.run.checkpoint import checkpointer_for
from gauntlet.graphs.run.fork import ForkSpec, fork_run
from gauntlet.graphs.run.loading import load_config
from gauntlet.graphs.run.log_state import state_at
from gauntlet.graphs.store import run_file
from gauntlet.graphs.store.run_import import import_file
from gauntlet.graphs.store.store import Store
from gauntlet.graphs.store.views import show, transcript
from tests.conftest import ROOT, run_debate
from tests.test_fork_run import resume
from tests.test_postgres import pg_url  # noqa: F401 - the real throwaway PostgreSQL server fixture

CONFIGS = ROOT / "runs" / "configs"
PROTOCOL_CONFIGS = {"gauntlet": "demo.yaml", "tournament": "tournament.yaml", "red_team": "red_team.yaml",
                    "deconfusion": "deconfusion.yaml"}
EXAMPLES = ROOT / "runs" / "examples"


def test_every_protocol_has_a_round_trip_config():
    assert set(PROTOCOL_CONFIGS) == set(PROTOCOLS)


@pytest.fixture(scope="module")
def made(tmp_path_factory, synthetic_url):
    """One finished debate per protocol in a real SQLite store, each with a reviewer comment and override."""
    store = Store(str(tmp_path_factory.mktemp("made") / "gauntlet.sqlite"))
    ids = {}
    for protocol, name in PROTOCOL_CONFIGS.items():
        rid = run_debate(store, load_config(CONFIGS / name), synthetic_url)
        first = store.nodes(rid)[0].id
        store.annotate(rid, first, text="Checked the quoted words — ünïcode kept", author="ana")
        store.annotate(rid, first, kind="override", verdict="accepted", text="holds on the toy case")
        ids[protocol] = rid
    return store, ids


def export(store: Store, rid: str, path: Path) -> Path:
    run_file.write_file(store, rid, path)
    return path


def content(store: Store, rid: str) -> dict:
    """What a reader sees of a run: events (ids, order, payloads), derived graph, statuses and annotations."""
    return {"events": [(e.seq, e.key, e.kind, e.round, e.phase, e.persona, e.superstep, e.ts, json.loads(e.payload))
                       for e in store.events(rid)],
            "show": show(store, rid),
            "notes": [(a.node_id, a.author, a.kind, a.verdict, a.text, a.created) for a in store.annotations(rid)],
            "personas": [(p.name, p.roles, json.loads(p.card_json)) for p in store.personas(rid)],
            "replay": [(t.step, t.text) for t in transcript(store, rid)]}


@pytest.mark.parametrize("protocol", sorted(PROTOCOL_CONFIGS))
def test_round_trip_is_lossless_on_sqlite(made, protocol, tmp_path):
    store, ids = made
    rid = ids[protocol]
    first = export(store, rid, tmp_path / "a.run.jsonl.gz")
    other = Store(str(tmp_path / "other.sqlite"))
    res = import_file(other, first)
    assert (res.run_id, res.imported, res.annotations) == (rid, True, 2)
    assert content(other, rid) == content(store, rid)
    again = export(other, rid, tmp_path / "b.run.jsonl.gz")
    assert first.read_bytes() == again.read_bytes()  # gzip with mtime 0: the same debate, the same bytes


@pytest.mark.parametrize("protocol", sorted(PROTOCOL_CONFIGS))
def test_round_trip_is_lossless_through_postgres(made, protocol, tmp_path, pg_url):  # noqa: F811
    store, ids = made
    rid = ids[protocol]
    first = export(store, rid, tmp_path / "a.run.jsonl")
    pg = Store(pg_url)
    res = import_file(pg, first)
    assert res.imported or res.run_id == rid  # a rerun of the module may find it already there
    assert content(pg, rid) == content(store, rid)
    back = Store(str(tmp_path / "back.sqlite"))
    import_file(back, export(pg, rid, tmp_path / "b.run.jsonl"))
    assert (tmp_path / "a.run.jsonl").read_text().splitlines()[:-1] == \
           (tmp_path / "b.run.jsonl").read_text().splitlines()[:-1]
    assert content(back, rid) == content(store, rid)


def test_reimport_is_idempotent_and_a_taken_id_gets_a_new_one(made, tmp_path):
    store, ids = made
    rid = ids["gauntlet"]
    f = export(store, rid, tmp_path / "r.run.jsonl")
    other = Store(str(tmp_path / "o.sqlite"))
    assert import_file(other, f).imported
    n = len(other.events(rid))
    again = import_file(other, f)
    assert (again.run_id, again.imported, len(other.events(rid)), len(other.runs())) == (rid, False, n, 1)
    # The same id holding different content (here: one more annotation) is not overwritten.
    other.annotate(rid, other.nodes(rid)[0].id, text="local note")
    copy = import_file(other, f)
    assert copy.imported and copy.run_id != rid and copy.run_id.startswith(rid)
    assert content(other, copy.run_id)["events"] == content(store, rid)["events"]
    assert import_file(other, f).run_id == copy.run_id  # and that copy is found again by its content
    assert len(other.runs()) == 2


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _rehash(lines: list[str]) -> list[str]:
    """A consistently re-hashed file: an edit a hash cannot catch, so the other checks must."""
    import hashlib
    body = lines[:-1]
    end = json.loads(lines[-1])
    end["sha256"] = hashlib.sha256("".join(run_file.canonical(json.loads(x)) + "\n" for x in body)
                                   .encode()).hexdigest()
    return body + [json.dumps(end) + "\n"]


def _edit(lines: list[str], index: int, **changes) -> list[str]:
    rec = json.loads(lines[index])
    for k, v in changes.items():
        if k == "payload_kind":
            rec["payload"]["kind"] = v
        else:
            rec[k] = v
    return lines[:index] + [json.dumps(rec) + "\n"] + lines[index + 1:]


def _first(lines: list[str], kind: str) -> int:
    return next(i for i, x in enumerate(lines) if json.loads(x).get("kind") == kind and '"event"' in x)


BAD = {
    "newer version": (lambda ls: _edit(ls, 0, version=run_file.VERSION + 1), "format version"),
    "unknown format": (lambda ls: _edit(ls, 0, format="other-tool"), "unknown format"),
    "truncated": (lambda ls: ls[:len(ls) // 2], "truncated"),
    "count mismatch": (lambda ls: ls[:3] + ls[4:], "out of order"),
    "tampered": (lambda ls: [ls[0].replace("Honeypot", "Hanypot")] + ls[1:], "hash mismatch"),
    "unknown event kind": (lambda ls: _rehash(_edit(ls, _first(ls, "node"), kind="vote")), "unknown event kind"),
    "unknown node kind": (lambda ls: _rehash(_edit(ls, _first(ls, "node"), payload_kind="verdict")),
                          "unknown node kind"),
    "not json": (lambda ls: ls[:2] + ["{not json\n"] + ls[2:], "not a JSON object"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_exit_2_with_one_line_and_write_nothing(made, tmp_path, case):
    store, ids = made
    good = export(store, ids["gauntlet"], tmp_path / "good.run.jsonl")
    mangle, words = BAD[case]
    bad = tmp_path / "bad.run.jsonl"
    bad.write_text("".join(mangle(_lines(good))), encoding="utf-8")
    db = tmp_path / "target.sqlite"
    p = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "import", str(bad), "--db", str(db), "--json"],
                       capture_output=True, text=True)
    assert p.returncode == 2, p.stderr
    assert p.stdout == "" and len(p.stderr.strip().splitlines()) == 1 and words in p.stderr
    assert "Traceback" not in p.stderr
    assert Store(str(db)).runs() == []


def test_truncated_gzip_is_one_line_and_writes_nothing(made, tmp_path):
    store, ids = made
    good = export(store, ids["gauntlet"], tmp_path / "good.run.jsonl.gz").read_bytes()
    bad = tmp_path / "bad.run.jsonl.gz"
    bad.write_bytes(good[: len(good) * 2 // 3])
    db = tmp_path / "t.sqlite"
    p = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "import", str(bad), "--db", str(db)],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "truncated" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert Store(str(db)).runs() == []


def test_cli_export_run_and_import_json(made, tmp_path):
    store, ids = made
    rid = ids["red_team"]
    out = tmp_path / "cli.run.jsonl.gz"
    p = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "export", rid, "--db", str(store.sqlite_path),
                        "--format", "run", "--out", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert gzip.decompress(out.read_bytes()).decode().count("\n") == len(store.events(rid)) + 2 + 2
    p = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "import", str(out), "--db",
                        str(tmp_path / "n.sqlite"), "--json"], capture_output=True, text=True)
    doc = json.loads(p.stdout)
    assert p.returncode == 0 and doc["run_id"] == rid and doc["imported"] and doc["events"] == len(store.events(rid))


@pytest.mark.parametrize("protocol", sorted(PROTOCOL_CONFIGS))
def test_state_rebuilt_from_the_log_matches_the_checkpoints(made, protocol):
    """Forking an imported run rebuilds LangGraph state from the log; on a native run it must equal the real one."""
    store, ids = made
    rid = ids[protocol]
    events = store.events(rid)
    cfg = json.loads(store.run(rid).config_json)

    async def history():
        async with checkpointer_for(store) as saver:
            app = PROTOCOLS[protocol]().compile(checkpointer=saver)
            return {s.metadata.get("step"): s async for s in
                    app.aget_state_history({"configurable": {"thread_id": rid}})}
    snaps = asyncio.run(history())
    steps = sorted({e.superstep for e in events if e.superstep > 0})
    assert steps
    key = {"nodes": lambda x: x["id"], "edges": lambda x: (x["src"], x["kind"], x["dst"]),
           "calls": lambda x: x["key"]}
    for s in steps:
        values, ran = state_at(events, cfg, s)
        real = snaps[s].values
        for field in ("round", "rounds", "proposers", "critics", "judge"):
            assert values[field] == real[field], (s, field)
        for field, k in key.items():
            assert sorted(values[field], key=k) == sorted(real.get(field, []), key=k), (s, field)
        assert ran == snaps[s - 1].next[0], s


def test_an_imported_run_forks_and_continues(made, tmp_path, synthetic_url):
    store, ids = made
    rid = ids["gauntlet"]
    f = export(store, rid, tmp_path / "f.run.jsonl.gz")
    reader = Store(str(tmp_path / "reader.sqlite"))  # no checkpoints of this run here: only the file
    import_file(reader, f)
    step = next(e.seq for e in reader.events(rid) if e.kind == "node" and e.phase == "critique")
    res = asyncio.run(fork_run(reader, rid, step, ForkSpec(drop=["security-engineer"], add_critics=["linguist"],
                                                           note="Honeypots are detectable.", note_on="seed-1")))
    assert reader.run_info(reader.run(res.run_id)).status == "interrupted"
    resume(reader, res.run_id, synthetic_url)
    doc = show(reader, res.run_id)
    assert doc["status"] == "done"
    nodes = {n.id: n for n in reader.nodes(res.run_id)}
    assert res.note_id in nodes and nodes[res.note_id].kind == "human_note"
    later = [n for n in nodes.values() if n.seq > res.fork_step + 1]
    assert later and not any(n.persona == "security-engineer" for n in later)
    assert any(n.kind == "judgement" for n in later)  # the debate went on past the fork point
    # The fork is itself a run file that travels, and forking it again past its fork point works.
    g = export(reader, res.run_id, tmp_path / "fork.run.jsonl.gz")
    third = Store(str(tmp_path / "third.sqlite"))
    import_file(third, g)
    with pytest.raises(Exception, match="not in this database"):
        asyncio.run(fork_run(third, res.run_id, 1))
    last = reader.last_seq(res.run_id)
    again = asyncio.run(fork_run(third, res.run_id, last))
    assert again.parent_run_id == res.run_id


def test_shipped_schema_is_the_generated_one():
    shipped = json.loads((EXAMPLES / "run-format.schema.json").read_text())
    assert shipped == run_file.json_schema()


def test_shipped_examples_still_import(tmp_path):
    files = sorted(EXAMPLES.glob("*.run.jsonl.gz"))
    assert len(files) >= 5
    store = Store(str(tmp_path / "examples.sqlite"))
    protocols = set()
    for f in files:
        res = import_file(store, f)
        doc = show(store, res.run_id)
        assert res.imported and doc["nodes"] > 0 and doc["ideas"], f.name
        protocols.add(store.run(res.run_id).protocol)
        assert f.stat().st_size < 200_000, f"{f.name} is too big for git"
    assert {"gauntlet", "tournament", "red_team"} <= protocols
    assert any(store.annotations(r.run_id) for r in store.runs())  # one carries human annotations
    # One carries a formal refutation: z3's counterexample to the false claim's seed.
    assert any(n.kind == "formal_result" and json.loads(n.data_json).get("verdict") == "refuted"
               for r in store.runs() for n in store.nodes(r.run_id))


def test_dashboard_offers_the_examples_on_an_empty_database(tmp_path, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest
    db = tmp_path / "empty.sqlite"
    Store(str(db))
    monkeypatch.setenv("GAUNTLET_DB", str(db))
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "ui" / "dashboard" / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert "example debates" in at.info[0].value
    at.button(key="runs_load_examples").click().run()
    assert not at.exception
    runs = Store(str(db)).runs()
    assert len(runs) == len(list(EXAMPLES.glob("*.run.jsonl.gz")))
    assert set(at.dataframe[0].value["run"]) == {r.run_id for r in runs}


def test_resume_of_an_imported_run_says_fork_and_the_fork_continues(made, tmp_path, synthetic_url):
    store, ids = made
    rid = ids["tournament"]
    first = Store(str(tmp_path / "first.sqlite"))
    import_file(first, export(store, rid, tmp_path / "t.run.jsonl"))
    first.set_status(rid, "interrupted")  # as if it had been saved mid-run
    reader = Store(str(tmp_path / "reader.sqlite"))
    import_file(reader, export(first, rid, tmp_path / "t2.run.jsonl"))
    before = content(reader, rid)
    p = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "resume", rid, "--db", str(reader.sqlite_path)],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "gauntlet fork" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert content(reader, rid) == before and reader.run_info(reader.run(rid)).status == "interrupted"
    res = asyncio.run(fork_run(reader, rid, reader.last_seq(rid)))
    resume(reader, res.run_id, synthetic_url)
    assert show(reader, res.run_id)["status"] == "done"


def test_a_file_saved_mid_run_imports_once_and_opens_in_the_dashboard(made, tmp_path, monkeypatch):
    store, ids = made
    rid = ids["deconfusion"]
    live = Store(str(tmp_path / "live.sqlite"))
    import_file(live, export(store, rid, tmp_path / "d.run.jsonl"))
    live.set_status(rid, "running", pid=__import__("os").getpid())  # this process is alive: the run is live
    p = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "export", rid, "--db", str(live.sqlite_path),
                        "--format", "run"], capture_output=True, text=True)
    assert p.returncode == 0 and json.loads(p.stdout.splitlines()[0])["run"]["status"] == "running"
    f = tmp_path / "mid.run.jsonl"
    f.write_text(p.stdout, encoding="utf-8")
    reader = Store(str(tmp_path / "reader.sqlite"))
    assert import_file(reader, f).imported and not import_file(reader, f).imported
    assert [r.status for r in reader.runs()] == ["interrupted"]

    import streamlit as st
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("GAUNTLET_DB", str(reader.sqlite_path))
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "ui" / "dashboard" / "app.py"), default_timeout=60)
    at.query_params["run"] = rid
    at.run()
    assert not at.exception and not at.error


def test_an_imported_run_forks_on_postgres(made, tmp_path, synthetic_url, pg_url):  # noqa: F811
    store, ids = made
    rid = ids["red_team"]
    pg = Store(pg_url)
    res = import_file(pg, export(store, rid, tmp_path / "r.run.jsonl.gz"))
    step = next(e.seq for e in pg.events(res.run_id) if e.kind == "node" and e.phase == "attack")
    fork = asyncio.run(fork_run(pg, res.run_id, step, ForkSpec(note="The defender ignores cost.", note_on="seed-1")))
    resume(pg, fork.run_id, synthetic_url)
    assert show(pg, fork.run_id)["status"] == "done"
    assert any(n.kind == "human_note" for n in pg.nodes(fork.run_id))
