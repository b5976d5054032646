"""kill -9 at random points, then `gauntlet resume`: the finished run equals an uninterrupted seeded run."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gauntlet.testing.synthetic_server import running_server
from gauntlet.graphs.run.runner import run_stats
from gauntlet.graphs.store.store import Store

ROOT = Path(__file__).resolve().parent.parent
CONFIG = """\
topic: Can scalable oversight survive a deceptive debater?
seed: 11
rounds: 2
seed_proposals:
  - title: Debate with cross-examination
    claim: Two copies of a model debate; a judge may cross-examine either at any point.
panel:
  proposers: [ml-empiricist, agent-foundations-theorist]
  critics: [security-engineer, mechanism-designer, formal-methods-researcher]
  judge: philosopher-of-science
model:
  backend: openai
  base_url: {url}
  name: synthetic
  max_retries: 2
provers:
  enabled: false
"""


def cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", *args], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, **kw)


def content(db: Path, run_id: str) -> dict:
    """What must match between runs: every debate event by key, and the derived graph."""
    store = Store(str(db))
    debate = {e.key: json.loads(e.payload) for e in store.events(run_id)
              if e.kind in ("node", "edge", "llm_call", "round_started")}
    for p in debate.values():  # timing differs between runs; content must not
        for k in ("latency_s", "queued_s"):
            p.pop(k, None)
    keys = [e.key for e in store.events(run_id)]
    assert len(keys) == len(set(keys)), "an event was written twice"
    return {"events": debate, "nodes": sorted((n.id, n.kind, n.text) for n in store.nodes(run_id)),
            "edges": sorted((e.src, e.dst, e.kind) for e in store.edges(run_id))}


@pytest.fixture(scope="module")
def slow_server():
    # Slow enough replies that a kill lands mid-debate, at different supersteps for different delays.
    with running_server(latency_ms=150) as url:
        yield url


@pytest.fixture(scope="module")
def reference(slow_server, tmp_path_factory):
    d = tmp_path_factory.mktemp("ref")
    cfg = d / "c.yaml"
    cfg.write_text(CONFIG.format(url=slow_server))
    out = cli("run", str(cfg), "--db", str(d / "db.sqlite"), "--json", "-q")
    assert out.returncode == 0, out.stderr
    return content(d / "db.sqlite", json.loads(out.stdout)["run_id"]), cfg


@pytest.mark.parametrize("kill_seed", [1, 2, 3, 4, 5])
def test_kill_9_then_resume_matches_uninterrupted(reference, tmp_path, kill_seed):
    expected, cfg = reference
    db = tmp_path / "db.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "gauntlet.ui.cli", "run", str(cfg), "--db", str(db), "-q"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    # Wait until the run exists, then kill at a random later moment (seeded, so the test is repeatable).
    deadline = time.monotonic() + 120
    while not (db.exists() and Store(str(db)).runs()):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(random.Random(kill_seed).uniform(0.2, 3.0))
    killed = proc.poll() is None
    if killed:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    runs = json.loads(cli("runs", "--db", str(db), "--json").stdout)
    run_id = runs[0]["run_id"]
    if killed and runs[0]["status"] != "done":
        assert runs[0]["status"] == "interrupted"
        out = cli("resume", run_id, "--db", str(db), "-q")
        assert out.returncode == 0, out.stderr
    assert json.loads(cli("runs", "--db", str(db), "--json").stdout)[0]["status"] == "done"
    assert content(db, run_id) == expected
    # The finished run's stats, taken from its final state, count every stored call, the killed process's too.
    store = Store(str(db))
    stored = json.loads(store.run(run_id).stats_json)
    assert {k: v for k, v in stored.items() if k != "wall_s"} == run_stats(store, run_id)


def test_resume_refuses_finished_and_unknown_runs(reference, tmp_path):
    _, cfg = reference
    db = tmp_path / "db.sqlite"
    run_id = json.loads(cli("run", str(cfg), "--db", str(db), "--json", "-q").stdout)["run_id"]
    out = cli("resume", run_id, "--db", str(db))
    assert out.returncode == 2 and "already done" in out.stderr
    out = cli("resume", "nope", "--db", str(db))
    assert out.returncode == 2


def test_unreachable_endpoint_is_bad_input_and_writes_nothing(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG.format(url="http://127.0.0.1:9/v1"))
    db = tmp_path / "db.sqlite"
    out = cli("run", str(cfg), "--db", str(db), "-q")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "model.base_url" in out.stderr
    assert not db.exists()


def test_endpoint_dying_mid_run_pauses_then_resumes(tmp_path, reference):
    from gauntlet.testing.synthetic_server import free_port
    expected, _ = reference
    port = free_port()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG.format(url=f"http://127.0.0.1:{port}/v1").replace("max_retries: 2", "max_retries: 1"))
    db = tmp_path / "db.sqlite"
    with running_server(latency_ms=150, port=port):
        proc = subprocess.Popen([sys.executable, "-m", "gauntlet.ui.cli", "run", str(cfg), "--db", str(db), "-q"],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not (db.exists() and Store(str(db)).events(Store(str(db)).runs()[0].run_id, kinds=["llm_call"])
                   if db.exists() and Store(str(db)).runs() else False):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    # The server is gone now; the run must pause with one clear line, not a traceback.
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "Traceback" not in stderr, stderr
    assert "gauntlet resume" in stderr and len(stderr.strip().splitlines()) == 1
    run_id = Store(str(db)).runs()[0].run_id
    assert Store(str(db)).run_info(Store(str(db)).run(run_id)).status == "interrupted"
    with running_server(latency_ms=0, port=port):
        out = cli("resume", run_id, "--db", str(db), "-q")
    assert out.returncode == 0, out.stderr
    got = content(db, run_id)
    # Same debate; only the call records differ, by the connection faults they counted.
    assert got["nodes"] == expected["nodes"] and got["edges"] == expected["edges"]
    assert set(got["events"]) == set(expected["events"])


def test_sigterm_marks_interrupted_then_resume_completes(reference, tmp_path):
    expected, cfg = reference
    db = tmp_path / "db.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "gauntlet.ui.cli", "run", str(cfg), "--db", str(db), "-q"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (db.exists() and Store(str(db)).runs()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    run_id = Store(str(db)).runs()[0].run_id
    if proc.returncode != 0:  # it may have finished before the signal landed
        assert proc.returncode == 130 and "gauntlet resume" in stderr and "Traceback" not in stderr
        assert Store(str(db)).run_info(Store(str(db)).run(run_id)).status == "interrupted"
        assert cli("resume", run_id, "--db", str(db), "-q").returncode == 0
    assert content(db, run_id) == expected
