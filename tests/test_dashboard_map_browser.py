"""The review dashboard in a real headless Chromium (Debian's, with the fonts a Debian server has), on the shipped
demo run imported without a model: node labels are drawn on the map, a click selects a node, the Ideas tab reads
in words (no id-only crux lists), and the Evaluations page draws a risk-coverage plot from a shipped report."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from gauntlet.graphs.store.run_import import import_file
from gauntlet.graphs.store.store import Store
from gauntlet.ui.dashboard import eval_report, graph_view
from gauntlet.ui.dashboard.data import build_view
from tests.test_dashboard_browser import ARGS, CHROMIUM, dashboard

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason="needs Debian chromium: apt-get install chromium fonts-dejavu-core")]

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "runs" / "examples" / "demo.run.jsonl.gz"
VIEWPORT = {"width": 1500, "height": 1100}
CY = "() => document.getElementById('cy')._cyreg.cy"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Any]]:
    db = tmp_path_factory.mktemp("map") / "gauntlet.sqlite"
    store = Store(str(db))
    run_id = import_file(store, DEMO).run_id
    view = build_view(store, run_id, store.last_seq(run_id))
    store.engine.dispose()
    with dashboard(db) as base:
        yield base, run_id, view


@pytest.fixture
def page(served) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            pg = browser.new_page(viewport=VIEWPORT)
            pg.set_default_timeout(60_000)
            expect.set_options(timeout=60_000)  # a cold server imports and renders for a while
            yield pg
        finally:
            browser.close()


def graph_frame(page: Any, n_nodes: int) -> Any:
    """The map component's frame, once Cytoscape has drawn every node and fitted the view."""
    page.locator("iframe[title*=cytoscape]").first.wait_for()
    frame = page.locator("iframe[title*=cytoscape]").first.element_handle().content_frame()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if frame.evaluate(f"() => {{ const cy = ({CY})(); return cy.nodes().length }}") == n_nodes:
                break
        except Exception:  # the component is still loading its script
            pass
        time.sleep(0.3)
    else:
        pytest.fail("the map never drew its nodes")
    time.sleep(1.0)  # the fit after the layout is debounced
    return frame


def dark_pixels(png: bytes, box: dict[str, float]) -> int:
    """Pixels in `box` dark enough to be label text (#1a1a1a); edges and node fills are coloured, not dark."""
    from PIL import Image
    img = Image.open(io.BytesIO(png)).convert("RGB")
    x1, y1 = max(0, int(box["x1"])), max(0, int(box["y1"]))
    x2, y2 = min(img.width, int(box["x2"]) + 1), min(img.height, int(box["y2"]) + 1)
    return sum(1 for x in range(x1, x2) for y in range(y1, y2) if max(img.getpixel((x, y))) < 110)


def test_node_labels_are_drawn_on_the_map(served, page):
    base, run_id, view = served
    page.goto(f"{base}/?run={run_id}")
    frame = graph_frame(page, len(view.nodes))
    expected = {n["data"]["id"]: n["data"]["_label"] for n in graph_view.elements(view, graph_view.Filters())["nodes"]}
    drawn = frame.evaluate(f"""() => {{ const cy = ({CY})(); return cy.nodes().map(n => ({{
        id: n.id(), label: n.style('label'), px: parseFloat(n.style('font-size')) * cy.zoom(),
        min: parseFloat(n.style('min-zoomed-font-size')), visible: n.visible(),
        box: n.renderedBoundingBox({{includeNodes: false, includeEdges: false, includeLabels: true}})}})) }}""")
    assert {d["id"]: d["label"] for d in drawn} == expected
    for d in drawn:  # big enough on screen that Cytoscape draws it (it skips labels under min-zoomed-font-size)
        assert d["visible"] and d["px"] >= d["min"] and d["px"] >= 7, d
    # The pixels: text under the top idea, gone when the labels are switched off in the same view.
    idea = next(d for d in drawn if d["id"] == view.ideas[0]["id"])
    with_labels = dark_pixels(frame.locator("#cy").screenshot(), idea["box"])
    frame.evaluate(f"() => ({CY})().style().selector('node').style('label', '').update()")
    time.sleep(0.5)
    without = dark_pixels(frame.locator("#cy").screenshot(), idea["box"])
    assert with_labels >= 30 and without <= with_labels // 5, (with_labels, without)


def test_clicking_a_node_selects_it(served, page):
    from playwright.sync_api import expect
    base, run_id, view = served
    page.goto(f"{base}/?run={run_id}")
    frame = graph_frame(page, len(view.nodes))
    target = view.ideas[-1]  # not the one the inspector opens on
    assert target["id"] != view.ideas[0]["id"]
    page.locator("iframe[title*=cytoscape]").first.scroll_into_view_if_needed()
    time.sleep(0.5)
    pos = frame.evaluate(f"() => ({CY})().getElementById({target['id']!r}).renderedPosition()")
    box = frame.locator("#cy").bounding_box()
    page.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])
    expect(page).to_have_url(re.compile(f"node={re.escape(target['id'])}"))
    expect(page.get_by_role("heading", name=target["title"][:40])).to_be_visible()


def test_ideas_tab_reads_in_words_not_ids(served, page):
    from playwright.sync_api import expect
    base, run_id, view = served
    page.goto(f"{base}/?run={run_id}")
    page.get_by_role("tab", name="Ideas & evidence").click()
    panel = page.get_by_role("tabpanel", name="Ideas & evidence")
    expect(panel.locator(".gt-why")).to_be_visible()
    text = panel.inner_text()
    assert "Cruxes" in text and "Why:" in text
    others = [n for n, v in view.nodes.items() if v["kind"] != "idea"]
    assert [n for n in others if n in text] == []  # ids only on hover (title attributes)
    crux = view.nodes[next(i for i in view.ideas if i["cruxes"])["cruxes"][0]]
    assert f"{crux['persona']}: “" in text
    badge = panel.locator(".gt-badge").first
    expect(badge).to_be_visible()
    assert badge.evaluate("e => getComputedStyle(e).backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")
    assert not re.search("[\U0001F300-\U0001FAFF\u2370]", page.locator("body").inner_text())


def shipped_report_with_curve() -> str:
    """A report in runs/evals/results with a risk-coverage curve, preferring one the report itself carries."""
    summaries = [eval_report.summarise(eval_report.parse(p.read_bytes(), p.name), p.name)
                 for p in eval_report.report_files(ROOT / "runs" / "evals" / "results")]
    with_curve = sorted((s for s in summaries if s.curve), key=lambda s: (s.curve_source != "report", s.name))
    assert with_curve, "no shipped report has right/wrong counts or confidences"
    return with_curve[0].name


def test_evaluations_page_draws_a_risk_coverage_plot_from_a_shipped_report(served, page):
    from playwright.sync_api import expect
    base, _, _ = served
    name = shipped_report_with_curve()
    page.goto(f"{base}/?page=evals&report={name}")
    chart = page.get_by_test_id("stVegaLiteChart").first
    expect(chart.locator("svg.marks")).to_be_visible()
    expect(chart.locator("svg.marks text", has_text="Risk-coverage")).to_have_count(1)
    expect(chart.locator("svg.marks text", has_text="coverage (share of cases accepted)")).to_have_count(1)
    marks = chart.locator("svg.marks g.mark-symbol path, svg.marks g.mark-line path")
    assert marks.count() >= 1
    assert any(marks.nth(i).get_attribute("d") for i in range(marks.count()))
