"""Every idea faces the panel: allocated critique coverage, a defender for every idea, blind order-free judging."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest

from gauntlet.agents.openai_backend import OpenAIBackend
from gauntlet.agents.persona import library
from gauntlet.errors import InputError
from gauntlet.graphs.argument.coverage import status_mark
from gauntlet.graphs.protocols import allocation, blind, echo, rebuttal_moves
from gauntlet.graphs.protocols.state import DebateContext
from gauntlet.graphs.run.loading import parse_config
from gauntlet.graphs.store.export import render
from gauntlet.graphs.store.views import load_graph, run_record, show
from gauntlet.testing.synthetic_server import running_server
from tests.conftest import ROOT, run_debate

STYLES = sorted(library())


# --- allocation (pure) ------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_ideas,n_critics,min_critics,per_critic", [
    (400, 150, 2, 2),   # hundreds of both
    (300, 7, 3, 2),     # few critics: coverage beats the per-critic cap, loads rise evenly
    (5, 300, 2, 1),     # many critics, few ideas
])
def test_allocation_leaves_no_idea_out(n_ideas, n_critics, min_critics, per_critic):
    ideas = [f"idea-{k}" for k in range(n_ideas)]
    critics = [f"critic-{k}" for k in range(n_critics)]
    owners = {i: critics[k % n_critics] for k, i in enumerate(ideas)}
    plan = allocation.allocate(ideas, owners, critics, min_critics=min_critics, per_critic=per_critic, seed=3)
    got: dict[str, set[str]] = {i: set() for i in ideas}
    for critic, assigned in plan.items():
        assert len(assigned) == len(set(assigned))  # no idea twice to one critic
        for i in assigned:
            assert owners[i] != critic  # nobody critiques their own idea
            got[i].add(critic)
    assert min(len(c) for c in got.values()) >= min_critics
    loads = [len(a) for a in plan.values()]
    need = n_ideas * min_critics
    if need > n_critics * per_critic:  # the rule needs more than the cap: every critic carries its share
        assert max(loads) - min(loads) <= 1
    else:
        assert max(loads) <= per_critic
    assert plan == allocation.allocate(ideas, owners, critics, min_critics=min_critics, per_critic=per_critic,
                                       seed=3)  # the seed decides
    assert plan != allocation.allocate(ideas, owners, critics, min_critics=min_critics, per_critic=per_critic,
                                       seed=4)


def test_allocation_the_issue_case_and_a_small_panel():
    # Three ideas, four critics at two critiques each: all eight critiques spread, none left out.
    plan = allocation.allocate(["off", "approval", "oracle"], {}, list("abcd"), min_critics=2, per_critic=2, seed=7)
    per_idea = Counter(i for a in plan.values() for i in a)
    assert set(per_idea) == {"off", "approval", "oracle"} and min(per_idea.values()) >= 2
    assert sum(per_idea.values()) == 8
    # A panel smaller than the rule: two critics, one of them the owner -> one critic is all there is.
    assert allocation.required("a", ["a", "b"], 2) == 1
    plan = allocation.allocate(["x"], {"x": "a"}, ["a", "b"], min_critics=2, per_critic=1, seed=1)
    assert plan == {"a": [], "b": ["x"]}


def test_later_ideas_are_allocated_and_earlier_critics_count():
    critics = list("abcdef")
    seen = {"old": {"a", "b"}}  # examined in an earlier round
    plan = allocation.allocate(["old", "revised"], {"revised": "c"}, critics, min_critics=2, per_critic=1,
                               seed=5, seen=seen)
    revised_critics = {c for c, a in plan.items() if "revised" in a}
    assert len(revised_critics) >= 2 and "c" not in revised_critics
    assert not {c for c, a in plan.items() if "old" in a} & {"a", "b"}  # no repeat critique of the same idea


def test_prompt_order_is_shuffled_per_call_and_batches_cap_a_call():
    ideas = [f"i{k}" for k in range(6)]
    orders = {tuple(allocation.shuffled(ideas, 1, f"r1/critique/{c}")) for c in "abcdefgh"}
    assert len(orders) > 1  # position is not the same in every prompt
    assert allocation.shuffled(ideas, 1, "k") == allocation.shuffled(ideas, 1, "k")
    assert [len(b) for b in allocation.batches(list(range(10)))] == [4, 4, 2]


def test_champions_named_balanced_and_recorded():
    picks = allocation.champions(["p2", None, None, None], ["p1", "p2"], ["c1"], seed=2)
    assert picks[0] == ("p2", "config")
    protocol = [p for p, src in picks[1:] if src == "protocol"]
    assert len(protocol) == 3 and Counter(protocol + ["p2"])["p1"] == 2  # balanced: p2 already defends one
    assert {p for p, _ in allocation.champions([None, None], [], ["c1", "c2"], seed=2)} == {"c1", "c2"}


# --- rebuttal echoes, blind judging (pure) ----------------------------------------------------------------
def test_echo_detection():
    crit = "The off switch fails because a capable system has an incentive to disable it before it is pressed."
    assert echo.is_echo(crit, crit)
    assert echo.is_echo("I concede: " + crit.lower(), crit)
    assert echo.is_echo("the off switch fails because a capable system has incentive to disable it", crit)
    assert not echo.is_echo("Corrigibility training removes that incentive; the button is tested in red-team "
                            "drills before deployment.", crit)
    assert echo.is_echo("", crit)


def test_blind_labels_scrub_and_stand_in():
    pattern = blind.scrubber(["ml-empiricist", "ML Empiricist", "security-engineer"])
    assert blind.scrub("As the ML empiricist said, and ml-empiricist agrees", pattern).count(blind.REDACTED) == 2
    labels = blind.labels_for(["r1-idea-a", "r1-idea-b", "seed-1"], 1, "k")
    assert sorted(labels) == ["I1", "I2", "I3"] and sorted(labels.values()) == ["r1-idea-a", "r1-idea-b", "seed-1"]
    assert blind.impartial("judge", {"p"}, ["p", "q"], 1, "k") == "judge"
    assert blind.impartial("judge", {"judge"}, ["judge", "p", "q"], 1, "k") in ("p", "q")
    assert blind.decided("a", "a") == "a" and blind.decided("a", "b") is None
    # The judge never scores an idea it defends: a stand-in does; nobody reads ids or names on the sheet.
    ideas = [{"id": "r1-idea-judge", "title": "Mine", "text": "judge wrote this"},
             {"id": "seed-1", "title": "Theirs", "text": "by ml-empiricist"}]
    groups = blind.panels(ideas, {"r1-idea-judge": "judge", "seed-1": "p"}, "judge", ["judge", "p", "q"], 1, 1)
    stand_in = next(k for k in groups if k != "judge")
    assert [n["id"] for n in groups["judge"]] == ["seed-1"] and [n["id"] for n in groups[stand_in]] == ["r1-idea-judge"]
    labels, order, blocks = blind.sheet(ideas, {"r1-idea-judge": "standing", "seed-1": "shot_down"},
                                        {"r1-idea-judge": False, "seed-1": True}, {}, pattern, 1, "k")
    assert sorted(order) == sorted(labels) == ["I1", "I2"]
    text = "\n".join(blocks.values())
    assert "r1-idea" not in text and "seed-1" not in text and "ml-empiricist" not in text and "UNEXAMINED" in text


# --- a debate with many ideas and critics, on a real HTTP model server ------------------------------------
def many_ideas_config(extra: str = "") -> str:
    seeds = "".join(f"  - title: Seed idea {k}\n    claim: Proposal number {k} for overseeing a capable model.\n"
                    for k in range(12))
    critics = STYLES[:8]
    return (f"topic: oversight of capable models\nseed: 5\nrounds: 1\nseed_proposals:\n{seeds}"
            f"panel:\n  proposers: [{STYLES[8]}, {STYLES[9]}]\n  critics: [{', '.join(critics)}]\n"
            f"  judge: {STYLES[10]}\nprovers:\n  enabled: false\ncritiques_per_critic: 2\n" + extra)


@pytest.fixture
def many(store, synthetic_url):
    loaded = parse_config(many_ideas_config(), source="many.yaml", base_dir=ROOT / "runs" / "configs")
    return loaded, run_debate(store, loaded, synthetic_url)


def test_many_ideas_every_one_is_examined(store, many):
    loaded, rid = many
    doc = show(store, rid)
    graph = load_graph(store, rid)
    revisions = {e.src for e in graph.edges if e.kind == "refines"}  # born in the rebuttals: the closing pass
    originals = [i for i in doc["ideas"] if i["id"] not in revisions]
    assert len(originals) == 14 and revisions
    for idea in doc["ideas"]:  # revisions too: the closing pass gave them their critics
        assert len(idea["critics"]) >= 2, idea
        assert idea["defender"] not in idea["critics"]  # nobody critiques what they defend
        # Examined = covered and every anchored critique ruled; the synthetic juror sometimes rules one critique
        # twice and skips another, which leaves that one without a vote, and the idea unexamined.
        assert idea["examined"] == (not idea["unruled"]), idea
        for c in idea["unruled"]:
            assert not graph.rulings.get(c, {}).get("votes")
    cov = doc["coverage"]
    assert cov["rulings"] is True and cov["ideas"] == len(doc["ideas"]) and cov["critics_per_idea"]["min"] >= 2
    assert all(u["why"].startswith("critiques not ruled") for u in cov["unexamined"])
    assert cov["allocated"]["ideas"] == len(doc["ideas"]) and cov["allocated"]["min_critics"] >= 2
    # persona_stats: critiques given add up to critiques received, per persona and idea.
    stats = {r["persona"]: r for r in doc["persona_stats"]}
    given = sum(r["critiques_given"] for r in stats.values())
    assert given == sum(r["critiques_received"] for r in stats.values()) > 0
    assert given == sum(sum(r["given_by_idea"].values()) for r in stats.values())


def test_defenders_are_authors_or_champions(store, many):
    loaded, rid = many
    graph = load_graph(store, rid)
    seeds = [n for n in graph.ideas() if n.persona == "seed"]
    assert all(n.data["champion"] in loaded.config.panel.proposers and n.data["champion_source"] == "protocol"
               for n in seeds)
    assert Counter(n.data["champion"] for n in seeds) == Counter({p: 6 for p in loaded.config.panel.proposers})
    for n in graph.nodes.values():
        if n.kind == "rebuttal":
            critique = graph.nodes[n.data["target"]]
            attacked = graph.nodes[critique.data["target"]]
            assert n.persona == (attacked.data.get("champion") or attacked.persona)


def test_judge_prompt_is_blind_and_every_idea_scored(store, many):
    loaded, rid = many
    calls = [json.loads(e.payload) for e in store.events(rid, kinds=("llm_call",))]
    judge = [c for c in calls if c["phase"] == "judge"]
    assert judge
    names = set(loaded.personas) | {p.label for p in loaded.personas.values()}
    graph = load_graph(store, rid)
    for c in judge:
        prompt = c["messages"][-1]["content"]
        assert not [n for n in names if n.lower() in prompt.lower()]  # no author names
        assert not [i for i in graph.nodes if f"[{i}]" in prompt or i in prompt.split()]  # no ids either
        assert "rubric" in prompt
    scored = {s["target"] for n in graph.nodes.values() if n.kind == "judgement" for s in n.data["scores"]}
    revised = {e.dst for e in graph.edges if e.kind == "refines"}
    assert {n.id for n in graph.ideas() if n.id not in revised} == scored
    # Critique prompts list the assigned ideas in a per-call order: not every critic saw them in id order.
    crit = [c for c in calls if c["phase"] == "critique" and len(c.get("assigned", [])) > 1]
    assert any(c["assigned"] != sorted(c["assigned"]) for c in crit)


def test_budget_ending_before_coverage_says_so(store, synthetic_url):
    loaded = parse_config(many_ideas_config("budgets:\n  max_calls: 3\n"), source="b.yaml",
                          base_dir=ROOT / "runs" / "configs")
    rid = run_debate(store, loaded, synthetic_url)
    doc = show(store, rid)
    cov = doc["coverage"]
    assert not cov["complete"] and "budget ended" in cov["note"]
    assert all("budget" in u["why"] for u in cov["unexamined"])
    md = render("markdown", run_record(store, rid), load_graph(store, rid))
    unexamined_standing = [i for i in doc["ideas"] if not i["examined"] and i["status"] == "standing"]
    assert unexamined_standing and "standing (unexamined)" in md and "budget ended" in md
    assert status_mark("standing", False) == "standing (unexamined)"
    exported = json.loads(render("json", run_record(store, rid), load_graph(store, rid)))
    assert exported["coverage"]["complete"] is False
    assert any(n.get("examined") is False for n in exported["nodes"] if n["kind"] == "idea")


def test_champion_must_be_on_the_panel(tmp_path):
    text = ("topic: t\npanel:\n  proposers: [ml-empiricist]\n  critics: [security-engineer]\n"
            "seed_proposals:\n  - title: x\n    claim: y\n    champion: linguist\n")
    with pytest.raises(InputError, match="champion 'linguist' is not on the panel"):
        parse_config(text, source="c.yaml", base_dir=tmp_path)


def test_a_rebuttal_that_repeats_its_critique_is_reasked_then_dropped():
    crit_text = "Operators will not press the button in time because the system hides misbehaviour."
    echo_reply = json.dumps({"responses": [{"target": "c1", "action": "counter", "text": crit_text,
                                            "revised_title": "", "revised_claim": ""},
                                           {"target": "c2", "action": "counter", "text": "It does not hide it.",
                                            "revised_title": "", "revised_claim": ""}]})
    cases = {"fixed": json.dumps({"responses": [{"target": "c1", "action": "concede",
                                                 "text": "Right: detection lags, so the switch alone is not enough.",
                                                 "revised_title": "", "revised_claim": ""}]}),
             "still": echo_reply}
    loaded = parse_config("topic: t\npanel:\n  proposers: [ml-empiricist]\n  critics: [security-engineer]\n",
                          source="c.yaml", base_dir=ROOT / "runs" / "configs")
    msgs = [{"role": "user", "content": "answer"}]
    for case, second in cases.items():
        with running_server(script=[echo_reply, second]) as url:
            async def go():
                llm = OpenAIBackend(url, "synthetic", backoff_s=0.01)
                try:
                    ctx = DebateContext("r", loaded.config, loaded.personas, llm)
                    return await rebuttal_moves.answer_without_echo(ctx, "ml-empiricist", 1, msgs, ["c1", "c2"],
                                                           {"c1": crit_text, "c2": "Another critique."})
                finally:
                    await llm.aclose()
            rs, calls, dropped = asyncio.run(go())
        assert len(calls) == 2 and "repeated the critique" in calls[1]["messages"][-1]["content"]
        # the re-ask continues the first conversation (its prompt is then a cached prefix): the echo, then the note
        assert calls[1]["messages"][:-2] == msgs and calls[1]["messages"][-2] == {"role": "assistant",
                                                                                 "content": echo_reply}
        kept = {r.target: r.text for r in rs.responses}
        assert kept["c2"] == "It does not hide it."
        if case == "fixed":
            assert kept["c1"].startswith("Right") and not dropped
        else:
            assert "c1" not in kept and dropped[0]["target"] == "c1"


def test_revisions_are_allocated_in_the_next_round(store, synthetic_url):
    loaded = parse_config(many_ideas_config().replace("rounds: 1", "rounds: 2"), source="two.yaml",
                          base_dir=ROOT / "runs" / "configs")
    rid = run_debate(store, loaded, synthetic_url)
    graph = load_graph(store, rid)
    cov = show(store, rid)["coverage"]
    assert cov["allocated"]["min_critics"] >= 2 and cov["critics_per_idea"]["min"] >= 2
    early_revisions = [n for n in graph.ideas() if n.data.get("revises") and n.round == 1]
    assert early_revisions  # the synthetic panel revises some ideas in round 1 (seeded)
    per = {i["id"]: i for i in show(store, rid)["ideas"]}
    for n in early_revisions:  # born after round 1's critiques, critiqued in round 2
        assert len(per[n.id]["critics"]) >= 2 and per[n.id]["examined"] == (not per[n.id]["unruled"])
        assert any(c.round == 2 and c.data.get("target") == n.id for c in graph.nodes.values()
                   if c.kind == "critique" and not c.data.get("closing"))
