"""End to end in a real headless Chromium: `gauntlet ui` serves a stored run; a link opens it; a comment is saved."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from gauntlet.graphs.store.store import Store
from gauntlet.graphs.store.views import load_graph
from gauntlet.ui.dashboard.data import build_view
from tests.conftest import run_debate

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason="needs Debian chromium: apt-get install chromium")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dashboard(db_path: Path) -> Iterator[str]:
    """`gauntlet ui` on a free loopback port; yields its base URL; stops it afterwards."""
    port = free_port()
    env = {**os.environ, "STREAMLIT_SERVER_ADDRESS": "127.0.0.1"}  # loopback only, never the LAN
    proc = subprocess.Popen([sys.executable, "-m", "gauntlet.ui.cli", "ui", "--db", str(db_path), "--port",
                             str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"dashboard exited: {proc.stderr.read().decode()[-2000:]}")
                if time.monotonic() > deadline:
                    pytest.fail("dashboard did not come up within 60 s")
                time.sleep(0.3)
        yield base
    finally:
        os.killpg(proc.pid, 15)  # our own process group (start_new_session): streamlit and nothing else
        proc.wait(timeout=30)


@pytest.fixture
def served(store, demo, synthetic_url) -> Iterator[tuple[str, str, Store]]:
    run_id = run_debate(store, demo, synthetic_url)
    with dashboard(store.sqlite_path) as base:
        yield base, run_id, store


def test_open_run_by_url_see_idea_and_status_save_comment(served):
    from playwright.sync_api import expect, sync_playwright

    base, run_id, store = served
    graph = load_graph(store, run_id)
    top_id = build_view(store, run_id, store.last_seq(run_id)).ideas[0]["id"]  # the page's own ranking
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(60_000)
            expect.set_options(timeout=60_000)  # the first open of a cold server imports and renders for a while
            page.goto(f"{base}/?run={run_id}")
            # The inspector opens on the top-ranked idea: its title and its status are on the page.
            top = graph.nodes[top_id]
            expect(page.get_by_role("heading", name=top.title[:40])).to_be_visible()
            status = graph.status(top.id).replace("_", " ")
            expect(page.get_by_text(f"{status}", exact=False).first).to_be_visible()
            expect(page.get_by_text(top.text[:40], exact=False).first).to_be_visible()
            page.get_by_label("Comment").fill("Checked by a human in a real browser.")
            page.get_by_role("button", name="Save review").click()
            deadline = time.monotonic() + 30
            while not store.annotations(run_id) and time.monotonic() < deadline:
                time.sleep(0.3)
        finally:
            browser.close()
    notes = store.annotations(run_id)
    assert [(a.node_id, a.kind, a.text) for a in notes] == [(top.id, "comment",
                                                              "Checked by a human in a real browser.")]
