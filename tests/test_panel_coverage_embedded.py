"""Every idea faces the panel on the embedded model (llama.cpp on the CPU): the allocation holds with a real model,
whose choice of target is not random but biased toward what it reads first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gauntlet.graphs.store.store import Store
from gauntlet.graphs.store.views import load_graph, show

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
CONFIG = Path(__file__).parent / "data" / "coverage_embedded.yaml"


def test_every_seed_idea_gets_two_critics_and_a_champion_defends_it(tmp_path):
    db = tmp_path / "db.sqlite"
    out = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "run", str(CONFIG), "--db", str(db), "--json",
                          "-q"], capture_output=True, text=True, timeout=1200, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    store = Store(str(db))
    run_id = json.loads(out.stdout)["run_id"]
    doc = show(store, run_id)
    seeds = [i for i in doc["ideas"] if i["id"].startswith("seed-")]
    assert len(seeds) == 2
    for idea in seeds:
        assert len(idea["critics"]) >= 2, idea
        # Examined also needs every anchored critique ruled with a vote; the 1.5B juror often only restates the
        # critique, an abstention, and then the idea is honestly unexamined with those critiques named.
        assert idea["examined"] == (not idea["unruled"]), idea
        assert idea["defender"] not in idea["critics"]
    assert doc["coverage"]["covered_share"] == 1.0
    graph = load_graph(store, run_id)
    assert {n.data["champion_source"] for n in graph.ideas() if n.persona == "seed"} == {"protocol"}
    for n in graph.nodes.values():  # rebuttals come only from the attacked idea's champion
        if n.kind == "rebuttal":
            attacked = graph.nodes[graph.nodes[n.data["target"]].data["target"]]
            assert n.persona == (attacked.data.get("champion") or attacked.persona)
