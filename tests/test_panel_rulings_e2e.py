"""Rulings end to end on a real HTTP server (the synthetic OpenAI-compatible test double): every critique's attack
edge has a ruling and a verbatim anchor, exports and the dashboard carry them, and `gauntlet eval panel` runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gauntlet.graphs.argument.anchors import locate
from gauntlet.graphs.store.export import render
from gauntlet.graphs.store.views import load_graph, run_record, show
from gauntlet.ui.dashboard import graph_view
from gauntlet.ui.dashboard.critique_view import highlighted
from gauntlet.ui.dashboard.data import build_view

from tests.conftest import ROOT, run_debate


@pytest.fixture
def finished(store, demo, synthetic_url):
    return run_debate(store, demo, synthetic_url)


def test_every_critique_attack_has_a_ruling_by_others_and_a_verbatim_anchor(store, finished):
    graph = load_graph(store, finished)
    doc = json.loads(render("json", run_record(store, finished), graph))
    attacks = [e for e in doc["edges"] if e["kind"] == "attacks" and graph.nodes[e["src"]].kind == "critique"
               and graph.nodes[e["src"]].data.get("target") == e["dst"]]
    assert attacks
    for e in attacks:
        assert e["ruling"] in ("sustained", "overruled", "contested")
        assert {"anchor", "flaw_type", "severity", "reason"} <= set(e) and e["reason"]
        assert locate(e["anchor"], graph.nodes[e["dst"]].text).match == "exact"
        ruling = graph.rulings[e["src"]]
        critic, target = graph.nodes[e["src"]], graph.nodes[e["dst"]]
        owner = target.data.get("champion") or target.persona
        assert all(v["juror"] not in (critic.persona, owner) for v in ruling["votes"])
    for idea in show(store, finished, analyse=False)["ideas"]:
        assert (idea["status"] == "shot_down") == bool(idea["shot_down_by"])
        assert all(d["ruling"] in ("sustained", "override") for d in idea["shot_down_by"])


def test_each_vote_is_one_scored_call_per_juror_and_critique(store, finished):
    """A juror's vote is read from the answer probabilities: one call record per (juror, critique) holding the
    passes (both answer orders and the content-free pair), and every vote, accepted or not, shows p_sustained."""
    graph = load_graph(store, finished)
    calls = [json.loads(e.payload) for e in store.events(finished, kinds=("llm_call",))]
    rule_calls = [c for c in calls if c["phase"] == "rule" and c.get("question") != "severity"]
    cast = [v for r in graph.rulings.values() for v in r["votes"] + r["abstained"] if "p_sustained" in v]
    assert rule_calls and len(rule_calls) == len(cast)
    assert {(c["persona"], c["critique"]) for c in rule_calls} == {(v["juror"], cid) for cid, r in
                                                                  graph.rulings.items()
                                                                  for v in r["votes"] + r["abstained"]}
    assert all(c["scored"] and len(c["passes"]) == 4 and c["completion_tokens"] == 0 for c in rule_calls)
    severity_calls = {c["critique"] for c in calls if c.get("question") == "severity"}
    assert severity_calls == {cid for cid, r in graph.rulings.items() if r["outcome"] == "sustained"}
    for r in graph.rulings.values():
        assert r["calibration"] and all(v["accepted"] for v in r["votes"])
        assert all(0 <= v["p_sustained"] <= 1 for v in r["votes"] + r["abstained"])


def test_markdown_argdown_and_dashboard_show_the_rulings(store, finished):
    graph, run = load_graph(store, finished), run_record(store, finished)
    md, ad = render("markdown", run, graph), render("argdown", run, graph)
    outcomes = {r["outcome"] for r in graph.rulings.values()}
    assert any(o in md for o in outcomes) and any(o in ad for o in outcomes)
    view = build_view(store, finished, store.last_seq(finished))
    labels = {e["data"]["label"] for e in graph_view.elements(view, graph_view.Filters())["edges"]}
    if any(r["outcome"] != "sustained" for r in graph.rulings.values()):
        assert "attack (not counted)" in labels  # overruled / contested critiques are drawn dashed


def test_anchor_highlight_is_escaped_markdown():
    out = highlighted("Use <b>probes</b> [x] to detect lies in activations.", "probes</b> [x] to detect")
    assert ":orange-background[" in out and "<b>" not in out and "\\[x\\]" in out
    assert highlighted("no anchor here at all", "something else entirely") == "no anchor here at all"


def _gauntlet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", *args], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)


def test_eval_panel_end_to_end(tmp_path: Path, synthetic_url):
    cfg = yaml.safe_load((ROOT / "runs/configs/eval-panel.yaml").read_text())
    cfg["model"] = {"backend": "openai", "name": "synthetic", "base_url": synthetic_url}
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    out = _gauntlet("eval", "panel", "runs/evals/panel.yaml", "--config", str(tmp_path / "cfg.yaml"),
                    "--only", "rlhf-reward-model,sound-canary", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["n"] == 2 and doc["flawed"] == 1 and doc["sound"] == 1 and doc["flaws"] == 2
    assert doc["flaw_recall"] is not None and 0 <= doc["flaw_recall"] <= 1
    assert doc["false_shootdown_rate"] in (0.0, 1.0)
    assert isinstance(doc["unmatched_sustained"], list) and doc["tokens"] > 0 and doc["ruling_calls"] >= 0
    assert doc["baseline"]["critics"] == ["security-engineer"] and "flaw_recall" in doc["baseline"]
    for m in doc["matches"]:
        assert m["case"] == "rlhf-reward-model" and m["flaw"] and "evidence" in m


@pytest.mark.parametrize("text,needle", [
    ("- id: x\n  proposal: p\n", "known_flaws"),          # flawed without flaws
    ("- id: x\n  proposal: p\n  sound: maybe\n", "sound"),
    ("{not a list", "YAML"),
    ("- id: x\n  proposal: p\n  sound: true\n  colour: red\n", "colour"),
])
def test_eval_panel_rejects_a_bad_file_in_one_line(tmp_path: Path, text, needle):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    out = _gauntlet("eval", "panel", str(bad), "--json")
    assert out.returncode == 2 and out.stdout == ""
    assert needle in out.stderr and len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_each_case_has_one_fixed_defender_who_is_never_the_baseline_critic():
    """A critic who defends an idea does not critique it: were the baseline's one critic the defender, the baseline
    would measure no critique at all."""
    from gauntlet.graphs.run.loading import load_config, parse_config
    from gauntlet.graphs.evals.panel_cases import load_cases
    from gauntlet.graphs.evals.panel_figures import baseline_critics, case_config, defender

    loaded = load_config(ROOT / "runs/configs/eval-panel.yaml")
    case = load_cases(ROOT / "runs/evals/panel.yaml", ["sound-canary"])[0]
    assert defender(loaded.config) == "agent-foundations-theorist"
    single = baseline_critics(loaded.config)
    assert single[0] != defender(loaded.config) and single[1:] == [defender(loaded.config)]
    for critics, seed in ((None, 0), (single, 1)):
        cfg = case_config(loaded.config, case, critics, seed)
        assert cfg.seed_proposals[0].champion == "agent-foundations-theorist" and cfg.seed == seed
        assert cfg.seed_proposals[0].claim == case.proposal
    raw = yaml.safe_load((ROOT / "runs/configs/eval-panel.yaml").read_text())
    del raw["seed_proposals"][0]["champion"]  # none named and no proposers: the last critic defends
    unnamed = parse_config(yaml.safe_dump(raw), "e.yaml", ROOT / "runs" / "configs").config
    assert defender(unnamed) == "ml-empiricist" and baseline_critics(unnamed) == ["security-engineer", "ml-empiricist"]
