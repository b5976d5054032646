"""Budgets: a cap on calls, tokens or wall time ends the debate cleanly and marks the run."""

from __future__ import annotations

import json
import time

import pytest

from gauntlet.graphs.run.loading import parse_config
from gauntlet.graphs.protocols.budget import Budget, BudgetReached
from gauntlet.graphs.store.views import load_graph, show
from tests.conftest import DEMO, run_debate


def with_budget(extra: str):
    text = DEMO.read_text() + "rounds_placeholder: 0\n"
    text = text.replace("rounds: 1", "rounds: 3").replace("rounds_placeholder: 0\n", extra)
    return parse_config(text, source="budget.yaml", base_dir=DEMO.parent)


def test_budget_logic():
    b = Budget(max_calls=2)
    b.reserve_call()
    b.reserve_call()
    with pytest.raises(BudgetReached, match="max_calls"):
        b.reserve_call()
    t = Budget(max_tokens=10)
    t.reserve_call()
    t.record(12)
    assert t.exhausted() == "max_tokens (10)"
    w = Budget(wall_seconds=0.05, elapsed_before=0.04)
    time.sleep(0.02)
    assert w.exhausted() and w.exhausted().startswith("wall_seconds")
    assert Budget().exhausted() is None


def test_call_cap_ends_the_run_cleanly(store, synthetic_url):
    loaded = with_budget("budgets:\n  max_calls: 4\nprovers:\n  enabled: false\n")
    run_id = run_debate(store, loaded, synthetic_url)
    doc = show(store, run_id)
    assert doc["status"] == "done"
    stats = json.loads(store.run(run_id).stats_json)
    assert stats["calls"] == 4 and stats["stopped_by"] == "budget: max_calls (4)"
    kinds = [e.kind for e in store.events(run_id)]
    assert "budget_reached" in kinds and kinds[-1] == "run_finished"
    # Nothing half-written: every edge joins two stored nodes, and no round past the first started.
    graph = load_graph(store, run_id)
    assert len(graph.edges) == len(store.edges(run_id))
    assert "round_started" not in kinds


def test_token_cap(store, synthetic_url):
    loaded = with_budget("budgets:\n  max_tokens: 50\nprovers:\n  enabled: false\n")
    run_id = run_debate(store, loaded, synthetic_url)
    stats = json.loads(store.run(run_id).stats_json)
    assert stats["stopped_by"].startswith("budget: max_tokens")
    assert stats["calls"] < 12
