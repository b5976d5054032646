"""Rulings in the tournament and deconfusion protocols: match arguments and toy cases are anchored critiques that
independent jurors rule on (the same ruling move as the gauntlet and red-team protocols); only sustained fatal or
major ones defeat. Runs against a real HTTP server (the synthetic OpenAI-compatible test double)."""

from __future__ import annotations

import json

import pytest

from gauntlet.agents.schemas import CritiqueItem
from gauntlet.graphs.argument.anchors import locate
from gauntlet.graphs.argument.argument_graph import ArgumentGraph
from gauntlet.graphs.argument.rulings import severity_of, shot_down_by
from gauntlet.graphs.protocols import critiques, toolkit
from gauntlet.graphs.protocols.deconfusion import given_way
from gauntlet.graphs.run.loading import load_config
from gauntlet.graphs.store.views import load_graph, show

from tests.conftest import ROOT, run_debate
from tests.test_rulings import rule_scripted, scored

CONFIGS = ROOT / "runs" / "configs"


def _owner(n) -> str:
    return n.data.get("champion") or n.persona


def _ruled_attacks(graph) -> list:
    """The critique → own-target attack edges of a finished run, each checked for anchor and independent jurors."""
    out = []
    for e in graph.edges:
        src = graph.nodes[e.src]
        if e.kind != "attacks" or src.kind != "critique" or src.data.get("target") != e.dst:
            continue
        assert src.data["severity"] in ("fatal", "major", "minor") and src.data["flaw_type"]
        assert locate(src.data["anchor"], graph.nodes[e.dst].text).match == "exact"
        ruling = graph.rulings[e.src]  # every attacking critique was ruled on
        assert ruling["outcome"] in ("sustained", "overruled", "contested") and ruling["reason"]
        assert all(v["juror"] not in (src.persona, _owner(graph.nodes[e.dst])) for v in ruling["votes"])
        out.append(src)
    return out


def _expected_status(graph, idea: str) -> str:
    """What the rulings say an idea attacked only by ruled critiques must be."""
    # The severity that counts is the ruling's: the jury scores a sustained critique's severity. A contested
    # critique counts whatever its critic's label (graphs/argument/rulings.py `counts_as_attack`).
    against = [c for c in _ruled_attacks(graph) if c.data["target"] == idea
               and (severity_of(c.data, graph.rulings.get(c.id)) != "minor"
                    or graph.rulings[c.id]["outcome"] == "contested")]
    outcomes = {graph.rulings[c.id]["outcome"] for c in against}
    return "shot_down" if "sustained" in outcomes else "undecided" if "contested" in outcomes else "standing"


def test_tournament_match_arguments_are_ruled_and_only_sustained_ones_shoot_down(store, synthetic_url):
    rid = run_debate(store, load_config(CONFIGS / "tournament.yaml"), synthetic_url)
    graph = load_graph(store, rid)
    arguments = [n for n in graph.nodes.values() if n.kind == "critique" and "match" in n.data]
    assert arguments and _ruled_attacks(graph)
    calls = [json.loads(e.payload) for e in store.events(rid, kinds=("llm_call",))]
    assert any(c["phase"] == "rule" for c in calls)
    for idea in show(store, rid, analyse=False)["ideas"]:
        # In a tournament only match arguments attack ideas, so the rulings alone decide each idea's status.
        assert idea["status"] == _expected_status(graph, idea["id"])
        assert all(d["ruling"] == "sustained" and d["severity"] in ("fatal", "major") for d in idea["shot_down_by"])


def test_deconfusion_toy_cases_are_ruled_and_an_intuition_gives_way_only_to_a_sustained_one(store, synthetic_url):
    loaded = load_config(CONFIGS / "deconfusion.yaml")
    rid = run_debate(store, loaded, synthetic_url)
    graph = load_graph(store, rid)
    cases = _ruled_attacks(graph)
    assert cases and all(c.data.get("toy_case") for c in cases)
    for idea in show(store, rid, analyse=False)["ideas"]:
        if idea["status"] == "shot_down":
            assert any(d.get("ruling") == "sustained" and d.get("severity") in ("fatal", "major")
                       for d in idea["shot_down_by"])


def _rule(config_name: str, nodes: list, edges: list, vote: str) -> tuple[ArgumentGraph, dict]:
    """The ruling move on these nodes, its one juror's scores making `vote` clear (scripted on a real server)."""
    update = rule_scripted(load_config(CONFIGS / config_name), nodes, edges, scored(vote))
    return ArgumentGraph(nodes + update["nodes"], edges + update["edges"]), update


def _case(author: str, target: dict, severity: str = "fatal", **extra) -> tuple[dict, dict]:
    """An anchored critique as the protocols record it (critiques.critique_record), quoting its target's words."""
    item = CritiqueItem(target=target["id"], kind="counterexample", anchor=target["text"][:30],
                        flaw_type="counterexample", severity=severity, text="A toy case where it fails.")
    (item, anchor, _), = critiques.place([item], {target["id"]: target})
    return critiques.critique_record(item, anchor, author, 1, "case", **extra)


def _tension() -> tuple[list, list]:
    a = toolkit.node("int-a", "idea", "agent-foundations-theorist", 1, "A", "Goal-directedness lives in the "
                   "internals of a system, not in its behaviour.", intuition=True)
    b = toolkit.node("int-b", "idea", "interpretability-researcher", 1, "B", "Goal-directedness is only a "
                   "pattern in behaviour that an observer ascribes.", intuition=True)
    return [a, b], [toolkit.edge("int-a", "int-b", "attacks"), toolkit.edge("int-b", "int-a", "attacks")]


@pytest.mark.parametrize("vote,gave_way,status_a,status_b", [
    ("sustained", "agent-foundations-theorist", "shot_down", "standing"),
    ("overruled", None, "undecided", "undecided"),  # the tension stands: neither intuition gave way
])
def test_a_toy_case_breaks_an_intuition_only_when_sustained(vote, gave_way, status_a, status_b):
    nodes, edges = _tension()
    case, attack = _case("control-theorist", nodes[0], toy_case=True)
    graph, update = _rule("deconfusion.yaml", nodes + [case], edges + [attack], vote)
    (ruling,) = update["nodes"]
    assert ruling["persona"] == "philosopher-of-science" and ruling["data"]["outcome"] == vote
    holders = ["agent-foundations-theorist", "interpretability-researcher"]
    every = [{"id": n.id, "kind": n.kind, "persona": n.persona, "round": n.round, "data": n.data}
             for n in graph.nodes.values()]
    assert given_way(every, [{"src": e.src, "dst": e.dst, "kind": e.kind} for e in graph.edges], holders) == gave_way
    assert (graph.status("int-a"), graph.status("int-b")) == (status_a, status_b)


@pytest.mark.parametrize("vote,severity,status", [
    ("sustained", "fatal", "shot_down"),
    ("overruled", "fatal", "standing"),
    ("sustained", "minor", "standing"),  # a minor weakness named in a match is a revision request, not a defeat
])
def test_a_match_argument_defeats_the_rival_only_when_sustained_and_serious(vote, severity, status):
    rival = toolkit.node("idea-y", "idea", "oversight-sceptic", 1, "Y", "Train a probe on activations to flag "
                       "deceptive intent before deployment.")
    mine = toolkit.node("idea-x", "idea", "interpretability-researcher", 1, "X", "Honeypot evaluations.")
    arg, attack = _case("interpretability-researcher", rival, severity, match=1, side="idea-x")
    graph, _ = _rule("tournament.yaml", [rival, mine, arg], [attack], vote)
    assert graph.status("idea-y") == status and graph.status("idea-x") == "standing"
    assert bool(shot_down_by(graph, "idea-y")) == (status == "shot_down")
