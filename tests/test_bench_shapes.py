"""`gauntlet bench …` prints one JSON object of the documented shape (tiny sizes; no timing assertions)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def bench(*args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "bench", *args, "--repeat", "1", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-800:]
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1, out.stdout
    return json.loads(lines[0])


def test_orchestration_reports_efficiency_calls_latency_and_queueing():
    doc = bench("orchestration", "--agents", "6", "--rounds", "2", "--latency-ms", "5")
    assert 0 < doc["efficiency"] <= 1.5
    assert doc["calls"] >= 6 * 2  # every critic speaks in every round
    assert doc["sequential_turns"] >= 4  # propose, critique, …, judge
    assert doc["ideal_s"] == pytest.approx(doc["sequential_turns"] * 0.005, abs=1e-3)
    for key in ("actual_s", "latency_p50_s", "latency_p95_s", "queued_total_s", "prompt_tokens"):
        assert doc[key] >= 0
    assert doc["latency_p95_s"] >= doc["latency_p50_s"]


def test_orchestration_runs_the_bare_client_on_the_same_calls():
    doc = bench("orchestration", "--agents", "4", "--rounds", "1", "--latency-ms", "20", "--repeat", "1")
    # The bare client replays every recorded call: its time is at least its turns × L, like the debate's.
    assert doc["bare_s"] >= doc["ideal_s"] * 0.95
    assert doc["vs_bare_client"] == pytest.approx(doc["bare_s"] / doc["actual_s"], rel=0.01)
    assert doc["server_cpu_ms_per_bare_call"] > 0 and doc["debate_cpu_ms_per_call"] > 0
    assert doc["event_loop"] in ("uvloop", "asyncio")  # the debate and the bare client ran on this kind of loop
    assert doc["warmup"] == 1 and len(doc["warmup_samples"]) == 1  # the untimed first run is listed, not hidden
    assert len(doc["samples"]) == 1
    wall = doc["debate_wall"]
    assert set(wall) == {"setup_s", "in_turns_s", "between_turns_s", "finish_s"}
    assert sum(wall.values()) == pytest.approx(doc["actual_s"], abs=0.05)
    floor = doc["langgraph_floor"]  # the framework's own share, measured in the same run
    assert floor["width"] == 4 and floor["supersteps"] >= 1
    assert floor["ms_per_superstep"] > 0 and floor["ms_per_superstep_no_checkpoints"] > 0


def test_turns_group_recorded_bodies_in_debate_order():
    from gauntlet.ui.bench.bare_client import _key, turns_of
    calls = [{"round": 1, "phase": p, "messages": [{"role": "user", "content": f"{p}{i}"}]}
             for p, n in (("propose", 2), ("critique", 3), ("judge", 1)) for i in range(n)]
    bodies = {_key(c["messages"]): {"messages": c["messages"]} for c in calls}
    turns = turns_of(calls, bodies)
    assert [len(t) for t in turns] == [2, 3, 1]
    assert turns[1][0]["messages"][0]["content"] == "critique0"



def test_one_phase_in_two_supersteps_is_two_turns():
    """The round's rulings and the closing pass's rulings share the phase `rule` but run one after the other: the
    bare client must not make them in one turn."""
    from gauntlet.ui.bench.bare_client import _key, turns_of
    calls = [{"round": 1, "phase": "rule", "superstep": s, "key": f"r1/rule/j{i}/{s}",
              "messages": [{"role": "user", "content": f"rule{s}-{i}"}]} for s, n in ((8, 3), (10, 2)) for i in range(n)]
    bodies = {_key(c["messages"]): {"messages": c["messages"]} for c in calls}
    assert [len(t) for t in turns_of(calls, bodies)] == [3, 2]

def test_store_counts_event_and_derived_rows():
    doc = bench("store", "--nodes", "300")
    assert doc["events"] == 300 + 2 * 299
    assert doc["rows"] == 2 * doc["events"]  # each node/edge event also writes its derived row
    assert doc["rows_per_s"] > 0


def test_semantics_labels_every_argument():
    doc = bench("semantics", "--args", "3000")
    assert doc["in"] + doc["out"] + doc["undec"] == 3000
    assert doc["attacks"] == 9000
    assert doc["grounded_s"] >= 0


def test_bad_input_is_exit_2_with_one_line():
    out = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "bench", "serve", "--endpoint", "ftp://x", "--json"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "http" in out.stderr


def test_a_call_of_several_requests_is_replayed_as_all_of_them_in_order():
    """A juror's vote is both answer orders and the content-free pass; a critique is its library checks, then
    the critique: the bare client sends each call's requests, one after another, as the debate did."""
    from gauntlet.ui.bench.bare_client import _key, chains_of, requests_in, turns_of

    def msgs(text):
        return [{"role": "user", "content": text}]

    calls = [{"round": 1, "phase": "rule", "messages": msgs("vote A")},
             {"round": 1, "phase": "critique", "messages": msgs("critique")}]
    vote, critic = object(), object()  # the asyncio tasks that asked
    sent = [("vote A", vote), ("check o1", critic), ("vote A o2", vote), ("check o2", critic),
            ("content-free", vote), ("critique", critic)]
    requests = [(_key(msgs(t)), {"messages": msgs(t)}, float(i), task) for i, (t, task) in enumerate(sent)]
    chains = chains_of(calls, requests)
    assert [b["messages"][0]["content"] for b in chains[_key(msgs("vote A"))]] == ["vote A", "vote A o2",
                                                                                    "content-free"]
    assert [b["messages"][0]["content"] for b in chains[_key(msgs("critique"))]] == ["check o1", "check o2",
                                                                                      "critique"]
    bodies = {k: b for k, b, _, _ in requests}
    assert requests_in(turns_of(calls, bodies), chains) == 6 and requests_in(turns_of(calls, bodies)) == 2
