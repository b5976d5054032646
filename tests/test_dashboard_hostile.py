"""Hostile model text in a real headless Chromium: nothing executes, nothing is fetched from elsewhere."""

from __future__ import annotations

import time
from urllib.parse import urlparse

import pytest

from gauntlet.graphs.store.store import NewEvent
from tests.test_dashboard_browser import ARGS, CHROMIUM, dashboard

pytestmark = pytest.mark.browser

HOSTILE = [
    "<script>window.__pwned = 1; alert('script')</script>",
    "<img src=x onerror=\"window.__pwned = 2; alert('img')\">",
    "[click me](javascript:window.__pwned=3)",
    "![beacon](http://198.51.100.7/beacon.png?leak=1)",
    "<iframe src=\"javascript:alert('frame')\"></iframe>",
    "<a href=\"javascript:alert('a')\">link</a> <svg onload=alert('svg')>",
]


def test_hostile_node_text_is_inert(store):
    run = "hostile"
    store.create_run(run, topic=HOSTILE[0], config={}, source="t", seed=0, model="m",
                     personas=[("evil", "x", "proposer", {})])
    events = [NewEvent(f"node/i{k}", "node", {"id": f"i{k}", "kind": "idea", "persona": "evil", "round": 1,
                                              "title": text, "text": " ".join(HOSTILE)})
              for k, text in enumerate(HOSTILE)]
    events.append(NewEvent("node/c", "node", {"id": "c", "kind": "critique", "persona": "evil", "round": 1,
                                              "title": HOSTILE[1], "text": HOSTILE[3]}))
    events.append(NewEvent("edge/c", "edge", {"src": "c", "dst": "i0", "kind": "attacks"}))
    store.append(run, events)
    store.set_status(run, "done")

    from playwright.sync_api import sync_playwright
    dialogs: list[str] = []
    foreign: list[str] = []
    with dashboard(store.sqlite_path) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(60_000)
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: foreign.append(r.url)
                    if urlparse(r.url).hostname not in ("127.0.0.1", "localhost") and
                    not r.url.startswith(("data:", "blob:")) else None)
            for path in (f"/?run={run}", f"/?run={run}&node=i1", f"/?run={run}&node=c", "/"):
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                time.sleep(2)  # let Streamlit render every element
                assert page.evaluate("() => window.__pwned === undefined")
            page.goto(f"{base}/?run={run}&node=i2")
            page.wait_for_load_state("networkidle")
            # The hostile text is on the page, as text.
            assert page.get_by_text("window.__pwned", exact=False).count() >= 1
        finally:
            browser.close()
    assert dialogs == []
    assert foreign == []
