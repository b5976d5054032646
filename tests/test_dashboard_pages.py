"""The review dashboard under Streamlit's AppTest, on a real store written by a real debate (synthetic model server)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from streamlit.testing.v1 import AppTest

from gauntlet.graphs.store.export import render as export_render
from gauntlet.graphs.store.store import NewEvent, Store
from gauntlet.graphs.store.views import load_graph, run_record, show
from tests.conftest import DEMO, run_debate
from gauntlet.ui.dashboard import graph_view, run_page
from gauntlet.ui.dashboard.data import build_view

APP = str(Path(__file__).resolve().parent.parent / "ui" / "dashboard" / "app.py")


@pytest.fixture(scope="module")
def debate(tmp_path_factory: pytest.TempPathFactory, synthetic_url: str) -> tuple[str, str]:
    from gauntlet.graphs.run.loading import load_config
    db = str(tmp_path_factory.mktemp("dash") / "gauntlet.sqlite")
    run_id = run_debate(Store(db), load_config(DEMO), synthetic_url)
    return db, run_id


@pytest.fixture
def app(debate: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("GAUNTLET_DB", debate[0])  # `gauntlet ui` passes --db; AppTest cannot pass script args

    def make(run_id: str | None = None, **params: str) -> AppTest:
        import streamlit as st
        st.cache_data.clear()  # tests write to the store between opens; a fresh cache per app
        at = AppTest.from_file(APP, default_timeout=60)
        if run_id:
            at.query_params["run"] = run_id
        for k, v in params.items():
            at.query_params[k] = v
        return at.run()
    yield make


def graph_elements(at: AppTest) -> dict[str, Any]:
    comp = [c for c in at.get("component_instance") if "cytoscape" in c.proto.component_name]
    assert len(comp) == 1
    return json.loads(comp[0].proto.json_args)["elements"]


def table_with(at: AppTest, column: str) -> Any:
    """The one dataframe on the page that has `column` (pages hold several tables, in tabs)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1
    return found[0]


def caption_texts(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def test_runs_page_lists_every_run_with_counts(app, debate):
    db, run_id = debate
    at = app()
    assert not at.exception and not at.error
    assert at.title[0].value == "Gauntlet runs"
    table = at.dataframe[0].value
    row = table[table["run"] == run_id].iloc[0]
    doc = show(Store(db), run_id)
    assert row["status"] == "done" and row["protocol"] == "gauntlet" and row["open"] == f"/?run={run_id}"
    assert row["topic"].startswith("How could we detect deceptive alignment")
    assert "security-engineer" in row["panel"]
    assert row["standing"] == sum(i["status"] == "standing" for i in doc["ideas"])
    assert row["shot down"] == sum(i["status"] == "shot_down" for i in doc["ideas"])
    # Opening from the list navigates by URL, so the address is shareable.
    at.selectbox(key="runs_pick").set_value(run_id)
    at.button(key="runs_open").click().run()
    assert at.query_params["run"] == [run_id] or at.query_params["run"] == run_id
    assert "deceptive alignment" in at.title[0].value


def test_run_page_by_url_shows_graph_ideas_and_inspector(app, debate):
    db, run_id = debate
    at = app(run_id)
    assert not at.exception and not at.error
    view = build_view(Store(db), run_id, Store(db).last_seq(run_id))
    els = graph_elements(at)
    assert {n["data"]["id"] for n in els["nodes"]} == set(view.nodes)
    assert len(els["edges"]) == len(view.edges)
    colours = {n["data"]["id"]: n["data"]["_colour"] for n in els["nodes"]}
    for node_id, node in view.nodes.items():
        assert colours[node_id] == graph_view.STATUS_COLOURS[node["status"]]
    # Ranked ideas: standing first; the inspector opens on the top one and shows its edges and text.
    ideas = table_with(at, "rank")
    first = view.ideas[0]
    assert at.selectbox(key="node_pick").value == first["id"]
    md = " ".join(m.value for m in at.markdown)
    assert first["title"][:30] in md or first["title"][:30] in " ".join(at.subheader[i].value for i in range(len(at.subheader)))
    assert "Edges" in md
    assert list(ideas["id"]) == [i["id"] for i in view.ideas]
    order = [s.split(" · ")[0] for s in ideas["status"]]
    assert order == sorted(order, key=["standing", "undecided", "shot down"].index)
    # Statuses are words (coloured by CSS), never emoji glyphs a server without an emoji font draws as boxes.
    assert not any(ord(ch) > 0x2FFF for s in ideas["status"] for ch in s)


def test_filters_by_kind_persona_and_round(app, debate):
    db, run_id = debate
    at = app(run_id)
    at.multiselect(key="f_kind").set_value(["critique"]).run()
    els = graph_elements(at)
    assert els["nodes"] and all(n["data"]["label"] == "critique" for n in els["nodes"])
    critic = els["nodes"][0]["data"]["persona"]
    at.multiselect(key="f_persona").set_value([critic]).run()
    els = graph_elements(at)
    assert els["nodes"] and all(n["data"]["persona"] == critic for n in els["nodes"])
    at.multiselect(key="f_kind").set_value([]).run()
    at.multiselect(key="f_persona").set_value([]).run()
    at.multiselect(key="f_round").set_value([1]).run()
    els = graph_elements(at)
    view = build_view(Store(db), run_id, Store(db).last_seq(run_id))
    assert len(els["nodes"]) == sum(1 for n in view.nodes.values() if n["round"] == 1) > 0
    assert not at.exception
    # The demo has one round; the same pure filter drops everything for another round.
    assert graph_view.elements(view, graph_view.Filters(rounds=[2])) == {"nodes": [], "edges": []}


def test_replay_slider_rebuilds_graph_and_transcript(app, debate, monkeypatch):
    db, run_id = debate
    store = Store(db)
    last = store.last_seq(run_id)
    at = app(run_id)
    assert at.slider(key="step").value == last
    k = next(e.seq for e in store.events(run_id) if e.kind == "node" and e.phase == "critique")
    at.slider(key="step").set_value(k).run()
    expected = show(store, run_id, until=k)
    assert {n["data"]["id"] for n in graph_elements(at)["nodes"]} == {n.id for n in store.nodes(run_id, until=k)}
    assert any(f"as of step {k}: {expected['nodes']} nodes" in c for c in caption_texts(at))
    transcript = table_with(at, "step")
    assert list(transcript["step"])[-1] == k and len(transcript) == k
    # Play runs the slider to the end and stops there.
    monkeypatch.setattr(run_page, "PLAY_DELAY_S", 0.0)
    at.slider(key="step").set_value(last - 3).run()
    at.toggle(key="playing").set_value(True).run()
    assert at.slider(key="step").value == last
    assert at.toggle(key="playing").value is False


def test_annotation_round_trip_pins_the_semantics(app, debate):
    db, run_id = debate
    store = Store(db)
    graph = load_graph(store, run_id)
    # An idea the semantics does not keep (shot down, or undecided when its rulings abstain): the override pins it.
    target = next(i for i in graph.ideas() if graph.status(i.id) != "standing")
    at = app(run_id, node=target.id)
    assert at.selectbox(key="node_pick").value == target.id
    at.text_area(key="review_text").input("The attack misreads the claim.")
    at.radio(key="review_verdict").set_value("accepted")
    at.button(key="FormSubmitter:review_form-Save review").click().run()
    assert not at.exception
    notes = store.annotations(run_id)
    assert [(a.node_id, a.kind, a.verdict, a.text) for a in notes][-1] == (
        target.id, "override", "accepted", "The attack misreads the claim.")
    # The override is fixed in the semantics, shown on the page and in the exports.
    assert load_graph(store, run_id).status(target.id) == "standing"
    at = app(run_id, node=target.id)
    md = " ".join(m.value for m in at.markdown)
    assert "reviewer: <b>accepted</b> (pinned)" in md and "The attack misreads the claim." in md
    assert json.loads(export_render("json", run_record(store, run_id), load_graph(store, run_id)))["annotations"]
    # A plain comment is stored as a comment.
    at.text_area(key="review_text").input("worth a second look")
    at.button(key="FormSubmitter:review_form-Save review").click().run()
    assert store.annotations(run_id)[-1].kind == "comment"


def test_formal_result_shows_claim_formal_text_assumptions_and_verdict_side_by_side(app, debate):
    _, run_id = debate
    at = app(run_id, node="seed-1-claim1-formal")
    assert not at.exception
    md = " ".join(m.value for m in at.markdown)
    assert "Claim (natural language)" in md and "20 independent honeypots" in md
    assert "detections of different honeypots are independent events" in md  # the formaliser's assumptions
    assert any("(assert (not (>= q20 0.1)))" in c.value for c in at.code)
    assert "**Verdict:** `proved` by z3" in md
    assert any(c.startswith("formalised by given · checked on local") for c in caption_texts(at))


def test_gated_formal_result_shows_why_the_machine_abstained(app, debate):
    """A proposer's claim that went through the faithfulness gate shows each check and rejection."""
    db, run_id = debate
    gated = [n.id for n in Store(db).nodes(run_id) if n.kind == "formal_result"
             and json.loads(n.data_json).get("formalised_by") == "formaliser"]
    assert gated
    at = app(run_id, node=gated[0])
    assert not at.exception
    md = " ".join(m.value for m in at.markdown)
    assert "**Faithfulness checks**" in md and "FAIL" in md


def test_untrusted_text_renders_inert(app, debate):
    db, run_id = debate
    store = Store(db)
    evil = '<script>alert(1)</script><img src=x onerror="alert(2)"> ![t](http://evil.example/p.png)'
    store.append(run_id, [NewEvent("node/evil", "node", {"id": "evil", "kind": "critique", "persona": "<b>x</b>",
                                                         "round": 1, "title": "<img src=x onerror=alert(3)>",
                                                         "text": evil, "data": {}})])
    at = app(run_id, node="evil")
    assert not at.exception
    texts = [m.value for m in at.markdown] + [s.value for s in at.subheader]
    shown = " ".join(texts)
    # Markdown that allows HTML is built by `marks` from escaped text: the model's tags arrive as text.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown and "<script" not in shown
    assert "<img" not in shown and "!\\[t]" in shown  # no raw tag, no image fetch
    assert all("<script" not in m.value and "<img" not in m.value for m in at.markdown if m.proto.allow_html)
    node = next(n for n in graph_elements(at)["nodes"] if n["data"]["id"] == "evil")["data"]
    assert "<" not in node["name"]


def test_unknown_run_in_url_is_one_clear_error(app):
    at = app("no-such-run")
    assert not at.exception
    assert "no run 'no-such-run'" in at.error[0].value


def test_bad_db_is_one_line_exit_2(tmp_path: Path):
    r = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "ui", "--db", str(tmp_path / "missing.sqlite")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "no such database file" in r.stderr
    assert not (tmp_path / "missing.sqlite").exists()  # the dashboard never creates a database
