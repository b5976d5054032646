"""Protocols: the registry as the one plug-in point, config validation, and each protocol run end to end."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import yaml

from gauntlet.graphs.run.loading import load_config, parse_config
from gauntlet.errors import InputError
from gauntlet.graphs.argument import analysis
from gauntlet.graphs.protocols import tournament
from gauntlet.graphs.protocols.deconfusion import holders_of, intuitions
from gauntlet.graphs.protocols.registry import PROTOCOLS
from gauntlet.graphs.store.views import load_graph, show

from tests.conftest import run_debate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "runs" / "configs"


run = run_debate


def config_text(name: str, **changes) -> str:
    data = yaml.safe_load((CONFIGS / name).read_text())
    data.update(changes)
    return yaml.safe_dump(data)


def test_registry_has_all_protocols_and_each_compiles():
    assert {"gauntlet", "tournament", "deconfusion", "red_team"} <= set(PROTOCOLS)
    for name, spec in PROTOCOLS.items():
        assert spec.summary
        assert spec().compile() is not None, name


def test_unknown_protocol_lists_the_valid_ones():
    with pytest.raises(InputError) as exc:
        parse_config(config_text("tournament.yaml", protocol="chess"), "t.yaml", CONFIGS)
    line = exc.value.one_line()
    assert "protocol" in line and all(p in line for p in PROTOCOLS) and "\n" not in line


def test_bad_protocol_option_names_it():
    with pytest.raises(InputError) as exc:
        parse_config(config_text("tournament.yaml", protocol_options={"pairing": "knockout"}), "t.yaml", CONFIGS)
    assert "protocol_options" in exc.value.one_line() and "pairing" in exc.value.one_line()
    with pytest.raises(InputError, match="debate"):
        parse_config(config_text("tournament.yaml", protocol_options={"rounds": 2}), "t.yaml", CONFIGS)


def test_protocol_panel_rules():
    data = yaml.safe_load((CONFIGS / "tournament.yaml").read_text())
    data["panel"].pop("judge")
    with pytest.raises(InputError, match="panel.judge"):
        parse_config(yaml.safe_dump(data), "t.yaml", CONFIGS)
    with pytest.raises(InputError, match="holders"):
        parse_config(config_text("deconfusion.yaml", protocol_options={"holders": ["linguist", "linguist"]}),
                     "d.yaml", CONFIGS)
    with pytest.raises(InputError, match="defender"):
        parse_config(config_text("red_team.yaml", protocol_options={"defender": "linguist-x"}), "r.yaml", CONFIGS)


def test_round_robin_and_swiss_pairings():
    ideas = ["a", "b", "c", "d"]
    rr = tournament.pairings(ideas, {}, set(), 1, 7, "round_robin", 100)
    assert {frozenset(p) for p in rr} == {frozenset(p) for p in itertools.combinations(ideas, 2)}
    assert rr == tournament.pairings(ideas, {}, set(), 1, 7, "round_robin", 100)  # determined by the seed
    ratings = {"a": 1600, "b": 1550, "c": 1450, "d": 1400}
    sw = tournament.pairings(ideas, ratings, set(), 2, 7, "swiss", 100)
    assert [frozenset(p) for p in sw] == [frozenset("ab"), frozenset("cd")]
    again = tournament.pairings(ideas, ratings, {frozenset("ab"), frozenset("cd")}, 3, 7, "swiss", 100)
    assert not {frozenset(p) for p in again} & {frozenset("ab"), frozenset("cd")}


def test_tournament_runs_and_ranks_by_elo(store, synthetic_url):
    loaded = load_config(CONFIGS / "tournament.yaml")
    rid = run(store, loaded, synthetic_url)
    graph = load_graph(store, rid)
    ideas = [n.id for n in analysis.top_ideas(graph)]
    played = [frozenset((m["a"], m["b"])) for m in analysis.matches(graph)]
    assert sorted(played, key=sorted) == sorted((frozenset(p) for p in itertools.combinations(ideas, 2)),
                                                key=sorted)
    doc = show(store, rid)
    assert doc["status"] == "done" and {"ranking", "cruxes", "diversity", "persona_stats", "aggregate"} <= set(doc)
    elos = [r["elo"] for r in doc["ranking"]]
    assert all(e is not None for e in elos) and elos == sorted(elos, reverse=True)
    assert abs(sum(elos) - analysis.ELO_START * len(elos)) < 0.5  # Elo is zero-sum
    decided = [m for m in analysis.matches(graph) if not m["tie"]]
    assert sum(r["wins"] for r in doc["ranking"]) == len(decided)
    assert sum(r["ties"] for r in doc["ranking"]) == 2 * (len(played) - len(decided))
    # Ranking is not refutation: a match decision attacks nothing (the jurors' rulings on the match arguments
    # decide what is shot down; tests/test_protocol_rulings.py).
    for m in analysis.matches(graph):
        assert not [e for e in graph.edges if e.src == m["node"] and e.kind == "attacks"]
    # Every match was scored in both orders (one record, two passes), blind: labels A/B, no idea ids (they carry
    # persona names); each decision shows its probability and threshold.
    asks = [json.loads(e.payload) for e in store.events(rid, kinds=("llm_call",))
            if json.loads(e.payload)["phase"] == "judge"]
    assert len(asks) == len(played) == len({c["key"] for c in asks})
    for c in asks:
        prompt = "\n".join(m["content"] for m in c["messages"][1:])
        assert "[A]" in prompt and "[B]" in prompt and not any(i in prompt for i in ideas)
        assert c["scored"] and len(c["passes"]) == 2
    for m in analysis.matches(graph):
        decision = graph.nodes[m["node"]].data["match"]
        assert 0 <= decision["p_a"] <= 1 and decision["calibration"]


def test_red_team_stops_once_everything_is_shot_down(store, synthetic_url):
    loaded = load_config(CONFIGS / "red_team.yaml")
    rid = run(store, loaded, synthetic_url)
    graph = load_graph(store, rid)
    last_round = max(n.round for n in graph.nodes.values())
    standing = [n for n in analysis.top_ideas(graph) if graph.status(n.id) != "shot_down"]
    assert standing or last_round <= loaded.config.rounds
    if last_round < loaded.config.rounds:
        assert not standing  # an early stop only happens when nothing is left to attack
    defenders = {n.persona for n in graph.nodes.values() if n.kind == "rebuttal"}
    assert defenders <= {"ml-empiricist"}  # one defender
    attackers = {n.persona for n in graph.nodes.values() if n.kind == "critique"}
    assert len(attackers) >= 3


def test_deconfusion_holds_two_intuitions_in_tension(store, synthetic_url):
    loaded = load_config(CONFIGS / "deconfusion.yaml")
    rid = run(store, loaded, synthetic_url)
    graph = load_graph(store, rid)
    holders = holders_of(loaded.config)
    first = [n.id for n in graph.nodes.values() if n.kind == "idea" and not n.data.get("revises")]
    assert len(first) == 2
    a, b = first
    assert (a, b) in graph.attacks and (b, a) in graph.attacks
    cases = [n for n in graph.nodes.values() if n.data.get("toy_case")]
    assert cases and {n.persona for n in cases}.isdisjoint(holders)
    nodes = [{"id": n.id, "kind": n.kind, "persona": n.persona, "round": n.round, "data": n.data}
             for n in graph.nodes.values()]
    edges = [{"src": e.src, "dst": e.dst, "kind": e.kind} for e in graph.edges]
    live = intuitions(nodes, edges, holders)
    assert set(live) == set(holders)
