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
