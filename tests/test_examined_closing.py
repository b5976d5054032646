"""Coverage: `examined` where rulings exist, the red team's allocated attacks, and the closing
critique pass that gives ideas born late (final-round revisions) their critics."""

from __future__ import annotations

import json
from collections import defaultdict

from gauntlet.graphs.argument import coverage
from gauntlet.graphs.argument.argument_graph import ArgumentGraph
from gauntlet.graphs.protocols import critique_routing, red_team
from gauntlet.graphs.run.loading import load_config, parse_config
from gauntlet.graphs.store.export import render
from gauntlet.graphs.store.views import load_graph, run_record, show
from tests.conftest import ROOT, run_debate
from tests.test_panel_coverage import many_ideas_config

CONFIGS = ROOT / "runs" / "configs"


# --- examined where rulings exist (pure) ------------------------------------------------------------------
def _idea(i: str, persona: str = "p") -> dict:
    return {"id": i, "kind": "idea", "persona": persona, "round": 1, "title": i, "text": "the words", "data": {}}


def _critique(cid: str, target: str, critic: str, *, anchored: bool = True, ruled: bool = True) -> dict:
    data = {"target": target, "anchor": "the words" if anchored else "", "severity": "major",
            "flaw_type": "unstated_assumption"}
    return {"id": cid, "kind": "critique", "persona": critic, "round": 1, "title": "objection", "text": "no",
            "data": data}


def _ruling(cid: str, target: str, votes: list[dict]) -> dict:
    return {"id": f"ruling-{cid}", "kind": "ruling", "persona": "jury", "round": 1, "title": "", "text": "",
            "data": {"critique": cid, "target": target, "outcome": "overruled" if votes else "contested",
                     "votes": votes}}


VOTE = [{"juror": "j", "vote": "overruled", "reason": "answered by the rebuttal"}]
RULE = coverage.CoverageRule(2, ("a", "b", "c"))


def test_examined_needs_coverage_and_every_anchored_critique_ruled():
    nodes = [_idea("x"), _critique("c1", "x", "a"), _critique("c2", "x", "b"),
             _critique("c3", "x", "c", anchored=False)]  # an unanchored comment needs no ruling
    edges = [{"src": "c1", "dst": "x", "kind": "attacks"}, {"src": "c2", "dst": "x", "kind": "attacks"},
             {"src": "c3", "dst": "x", "kind": "answers"}]
    one_ruled = ArgumentGraph(nodes + [_ruling("c1", "x", VOTE)], edges)
    per = coverage.ideas_coverage(one_ruled, RULE)["x"]
    assert per["critics"] == ["a", "b", "c"] and per["unruled"] == ["c2"] and per["examined"] is False
    summary = coverage.summary(one_ruled, RULE)
    assert summary["rulings"] is True and summary["unexamined"][0]["why"] == "critiques not ruled: c2"
    assert (summary["covered"], summary["examined"]) == (1, 0) and "no juror ruled on" in summary["note"]
    # A ruling nobody voted on (every juror failed, skipped it or only restated it) is no verdict: still unruled.
    no_vote = ArgumentGraph(nodes + [_ruling("c1", "x", VOTE), _ruling("c2", "x", [])], edges)
    assert coverage.ideas_coverage(no_vote, RULE)["x"]["unruled"] == ["c2"]
    both = ArgumentGraph(nodes + [_ruling("c1", "x", VOTE), _ruling("c2", "x", VOTE)], edges)
    assert coverage.ideas_coverage(both, RULE)["x"]["examined"] is True
    assert coverage.summary(both, RULE)["complete"] is True
    # Ruled but short of critics: the coverage rule still decides.
    short = ArgumentGraph([_idea("x"), _critique("c1", "x", "a"), _ruling("c1", "x", VOTE)],
                          [{"src": "c1", "dst": "x", "kind": "attacks"}])
    assert coverage.ideas_coverage(short, RULE)["x"]["examined"] is False


def test_without_rulings_the_coverage_rule_alone():
    # Critiques not written for rulings (tournament, deconfusion, older runs) carry no severity.
    legacy = [{"id": f"c{k}", "kind": "critique", "persona": p, "round": 1, "title": "", "text": "",
               "data": {"target": "x"}} for k, p in enumerate("ab")]
    g = ArgumentGraph([_idea("x")] + legacy, [{"src": c["id"], "dst": "x", "kind": "attacks"} for c in legacy])
    assert not coverage.rulings_apply(g)
    assert coverage.ideas_coverage(g, RULE)["x"] == {"critics": ["a", "b"], "critiques": 2, "required": 2,
                                                     "unruled": [], "examined": True, "defender": "p"}
    assert coverage.is_examined(2, 2, 3, rulings=False) and not coverage.is_examined(2, 2, 1, rulings=True)
    assert not coverage.is_examined(0, 0, 0, rulings=False)  # at least one critic, even with no one else


# --- red team: allocated attacks (pure) --------------------------------------------------------------------
def test_red_team_plan_covers_every_target_without_owner_or_defender():
    nodes = [_idea(f"i{k}", persona=f"prop{k % 2}") for k in range(5)]
    nodes.append({"id": "counter", "kind": "rebuttal", "persona": "def", "round": 1, "title": "counter", "text": "",
                  "data": {"action": "counter", "target": "c"}})
    critics = ["def", "prop0", "x", "y", "z"]
    plan = red_team.attack_plan(nodes, [], critics, "def", 1, min_critics=2, per_critic=1, seed=3)
    assert "def" not in plan  # the defender answers, it never attacks
    got = defaultdict(set)
    for critic, assigned in plan.items():
        for t in assigned:
            got[t].add(critic)
    assert set(got) == {f"i{k}" for k in range(5)} | {"counter"}
    assert all(len(c) >= 2 for c in got.values())
    assert all("prop0" not in got[f"i{k}"] for k in (0, 2, 4))  # nobody attacks their own idea
    assert plan == red_team.attack_plan(nodes, [], critics, "def", 1, min_critics=2, per_critic=1, seed=3)
    # A panel smaller than the rule: the one critic who is neither owner nor defender is all there is.
    small = red_team.attack_plan([_idea("i", "prop0")], [], ["def", "prop0", "x"], "def", 1, min_critics=2,
                                 per_critic=1, seed=3)
    assert small == {"prop0": [], "x": ["i"]}


def test_closing_plan_only_fills_what_is_short():
    nodes = [_idea("old", "p"), _critique("c1", "old", "a"), _critique("c2", "old", "b"),
             {**_idea("rev", "p"), "data": {"revises": "old"}}, _critique("c3", "rev", "c")]
    edges = [{"src": "rev", "dst": "old", "kind": "refines"}]
    plan = critique_routing.closing_plan(nodes, edges, ["a", "b", "c", "p"], 1, min_critics=2, seed=1)
    assigned = [(c, i) for c, ideas in plan.items() for i in ideas]
    assert len(assigned) == 1 and assigned[0][1] == "rev" and assigned[0][0] in ("a", "b")  # one more critic


# --- on the synthetic server ------------------------------------------------------------------------------
def test_red_team_attacks_are_allocated_and_prompted(store, synthetic_url):
    loaded = load_config(CONFIGS / "red_team.yaml")
    cfg = loaded.config
    rid = run_debate(store, loaded, synthetic_url)
    graph = load_graph(store, rid)
    calls = [json.loads(e.payload) for e in store.events(rid, kinds=("llm_call",))]
    attacks = [c for c in calls if c["phase"] == "attack" and "assigned" in c]
    assert attacks
    defender = cfg.protocol_options["defender"]
    for c in attacks:
        prompt = c["messages"][-1]["content"]
        # The round's call asks for one attack on each assigned idea; a cover re-ask (an idea the first answer
        # skipped) asks with the critique move's wording, one critique for each.
        assert c["persona"] != defender and ("one attack on EACH" in prompt
                                             or ("cover" in c["key"] and "one critique for EACH" in prompt))
        assert all(f"[{t}]" in prompt for t in c["assigned"])
    by_round = defaultdict(lambda: defaultdict(set))
    for n in graph.nodes.values():
        if n.kind == "critique" and not n.data.get("closing"):
            by_round[n.round][n.data["target"]].add(n.persona)
            assert n.data["assigned"] is True  # every attack was on an allocated target
    for rnd, got in by_round.items():
        assigned = defaultdict(set)
        for c in attacks:
            if c["round"] == rnd:
                for t in c["assigned"]:
                    assigned[t].add(c["persona"])
        assert assigned and all(len(who) >= 2 for who in assigned.values())  # min 2 distinct per target
        assert set(got) == set(assigned)  # every allocated target got its attacks (cover re-asks included)
    doc = show(store, rid)
    assert doc["coverage"]["critics_per_idea"]["min"] >= 2


def test_final_round_revisions_get_a_closing_pass_then_rulings(store, synthetic_url):
    loaded = parse_config(many_ideas_config(), source="many.yaml", base_dir=CONFIGS)
    rid = run_debate(store, loaded, synthetic_url)
    graph = load_graph(store, rid)
    revisions = [n for n in graph.ideas() if n.data.get("revises")]
    assert revisions  # the synthetic panel revises some ideas (seeded)
    closing = [n for n in graph.nodes.values() if n.kind == "critique" and n.data.get("closing")]
    assert closing and {n.data["target"] for n in closing} <= {n.id for n in revisions}
    for n in revisions:
        critics = {c.persona for c in graph.nodes.values() if c.kind == "critique" and c.data.get("target") == n.id}
        assert len(critics) >= 2 and n.data["champion"] not in critics
    attacking = {c for cs in coverage.anchored_critiques(graph).values() for c in cs}
    anchored = [c.id for c in closing if c.id in attacking]  # supports and unanchored comments need no ruling
    assert anchored and all(c in graph.rulings for c in anchored)  # ruled before the judge
    seq = {n.id: n.seq for n in graph.nodes.values()}
    judgement = next(n for n in graph.nodes.values() if n.kind == "judgement")
    assert max(seq[f"ruling-{c}"] for c in anchored) < judgement.seq
    calls = [json.loads(e.payload) for e in store.events(rid, kinds=("llm_call",))]
    close_calls = [c for c in calls if c.get("closing")]
    assert close_calls and all("close" in c["key"] for c in close_calls)
    assert all(len(c.get("assigned", [])) <= 4 for c in close_calls)  # batched like the round's critiques
    doc = show(store, rid)
    assert doc["coverage"]["added_after_last_critique"] == 0
    md = render("markdown", run_record(store, rid), graph)
    for idea in doc["ideas"]:
        if idea["unruled"]:
            assert "unruled: " in md


def test_a_budget_ending_in_the_closing_pass_says_so(store, synthetic_url):
    text = many_ideas_config()
    full = run_debate(store, parse_config(text, source="m.yaml", base_dir=CONFIGS), synthetic_url)
    calls = [json.loads(e.payload) for e in store.events(full, kinds=("llm_call",))]
    before = next(k for k, c in enumerate(calls) if c.get("closing"))
    # The same run (same seed, same answers) with calls for everything before the closing pass and one more.
    capped = run_debate(store, parse_config(text + f"budgets:\n  max_calls: {before + 1}\n", source="b.yaml",
                                            base_dir=CONFIGS), synthetic_url)
    doc = show(store, capped)
    cov = doc["coverage"]
    assert "max_calls" in doc["stats"]["stopped_by"]
    assert not cov["complete"] and "budget ended" in cov["note"]
    short = [u for u in cov["unexamined"] if u["critics"] < u["required"]]
    assert short and all("budget ended" in u["why"] for u in short)
    assert all(graph_idea["examined"] is False for graph_idea in doc["ideas"]
               if graph_idea["id"] in {u["id"] for u in short})
