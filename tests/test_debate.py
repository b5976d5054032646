"""A whole debate through LangGraph against a real HTTP model server, then show / replay / export."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import networkx as nx
import pytest
from sqlalchemy import text

from gauntlet.graphs.store.store import NewEvent
from gauntlet.graphs.store.views import load_graph, show, transcript
from tests.conftest import run_debate


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture
def finished(store, demo, synthetic_url):
    return run_debate(store, demo, synthetic_url)


def test_show_contract(store, finished):
    doc = show(store, finished)
    assert doc["run_id"] == finished and doc["status"] == "done"
    assert {"run_id", "status", "ideas", "nodes", "edges", "attacks"} <= set(doc)
    # one seed proposal + two proposers, plus any revision a rebuttal made (which refines its original)
    graph = load_graph(store, finished)
    revisions = {e.src for e in graph.edges if e.kind == "refines"}
    assert len([i for i in doc["ideas"] if i["id"] not in revisions]) == 3
    for idea in doc["ideas"]:
        assert {"id", "title", "persona", "status"} <= set(idea)
        assert idea["status"] in ("standing", "shot_down", "undecided")
        assert (idea["status"] == "shot_down") == bool(idea["shot_down_by"])  # say what defeats it
    assert doc["attacks"] >= 1 and doc["edges"] >= doc["attacks"]
    # Every idea with an unanswered attack is shot down: the semantics, not the model, decide status.
    for idea in graph.ideas():
        if graph.status(idea.id) == "standing":
            assert all(graph.status(a.id) == "shot_down" for a in graph.attackers(idea.id))


def test_every_call_node_and_edge_is_an_event(store, finished):
    events = store.events(finished)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    kinds = [e.kind for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    calls = [json.loads(e.payload) for e in events if e.kind == "llm_call"]
    phases = {c["phase"] for c in calls}
    assert {"propose", "critique", "judge"} <= phases
    assert all(c["messages"] and c["response"] for c in calls)
    assert len(store.nodes(finished)) == kinds.count("node")
    assert len(store.edges(finished)) == kinds.count("edge")
    stats = json.loads(store.run(finished).stats_json)
    assert stats["calls"] == len(calls) and stats["prompt_tokens"] > 0


def test_events_are_idempotent_and_derived_rows_rebuild(store, finished):
    before = (len(store.events(finished)), len(store.nodes(finished)), len(store.edges(finished)))
    again = [NewEvent(key=e.key, kind=e.kind, payload=json.loads(e.payload)) for e in store.events(finished)]
    assert store.append(finished, again) == []
    nodes = [(n.id, n.kind, n.text) for n in store.nodes(finished)]
    store.rebuild_derived(finished)
    assert [(n.id, n.kind, n.text) for n in store.nodes(finished)] == nodes
    assert (len(store.events(finished)), len(store.nodes(finished)), len(store.edges(finished))) == before


def test_critique_targets_name_real_nodes(store, finished):
    graph = load_graph(store, finished)
    for n in graph.nodes.values():
        if n.kind == "critique":
            assert n.data["target"] in graph.nodes
            assert n.persona != graph.nodes[n.data["target"]].persona  # nobody critiques themself


def test_replay_in_order_and_until(store, finished):
    full = transcript(store, finished)
    assert [line.step for line in full] == sorted(line.step for line in full)
    part = transcript(store, finished, until=5)
    assert [line.step for line in part] == [1, 2, 3, 4, 5]
    early = show(store, finished, until=5)
    assert early["nodes"] <= show(store, finished)["nodes"]


def test_sqlite_is_in_wal_mode(store, finished):
    with store.engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_cli_show_replay_export(store, finished, tmp_path):
    db = str(store.sqlite_path)
    out = cli("show", finished, "--db", db, "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["run_id"] == finished
    out = cli("runs", "--db", db, "--json")
    assert json.loads(out.stdout)[0] == {**json.loads(out.stdout)[0], "run_id": finished, "status": "done"}
    out = cli("replay", finished, "--db", db, "--until", "4")
    assert out.returncode == 0 and len(out.stdout.strip().splitlines()) == 4
    for fmt in ("json", "markdown", "argdown", "graphml"):
        target = tmp_path / f"run.{fmt}"
        out = cli("export", finished, "--db", db, "--format", fmt, "--out", str(target))
        assert out.returncode == 0, out.stderr
        body = target.read_text()
        if fmt == "json":
            doc = json.loads(body)
            assert len(doc["nodes"]) == show(store, finished)["nodes"]
        elif fmt == "graphml":
            ET.fromstring(body)
            g = nx.read_graphml(io.BytesIO(body.encode()))
            assert g.number_of_nodes() == show(store, finished)["nodes"]
        elif fmt == "markdown":
            assert body.startswith("# ") and "| idea | by | status | score |" in body
        else:
            assert body.startswith("===") and ("-> [" in body or "+> [" in body)
    out = cli("export", finished, "--db", db, "--format", "pdf")
    assert out.returncode == 2 and "--format" in out.stderr


def test_unknown_run_and_missing_db(tmp_path, store, finished):
    out = cli("show", "no-such-run", "--db", str(store.sqlite_path), "--json")
    assert out.returncode == 2 and "gauntlet runs" in out.stderr
    out = cli("show", "x", "--db", str(tmp_path / "none.sqlite"))
    assert out.returncode == 2 and "no such database" in out.stderr
    assert not (tmp_path / "none.sqlite").exists()


def test_exports_neutralise_hostile_text(store):
    hostile = '<script>alert(1)</script> [link](javascript:alert(2)) ![x](http://evil/beacon.png) & "q"'
    store.create_run("r", topic=hostile, config={}, source="t", seed=0, model="m", personas=[])
    store.append("r", [NewEvent("node/x", "node", {"id": "x", "kind": "idea", "persona": "p", "round": 1,
                                                   "title": hostile, "text": hostile + "\x01"})])
    from gauntlet.graphs.store.export import render
    from gauntlet.graphs.store.views import run_record
    rec, graph = run_record(store, "r"), load_graph(store, "r")
    md = render("markdown", rec, graph)
    assert "<script>" not in md and "](" not in md and "![" not in md
    gml = render("graphml", rec, graph)
    ET.fromstring(gml)
    assert "<script>" not in gml
    ad = render("argdown", rec, graph)
    assert "[link]" not in ad and "<script>" not in ad
    assert json.loads(render("json", rec, graph))["nodes"][0]["title"] == hostile


def test_markdown_export_keeps_a_formal_result_with_its_claim_and_fences_hostile_formal_text(store):
    from gauntlet.graphs.store.export import render
    from gauntlet.graphs.store.views import run_record
    smt = "(declare-const x Real)\n; ```\n# injected heading <script>alert(1)</script>\n(assert (not (>= (* x x) x)))"
    store.create_run("r", topic="t", config={}, source="t", seed=0, model="m", personas=[])
    store.append("r", [NewEvent("node/f", "node", {
        "id": "f", "kind": "formal_result", "persona": "prover", "round": 1, "title": "refuted by z3", "text": "",
        "data": {"claim_text": "for every real x, x*x >= x", "smtlib": smt, "verdict": "refuted", "prover": "z3",
                 "assumptions": ["x is *real*"], "counterexample": {"x": "1/2"}}})])
    md = render("markdown", run_record(store, "r"), load_graph(store, "r"))
    assert "  - claim: for every real x, x\\*x >= x" in md.replace("\\>", ">")
    assert "  - assumes: x is \\*real\\*" in md
    assert "  - verdict: refuted by z3 · counterexample: x = 1/2" in md.replace("\\.", ".")
    fence = "    ````smt2"  # one backtick longer than the run inside the formal text
    assert fence in md
    body = md[md.index(fence) + len(fence):]
    assert body.index("\n    ````\n") > body.index("# injected heading")  # the block closes after the text
    assert "\n# injected" not in md  # indented inside the block, never a heading


def test_postgres_dialect_compiles_the_schema():
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateTable
    from sqlmodel import SQLModel
    ddl = [str(CreateTable(t).compile(dialect=postgresql.dialect())) for t in SQLModel.metadata.sorted_tables]
    assert any("CREATE TABLE event" in d for d in ddl)
