"""Forking a run from a step: real store, real LangGraph checkpoints, continued against the synthetic model server."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gauntlet.agents.openai_backend import OpenAIBackend
from gauntlet.errors import InputError
from gauntlet.graphs.run.fork import ForkSpec, fork_run
from gauntlet.graphs.run.runner import Runner
from gauntlet.graphs.store.store import Store
from gauntlet.graphs.store.views import load_graph
from tests.conftest import run_debate

APP = str(Path(__file__).resolve().parent.parent / "ui" / "dashboard" / "app.py")


def resume(store: Store, run_id: str, url: str) -> None:
    async def go() -> None:
        llm = OpenAIBackend(url, "synthetic", backoff_s=0.01)
        try:
            await Runner(store, llm=llm).resume(run_id)
        finally:
            await llm.aclose()
    asyncio.run(go())


@pytest.fixture
def parent(store, demo, synthetic_url) -> str:
    return run_debate(store, demo, synthetic_url)


def first_step(store: Store, run_id: str, phase: str) -> int:
    return next(e.seq for e in store.events(run_id) if e.kind == "node" and e.phase == phase)


def test_fork_swaps_panel_injects_note_and_continues(store, parent, synthetic_url):
    step = first_step(store, parent, "critique")  # mid-critique: snaps to the end of the critique superstep
    res = asyncio.run(fork_run(store, parent, step, ForkSpec(drop=["security-engineer"],
                                                             add_critics=["ml-empiricist"],
                                                             note="Honeypots are detectable by construction.",
                                                             note_on="seed-1")))
    info = store.run_info(store.run(res.run_id))
    assert (info.parent_run_id, info.fork_step, info.status) == (parent, res.fork_step, "interrupted")
    parent_events = store.events(parent)
    crit_step = max(e.seq for e in parent_events if e.phase == "critique")
    assert res.fork_step == crit_step >= step
    # The fork's log starts with an exact copy of the parent's, so it stands on its own.
    mine = store.events(res.run_id)
    assert [(e.key, e.payload) for e in mine[:res.fork_step]] == \
           [(e.key, e.payload) for e in parent_events[:res.fork_step]]
    assert mine[res.fork_step].kind == "run_forked"
    assert json.loads(mine[res.fork_step].payload)["parent_run_id"] == parent
    roles = {p.name: p.roles for p in store.personas(res.run_id)}
    assert "security-engineer" not in roles and "critic" in roles["ml-empiricist"]

    resume(store, res.run_id, synthetic_url)
    assert store.run_info(store.run(res.run_id)).status == "done"
    graph = load_graph(store, res.run_id)
    note = graph.nodes[res.note_id]
    assert note.kind == "human_note" and note.text == "Honeypots are detectable by construction."
    assert ("attacks", "seed-1") in [(e.kind, e.dst) for e in graph.edges if e.src == res.note_id]
    after = [e for e in store.events(res.run_id) if e.seq > res.fork_step]
    assert any(e.kind == "llm_call" and e.phase == "judge" for e in after)  # it went on to the judge
    assert not any(e.persona == "security-engineer" for e in after)
    # The parent is untouched.
    assert [e.key for e in store.events(parent)] == [e.key for e in parent_events]


def test_fork_of_a_fork_inside_its_prefix_forks_the_original(store, parent, synthetic_url):
    first = asyncio.run(fork_run(store, parent, first_step(store, parent, "rebut")))
    resume(store, first.run_id, synthetic_url)
    early = first_step(store, parent, "propose")
    second = asyncio.run(fork_run(store, first.run_id, early, ForkSpec(drop=["mechanism-designer"])))
    assert second.parent_run_id == parent and second.fork_step < first.fork_step
    resume(store, second.run_id, synthetic_url)
    assert store.run_info(store.run(second.run_id)).status == "done"
    assert "mechanism-designer" not in {p.name for p in store.personas(second.run_id)}


@pytest.mark.parametrize("step, spec, field", [
    (10_000, ForkSpec(), "--step"),
    (3, ForkSpec(note="hi", note_on="no-such-node"), "--note-on"),
    (3, ForkSpec(add_critics=["no-such-persona"]), "persona"),
    (3, ForkSpec(drop=["security-engineer", "mechanism-designer", "formal-methods-researcher",
                       "agent-foundations-theorist"]), "panel"),
])
def test_bad_fork_requests_are_input_errors(store, parent, step, spec, field):
    before = len(store.runs())
    with pytest.raises(InputError) as exc:
        asyncio.run(fork_run(store, parent, step, spec))
    assert exc.value.field == field
    assert len(store.runs()) == before  # nothing half-made


def test_cli_fork_prints_json(store, parent):
    step = first_step(store, parent, "propose")
    r = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "fork", parent, "--step", str(step), "--db",
                        str(store.sqlite_path), "--drop-persona", "ml-empiricist", "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["parent_run_id"] == parent and doc["fork_step"] >= step
    assert store.run(doc["run_id"]).parent_run_id == parent
    bad = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "fork", parent, "--step", "99999", "--db",
                          str(store.sqlite_path)], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_dashboard_fork_form_creates_a_linked_run(store, parent, monkeypatch):
    import streamlit as st
    monkeypatch.setenv("GAUNTLET_DB", str(store.sqlite_path))
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["run"] = parent
    at.run()
    step = first_step(store, parent, "critique")
    at.slider(key="step").set_value(step).run()
    at.multiselect(key="fork_drop").set_value(["security-engineer"])
    at.text_area(key="fork_note").input("A reviewer's objection")
    at.selectbox(key="fork_target").set_value("seed-1")
    at.button(key="FormSubmitter:fork_form-Create fork").click().run()
    assert not at.exception and not at.error
    forks = [r for r in store.runs() if r.parent_run_id == parent]
    assert len(forks) == 1 and forks[0].status == "interrupted"
    assert any(forks[0].run_id in s.value for s in at.success)
    assert "human-1" in {n.id for n in store.nodes(forks[0].run_id)}
