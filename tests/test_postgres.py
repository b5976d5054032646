"""PostgreSQL by URL: a real throwaway server (Debian's postgresql), the same debate, the same answers."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from gauntlet.graphs.store.store import Store
from gauntlet.graphs.store.views import load_graph, show
from tests.conftest import run_debate


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


PG = _pg_bin()
pytestmark = pytest.mark.skipif(
    PG is None or os.geteuid() == 0 and shutil.which("runuser") is None,
    reason="needs a PostgreSQL server binary: apt-get install postgresql (the .ci/run script installs it)")


@pytest.fixture(scope="module")
def pg_url():
    pytest.importorskip("psycopg", reason="pip install -e .[postgres] installs psycopg")
    pytest.importorskip("langgraph.checkpoint.postgres", reason="pip install -e .[postgres]")
    data = tempfile.mkdtemp(prefix="gauntlet-pg-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # initdb refuses to run as root; run the server as the unprivileged postgres user.
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if run_as:
        shutil.chown(data, "postgres")
    subprocess.run(run_as + [f"{PG}/initdb", "-D", data, "-U", "gauntlet", "--auth=trust"], check=True,
                   capture_output=True)
    proc = subprocess.Popen(run_as + [f"{PG}/postgres", "-D", data, "-p", str(port), "-h", "127.0.0.1",
                                      "-k", data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"postgresql+psycopg://gauntlet@127.0.0.1:{port}/postgres"
    deadline = time.monotonic() + 30
    while True:
        try:
            Store(url)
            break
        except Exception:
            if time.monotonic() > deadline:
                proc.terminate()
                raise
            time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    shutil.rmtree(data, ignore_errors=True)


def test_debate_on_postgres(pg_url, demo, synthetic_url):
    store = Store(pg_url)
    run_id = run_debate(store, demo, synthetic_url)
    doc = show(store, run_id)
    revisions = {e.src for e in load_graph(store, run_id).edges if e.kind == "refines"}
    originals = [i for i in doc["ideas"] if i["id"] not in revisions]  # revisions a rebuttal made come on top
    assert doc["status"] == "done" and doc["attacks"] >= 1 and len(originals) == 3
    assert [r.run_id for r in store.runs()][0] == run_id
