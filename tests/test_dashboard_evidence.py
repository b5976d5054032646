"""The run page as a reviewer reads it, on the shipped example runs (imported, no model) and on a run carrying the
newer evidence keys (juror probabilities, threshold, calibration, cited sources): labelled map, words instead of
ids, badges instead of emoji, the evidence panel, a fork against its parent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gauntlet.graphs.store.run_import import import_file
from gauntlet.graphs.store.store import NewEvent, Store
from gauntlet.ui.bench.bench_ui import synthetic_run
from gauntlet.ui.dashboard import evidence, fork_diff, graph_layout, graph_view, legend, marks
from gauntlet.ui.dashboard.data import build_view
from tests.test_clone_dashboard import open_app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "runs" / "examples"


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    """Every shipped example run imported into one database: (db, {example name: run id})."""
    db = str(tmp_path_factory.mktemp("examples") / "gauntlet.sqlite")
    store = Store(db)
    ids = {f.name.removesuffix(".run.jsonl.gz"): import_file(store, f).run_id
           for f in sorted(EXAMPLES.glob("*.run.jsonl.gz"))}
    store.engine.dispose()
    return db, ids


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Any:
    return lambda db, **params: open_app(monkeypatch, db, **params)


def view_of(db: str, run_id: str):
    store = Store(db)
    return build_view(store, run_id, store.last_seq(run_id))


def html_texts(at: Any) -> str:
    return " ".join(m.value for m in at.markdown)


def test_every_node_carries_a_short_label_and_sits_below_what_it_answers(examples):
    db, ids = examples
    view = view_of(db, ids["demo"])
    els = graph_view.elements(view, graph_view.Filters())
    assert len(els["nodes"]) == len(view.nodes)
    by_id = {n["data"]["id"]: n for n in els["nodes"]}
    for n in els["nodes"]:
        label = n["data"]["_label"]
        assert label and len(label) <= graph_view.LABEL_MAX and "\n" not in label
    assert by_id["seed-1"]["data"]["_label"] == "Honeypot evaluations"  # an idea: its title
    crit = view.nodes["r1-crit-mechanism-designer-2"]
    assert by_id[crit["id"]]["data"]["_label"].startswith(crit["text"][:20])  # a critique: its first words
    forest = graph_view.forest_of(view)
    for src, dst, _ in view.edges:  # a tree edge goes up: the answering node is one level below its parent
        if forest.parent.get(src) == dst:
            assert by_id[src]["position"]["y"] > by_id[dst]["position"]["y"]
    ideas = [n for n in els["nodes"] if n["data"]["label"] == "idea"]
    assert {forest.depth[n["data"]["id"]] for n in ideas} == {0}
    # Labels never collide: two nodes on one level are at least a label's width apart.
    rows: dict[float, list[float]] = {}
    for n in els["nodes"]:
        rows.setdefault(n["position"]["y"], []).append(n["position"]["x"])
    for xs in rows.values():
        xs.sort()
        assert all(b - a >= graph_layout.X_STEP - 1e-6 for a, b in zip(xs, xs[1:]))
    # The canvas draws them at any zoom a reader can read (the component's default hid them under 10 px).
    spec = graph_view.node_style_specs()[0]
    assert spec["caption"] == "_label" and spec["custom_styles"]["min-zoomed-font-size"] <= 5


def test_500_node_map_filters_by_status_and_collapses_ruled_out_branches(tmp_path):
    db = str(tmp_path / "big.sqlite")
    run_id = synthetic_run(db, 500, seed=3)
    view = view_of(db, run_id)
    assert len(view.nodes) == 500 and len(view.ideas) >= 40
    full = graph_view.elements(view, graph_view.Filters())
    assert len(full["nodes"]) == 500 and len({(n["position"]["x"], n["position"]["y"]) for n in full["nodes"]}) == 500
    standing = graph_view.elements(view, graph_view.Filters(statuses=["standing"]))
    forest = graph_view.forest_of(view)
    kept = {n["data"]["id"] for n in standing["nodes"]}
    assert kept and all(view.nodes[forest.root[n]]["status"] == "standing" for n in kept)
    collapsed = graph_view.elements(view, graph_view.Filters(collapse=True))
    out = graph_view.ruled_out(view)
    shown = {n["data"]["id"] for n in collapsed["nodes"]}
    assert out and len(shown) < 500
    for node in out & shown:  # a ruled-out node stays, what hangs under it goes, and its label says how much
        hidden = forest.subtree_size(node)
        assert not any(c in shown for c in forest.children[node])
        label = next(n["data"]["_label"] for n in collapsed["nodes"] if n["data"]["id"] == node)
        assert (f"(+{hidden})" in label) == (hidden > 0)
    ideas_only = graph_view.elements(view, graph_view.Filters(depth=0))
    assert {n["data"]["label"] for n in ideas_only["nodes"]} <= {"idea", "judgement"}


def test_legend_is_drawn_as_shapes():
    svg = legend.legend_svg(["idea", "critique", "ruling"])
    assert svg.startswith("<svg") and svg.count("<polygon") >= 2 and "<rect" in svg
    for word in ("idea", "critique", "ruling", "standing", "shot down", "undecided", "attacks", "supports"):
        assert f">{word}</text>" in svg
    assert "human note" not in svg  # only the kinds the run has


def test_references_read_as_persona_and_words_with_the_id_on_hover(examples):
    db, ids = examples
    view = view_of(db, ids["demo"])
    crit = view.nodes["r1-crit-mechanism-designer-2"]
    assert marks.describe(view, crit["id"]).startswith("mechanism-designer: “" + crit["text"][:20])
    ruling = next(n for n in view.nodes.values() if n["kind"] == "ruling")
    assert marks.describe(view, ruling["id"]).startswith(f"{ruling['data']['outcome']} ruling on ")
    html = marks.ref(view, crit["id"])
    assert f'title="{crit["id"]}"' in html and ">mechanism-designer: “" in html
    evil = marks.ref(view, '"><script>x</script>')
    assert "<script>" not in evil and "&quot;&gt;&lt;script&gt;" in evil
    assert marks.link("javascript:alert(1)", "x") == "x"


def test_ideas_tab_shows_words_and_badges_not_ids_or_emoji(examples, app):
    db, ids = examples
    at = app(db, run=ids["demo"])
    assert not at.exception and not at.error
    view = view_of(db, ids["demo"])
    table = next(d.value for d in at.dataframe if "cruxes" in d.value.columns)
    crit_ids = [n for n, v in view.nodes.items() if v["kind"] != "idea"]
    for col in ("cruxes", "shot down by"):
        cells = " ".join(table[col])
        assert not any(c in cells for c in crit_ids)
    idea = next(i for i in view.ideas if i["cruxes"])
    row = table[table["id"] == idea["id"]].iloc[0]
    assert row["cruxes"].split("; ")[0] == marks.describe(view, idea["cruxes"][0], 50)
    md = html_texts(at)
    assert "<b>Cruxes</b>" in md and marks.ref(view, idea["cruxes"][0], 60) in md
    assert 'class="gt-badge"' in md
    assert not any(ch in md for ch in "🟢🔴🟡⍰")


def test_evidence_panel_marks_anchors_and_says_why(examples, app):
    db, ids = examples
    view = view_of(db, ids["annotated-fork"])
    idea = next(i for i in view.ideas if i["id"] == "seed-1")
    ev = evidence.idea_evidence(view, idea)
    assert ev.status == "shot_down" and ev.why.startswith("Shot down by 2 sustained critiques")
    assert "human intervention" in ev.why
    marked = [piece for piece, covering in ev.segments if covering]
    assert marked and all(piece in view.nodes["seed-1"]["text"] for piece in marked)
    assert "".join(piece for piece, _ in ev.segments) == view.nodes["seed-1"]["text"]
    for c in ev.critiques:
        if c.anchor_found:
            assert any(c.number in covering for _, covering in ev.segments)
    at = app(db, run=ids["annotated-fork"])
    md = html_texts(at)
    assert "<b>Why:</b> Shot down by" in md and "<mark " in md and "<sup><b>" in md


def test_false_claim_evidence_shows_the_counterexample(examples):
    db, ids = examples
    view = view_of(db, ids["false-claim"])
    idea = next(i for i in view.ideas if i["id"] == "seed-1")
    ev = evidence.idea_evidence(view, idea)
    refuted = [f for f in ev.formal if f.verdict == "refuted"]
    assert refuted and refuted[0].counterexample == {"e": "1/2"} and refuted[0].checks
    assert "machine-checked refutation" in ev.why


def scored_run(store: Store, extra_cites: tuple[dict[str, Any], ...] = ()) -> str:
    """A run whose ruling carries the newer keys: each juror's p_sustained and accepted, a threshold, a calibration
    id; its critique cites a library source (and `extra_cites`)."""
    run = "scored"
    store.create_run(run, topic="scored rulings", config={}, source="t", seed=0, model="m",
                     personas=[("ml-empiricist", "x", "proposer", {}), ("security-engineer", "x", "critic", {})])
    idea_text = "Reward the policy for agreement with a learned reward model and optimise it hard."
    cites = [{"entry": "goodhart-reward-hacking", "title": "Scaling laws for reward model overoptimization",
              "authors": ["Gao", "Schulman", "Hilton"], "year": 2023, "link": "https://arxiv.org/abs/2210.10760"},
             *extra_cites]
    votes = [{"juror": "philosopher-of-science", "vote": "sustained", "reason": "the proxy is what gets optimised",
              "p_sustained": 0.93, "accepted": True},
             {"juror": "mechanism-designer", "vote": "sustained", "reason": "a known failure of reward models",
              "p_sustained": 0.71, "accepted": False}]
    store.append(run, [
        NewEvent("node/i", "node", {"id": "i", "kind": "idea", "persona": "ml-empiricist", "round": 1,
                                    "title": "Optimise a learned reward hard",
                                    "text": idea_text}),
        NewEvent("node/c", "node", {"id": "c", "kind": "critique", "persona": "security-engineer", "round": 1,
                                    "title": "objection",
                                    "text": "Optimising a learned proxy hard overoptimises it.",
                                    "data": {"target": "i", "anchor": "optimise it hard", "anchor_match": "exact",
                                             "flaw_type": "proxy_goodhart", "severity": "fatal",
                                             "critique_kind": "objection", "cites": cites,
                                             "library_entries": ["goodhart-reward-hacking"]}}),
        NewEvent("edge/c", "edge", {"src": "c", "dst": "i", "kind": "attacks"}),
        NewEvent("node/r", "node", {"id": "r", "kind": "ruling", "persona": "jury", "round": 1, "title": "sustained",
                                    "data": {"critique": "c", "target": "i", "outcome": "sustained",
                                             "votes": votes, "threshold": 0.8, "calibration": "rulings-test-1"}}),
        NewEvent("edge/r", "edge", {"src": "r", "dst": "c", "kind": "supports"}),
    ])
    store.set_status(run, "done")
    return run


def test_scored_ruling_shows_each_jurors_probability_threshold_and_sources(tmp_path, app):
    db = str(tmp_path / "scored.sqlite")
    evil = {"entry": "x", "title": "evil source", "authors": [], "year": None, "link": "javascript:alert(1)"}
    run = scored_run(Store(db), (evil,))
    view = view_of(db, run)
    ev = evidence.idea_evidence(view, view.ideas[0])
    (c,) = ev.critiques
    assert c.ruling and c.ruling.threshold == 0.8 and c.ruling.calibration == "rulings-test-1"
    assert [(v.juror, v.p_sustained, v.accepted) for v in c.ruling.votes] == [
        ("philosopher-of-science", 0.93, True), ("mechanism-designer", 0.71, False)]
    assert [s for s, _ in ev.segments if _] == ["optimise it hard"]
    at = app(db, run=run)
    assert not at.exception
    md = html_texts(at)
    assert "threshold <b>0.80</b>" in md and "<code>rulings-test-1</code>" in md
    assert "<td>philosopher-of-science</td><td>sustained</td><td>0.93</td><td>yes" in md and "<td>0.71</td><td>no" in md
    assert '<a href="https://arxiv.org/abs/2210.10760" target="_blank"' in md and "Gao, Schulman, Hilton" in md
    assert "javascript:" not in md and "evil source" in md  # a non-http link is shown as text


def test_fork_against_parent_names_the_intervention_and_the_changes(examples, app):
    db, ids = examples
    store = Store(db)
    rec_parent = store.run(ids["annotated-fork"]).parent_run_id
    d = fork_diff.diff(store, ids["annotated-fork"], rec_parent, 18)
    assert not d.parent_present and "step 18" in d.baseline
    assert [n["id"] for n in d.notes] == ["human-1"] and d.notes[0]["targets"] == [{"id": "seed-1", "edge": "attacks"}]
    changed = {c["id"]: c for c in d.status_changes}
    assert changed["seed-1"]["after"] == "shot_down" and "human-1" in changed["seed-1"]["causes"]
    # The other idea was attacked before the fork; what changed it is the rulings made after.
    other = changed["r1-idea-ml-empiricist"]
    assert other["causes"] and all(view_of(db, ids["annotated-fork"]).nodes[c]["kind"] == "ruling"
                                   for c in other["causes"])
    assert {"human-1", "seed-1-claim1-formal"} <= {n["id"] for n in d.new_nodes}
    assert all(n["id"] not in build_view(store, ids["annotated-fork"], 18).nodes for n in d.new_nodes)
    at = app(db, run=ids["annotated-fork"])
    assert not at.exception
    md = html_texts(at)
    assert "#### The intervention" in md and "A capable model can tell a honeypot" in md
    assert "gt-status-changes" in md
