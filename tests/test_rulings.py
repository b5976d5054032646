"""Each ruling outcome and its effect on status, concessions, overrides, rebuttal actions, juries."""

from __future__ import annotations

import json

import pytest

from gauntlet.graphs.argument.argument_graph import ArgumentGraph
from gauntlet.graphs.argument.rulings import outcome_of, ruling_edges, shot_down_by
from gauntlet.graphs.protocols.rebuttals import settled_action
from gauntlet.graphs.protocols.rulings import jurors_for, plan


def _node(id: str, kind: str, persona: str = "p", **data) -> dict:
    return {"id": id, "kind": kind, "persona": persona, "round": 1, "title": "", "text": id, "data": data}


def debate(outcome: str | None, severity: str = "fatal", reply: str | None = None, anchor: str = "words"):
    """An idea, one critique of it, optionally the author's reply to it and a ruling with `outcome`."""
    nodes = [_node("idea", "idea", "author"),
             _node("crit", "critique", "critic", critique_kind="objection", target="idea", anchor=anchor,
                   flaw_type="proxy_goodhart", severity=severity)]
    edges = [{"src": "crit", "dst": "idea", "kind": "attacks"}]
    counters = []
    if reply:
        nodes.append(_node("reb", "rebuttal", "author", action=reply, target="crit"))
        edges.append({"src": "reb", "dst": "crit", "kind": "attacks" if reply == "counter" else "supports"})
        counters = ["reb"] if reply == "counter" else []
    if outcome:
        nodes.append(_node("rul", "ruling", "juror", critique="crit", target="idea", outcome=outcome,
                           reason="because"))
        edges += ruling_edges("rul", "crit", outcome, counters)
    return nodes, edges


@pytest.mark.parametrize("outcome,reply,status", [
    (None, None, "standing"),            # pending: no ruling yet, the critique defeats nothing
    ("sustained", None, "shot_down"),
    ("sustained", "counter", "shot_down"),  # the ruling rejects the counter
    ("sustained", "concede", "shot_down"),  # a conceded, sustained fatal critique shoots the idea down
    ("overruled", None, "standing"),
    ("overruled", "concede", "standing"),   # the jury, not the author's concession alone, decides
    ("contested", None, "undecided"),       # a split jury leaves critique and idea undecided
    ("contested", "counter", "undecided"),
])
def test_ruling_outcome_decides_the_ideas_status(outcome, reply, status):
    graph = ArgumentGraph(*debate(outcome, reply=reply))
    assert graph.status("idea") == status
    assert bool(shot_down_by(graph, "idea")) == (status == "shot_down")


def test_shot_down_by_names_the_sustained_critique_with_its_evidence():
    (why,) = shot_down_by(ArgumentGraph(*debate("sustained")), "idea")
    assert why["id"] == "crit" and why["ruling"] == "sustained" and why["anchor"] == "words"
    assert why["flaw_type"] == "proxy_goodhart" and why["severity"] == "fatal" and why["reason"] == "because"


def test_overruled_critique_is_out_but_stays_in_the_graph():
    graph = ArgumentGraph(*debate("overruled"))
    assert graph.status("crit") == "shot_down" and ("rul", "crit") in graph.attacks
    assert any(e.src == "crit" and e.kind == "attacks" for e in graph.edges)  # still visible


@pytest.mark.parametrize("severity,anchor", [("minor", "words"), ("fatal", "")])
def test_minor_or_unanchored_critiques_defeat_nothing_even_when_sustained(severity, anchor):
    assert ArgumentGraph(*debate("sustained", severity=severity, anchor=anchor)).status("idea") == "standing"


@pytest.mark.parametrize("reply", [None, "concede"])
def test_a_contested_minor_critique_leaves_its_idea_undecided_not_standing(reply):
    """The critic's `minor` is an unscored label; until a ruling settles the critique, its idea is undecided (seen
    on the panel set: a textbook flaw labelled minor, conceded, the vote abstaining, the idea shown standing)."""
    graph = ArgumentGraph(*debate("contested", severity="minor", reply=reply))
    assert graph.status("idea") == "undecided" and ("crit", "idea") in graph.attacks
    assert ArgumentGraph(*debate("overruled", severity="minor", reply=reply)).status("idea") == "standing"


def test_a_reviewers_override_wins_over_the_ruling():
    nodes, edges = debate("sustained")
    override = [{"kind": "override", "node_id": "crit", "verdict": "invalid"}]
    assert ArgumentGraph(nodes, edges, override).status("idea") == "standing"
    graph = ArgumentGraph(*debate("overruled"), [{"kind": "override", "node_id": "idea", "verdict": "invalid"}])
    assert graph.status("idea") == "shot_down" and shot_down_by(graph, "idea")[0]["kind"] == "override"


def test_critiques_from_before_rulings_still_attack():
    nodes = [_node("idea", "idea"), _node("old", "critique", critique_kind="objection", target="idea")]
    assert ArgumentGraph(nodes, [{"src": "old", "dst": "idea", "kind": "attacks"}]).status("idea") == "shot_down"


def test_jury_outcome_is_unanimous_or_contested():
    assert outcome_of(["sustained", "sustained", "sustained"]) == "sustained"
    assert outcome_of(["overruled"]) == "overruled"
    assert outcome_of(["sustained", "overruled", "sustained"]) == "contested"
    assert outcome_of([]) == "contested"  # nobody could rule: abstain


def test_jurors_are_never_the_critic_or_the_targets_owner_and_calls_batch_per_target():
    pool = ["judge", "c1", "c2", "author"]
    assert jurors_for(pool, "judge", "author", 2) == ["c1", "c2"]
    nodes = [_node("idea", "idea", "author"),
             _node("k1", "critique", "c1", target="idea", anchor="w", severity="major"),
             _node("k2", "critique", "c2", target="idea", anchor="w", severity="fatal")]
    edges = [{"src": "k1", "dst": "idea", "kind": "attacks"}, {"src": "k2", "dst": "idea", "kind": "attacks"}]
    calls = plan(nodes, edges, pool, 2)
    assert calls == {("judge", "idea"): ["k1", "k2"], ("c2", "idea"): ["k1"], ("c1", "idea"): ["k2"]}


@pytest.mark.parametrize("action,text,claim,settled", [
    ("concede", "The criticism is wrong: honeypots are realistic.", "", "counter"),
    ("counter", "You are right, the probe can be evaded.", "", "concede"),
    ("revise", "We narrow the claim.", "", "concede"),
    ("revise", "We narrow the claim.", "Only for models below GPT-4 scale.", "revise"),
    ("counter", "The critique misreads the proposal.", "", "counter"),
    ("concede", "You are right, though the critique is wrong about scale.", "", "concede"),  # mixed: keep it
])
def test_rebuttal_action_follows_its_text(action, text, claim, settled):
    assert settled_action(action, text, claim)[0] == settled


def test_a_flaw_raised_by_several_critics_is_marked_recurring():
    nodes, edges = debate("sustained")
    nodes += [_node("crit2", "critique", "critic2", critique_kind="objection", target="idea", anchor="w",
                    flaw_type="proxy_goodhart", severity="major"),
              _node("rul2", "ruling", "juror", critique="crit2", target="idea", outcome="sustained", reason="r")]
    edges += [{"src": "crit2", "dst": "idea", "kind": "attacks"}] + ruling_edges("rul2", "crit2", "sustained", [])
    why = {d["id"]: d for d in shot_down_by(ArgumentGraph(nodes, edges), "idea")}
    assert why["crit"]["also_raised_by"] == ["critic2"] and why["crit2"]["also_raised_by"] == ["critic"]


def scored(vote: str | None) -> list[str]:
    """The scripted server answers of one scored juror vote: the question in both answer orders, then the
    content-free input in both orders (even odds), then an undecided severity question. `vote` sustained: Yes
    near-certain; overruled: No; None: a coin toss, which no calibration accepts."""
    lp = {"sustained": {"Yes": -0.01, "No": -6.0}, "overruled": {"Yes": -6.0, "No": -0.01},
          None: {"Yes": -0.69, "No": -0.7}}[vote]
    even = 'logprobs:{"Yes": -0.693, "No": -0.693}'
    # A sustained critique's severity is scored next: even odds there, so the critic's label stands.
    return [f"logprobs:{json.dumps(lp)}"] * 2 + [even, even] + [even] * 4


def rule_scripted(loaded, nodes: list, edges: list, reply: str | list[str], logprobs: dict | None = None) -> dict:
    """The rule move on these nodes against a real HTTP server whose scoring calls answer `reply` (in order), or
    by content (`logprobs`: a LogprobPlan, see gauntlet.testing.synthetic_logprobs)."""
    import asyncio
    from types import SimpleNamespace

    from gauntlet.agents.openai_backend import OpenAIBackend
    from gauntlet.graphs.protocols import rulings as rule_move
    from gauntlet.graphs.protocols.state import DebateContext
    from gauntlet.testing.synthetic_server import running_server

    async def go() -> dict:
        with running_server(script=[reply] if isinstance(reply, str) else reply, logprobs=logprobs) as url:
            llm = OpenAIBackend(url, "synthetic", backoff_s=0.01)
            try:
                ctx = DebateContext(run_id="t", config=loaded.config, personas=dict(loaded.personas), llm=llm)
                return await rule_move.rule({"nodes": nodes, "edges": edges, "round": 1},
                                            SimpleNamespace(context=ctx))
            finally:
                await llm.aclose()
    return asyncio.run(go())


def test_a_revision_faces_the_critique_it_claims_to_fix(demo):
    """The rule move (against a real HTTP server scoring a sustained vote) carries the critique to the revision
    that claimed to fix it."""
    nodes, edges = debate(None, reply="revise")
    nodes.append(_node("rev", "idea", "author", revises="idea", fixes=["crit"]))
    edges += [{"src": "rev", "dst": "idea", "kind": "refines"}, {"src": "reb", "dst": "rev", "kind": "supports"}]
    update = rule_scripted(demo, nodes, edges, scored("sustained"))
    assert {"src": "crit", "dst": "rev", "kind": "attacks"} in update["edges"]
    (ruling,) = update["nodes"]
    assert ruling["data"]["outcome"] == "sustained" and ruling["persona"] == "philosopher-of-science"
    # The revision is part of what the juror was shown as the author's answer.
    assert any("(revised to)" in m["content"] for m in update["calls"][0]["messages"])
    graph = ArgumentGraph(nodes + update["nodes"], edges + update["edges"])
    assert graph.status("rev") == "shot_down" and shot_down_by(graph, "rev")[0]["carried_from"] == "idea"


@pytest.mark.parametrize("vote,reason,settled", [
    ("overruled", "A well-known issue which the item does not address.", "sustained"),
    ("sustained", "The critique is off-target: the item never claims that.", "overruled"),
    ("sustained", "The objection holds for large models.", "sustained"),
])
def test_a_jurors_vote_follows_its_reason(vote, reason, settled):
    from gauntlet.graphs.protocols.rebuttals import settled_vote
    assert settled_vote(vote, reason)[0] == settled


def test_a_reason_that_restates_the_critique_is_an_echo():
    from gauntlet.graphs.protocols.rebuttals import echoes
    critique = "The optimised policy may not scale with increasing capability due to increased complexity."
    assert echoes("The optimised policy may not scale with increasing capability due to", critique)
    assert not echoes("Capability growth is exactly where reward hacking bites; the item ignores it.", critique)


def test_each_vote_is_a_calibrated_probability_and_below_the_threshold_an_abstention(demo):
    """Two critiques: the juror's scores make one a clear sustained vote and leave the other a coin toss. The clear
    one rules; the other is an abstention that still shows p, so its critique stays contested (defeats nothing)."""
    nodes, edges = debate(None)
    nodes.append(_node("crit2", "critique", "critic2", critique_kind="objection", target="idea", anchor="other",
                       flaw_type="does_not_scale", severity="major"))
    edges.append({"src": "crit2", "dst": "idea", "kind": "attacks"})
    # The jurors' calls run concurrently, so the server answers by content: the quoted words tell them apart.
    plan = {"when": [['"N/A"', {"Yes": -0.693, "No": -0.693}], ['"words"', {"Yes": -0.01, "No": -6.0}],
                     ['"other"', {"Yes": -0.69, "No": -0.7}]]}
    update = rule_scripted(demo, nodes, edges, [], logprobs=plan)
    by_critique = {n["data"]["critique"]: n["data"] for n in update["nodes"]}
    sure, unsure = by_critique["crit"], by_critique["crit2"]
    assert sure["outcome"] == "sustained" and sure["votes"][0]["p_sustained"] > 0.99
    assert sure["votes"][0]["accepted"] and sure["calibration"].startswith("default-rulings")
    assert sure["threshold"] == 0.9 and "has no rulings calibration" in sure["votes"][0]["note"]
    assert unsure["outcome"] == "contested" and not unsure["votes"]
    (abstention,) = unsure["abstained"]
    assert abstention["p_sustained"] == pytest.approx(0.5, abs=0.01)
    assert "below the threshold" in abstention["abstained"]
    assert unsure["reason"].startswith("no vote reached its threshold")
    graph = ArgumentGraph(nodes + update["nodes"], edges + update["edges"])
    assert graph.status("crit2") == "undecided" and graph.status("idea") == "shot_down"
    votes = [c for c in update["calls"] if c.get("question") != "severity"]  # + the sustained one's severity
    assert len(votes) == 2 and len(update["calls"]) == 3
    assert all(c["scored"] and len(c["passes"]) == 4 for c in update["calls"])


def test_a_backend_without_probabilities_never_rules(demo):
    """A server without logprobs: the juror's pick is generated, unscored, and so an abstention."""
    import asyncio
    from types import SimpleNamespace

    from gauntlet.agents.openai_backend import OpenAIBackend
    from gauntlet.graphs.protocols import rulings as rule_move
    from gauntlet.graphs.protocols.state import DebateContext
    from gauntlet.testing.synthetic_server import running_server

    nodes, edges = debate(None)

    async def go(url):
        llm = OpenAIBackend(url, "synthetic", backoff_s=0.01)
        try:
            ctx = DebateContext(run_id="t", config=demo.config, personas=dict(demo.personas), llm=llm)
            return await rule_move.rule({"nodes": nodes, "edges": edges, "round": 1}, SimpleNamespace(context=ctx))
        finally:
            await llm.aclose()
    with running_server(logprobs={"mode": "none"}) as url:
        update = asyncio.run(go(url))
    (ruling,) = update["nodes"]
    assert ruling["data"]["outcome"] == "contested" and not ruling["data"]["votes"]
    assert ruling["data"]["abstained"][0]["abstained"].startswith("unscored")


@pytest.mark.parametrize("serious,given,decided,status", [
    (True, "minor", "major", "shot_down"),    # the critic under-rated a flaw the jury scores serious
    (False, "fatal", "minor", "standing"),    # scored a revision request: it no longer defeats
    (None, "minor", "minor", "standing"),     # an undecided severity score keeps the critic's label
])
def test_a_sustained_critiques_severity_is_scored(demo, serious, given, decided, status):
    nodes, edges = debate(None, severity=given)
    sev = {True: {"Yes": -0.01, "No": -6.0}, False: {"Yes": -6.0, "No": -0.01}, None: {"Yes": -0.7, "No": -0.69}}
    plan = {"when": [['"N/A"', {"Yes": -0.693, "No": -0.693}], ["Suppose the critique is right", sev[serious]],
                     ['"words"', {"Yes": -0.01, "No": -6.0}]]}
    update = rule_scripted(demo, nodes, edges, [], logprobs=plan)
    (ruling,) = update["nodes"]
    assert ruling["data"]["outcome"] == "sustained" and ruling["data"]["severity"] == decided
    score = ruling["data"]["severity_score"]
    assert score["given"] == given and score["accepted"] == (serious is not None)
    assert [c.get("question") for c in update["calls"]] == [None, "severity"]
    assert ArgumentGraph(nodes + update["nodes"], edges + update["edges"]).status("idea") == status


def test_only_a_revision_writes_the_revised_fields():
    """The rebuttal schema's variants per action: a counter or concession never generates the two empty revised
    fields, a revision must give them, and every answer still validates as a RebuttalItem."""
    from gauntlet.agents.schemas import RebuttalSet, rebuttal_schema

    variants = rebuttal_schema(["c1", "c2"])["properties"]["responses"]["items"]["anyOf"]
    by_action = {v["properties"]["action"]["enum"][0]: v for v in variants}
    assert set(by_action) == {"concede", "revise", "counter"}
    assert {"revised_title", "revised_claim"} <= set(by_action["revise"]["required"])
    for action in ("concede", "counter"):
        assert "revised_claim" not in by_action[action]["properties"]
        assert by_action[action]["properties"]["target"]["enum"] == ["c1", "c2"]
    rs = RebuttalSet.model_validate({"responses": [{"target": "c1", "action": "counter", "text": "It misreads."}]})
    assert rs.responses[0].revised_claim == "" and settled_action("counter", rs.responses[0].text, "")[0] == "counter"


def test_a_probe_calibration_on_a_backend_without_hidden_states_gives_way_to_the_default(demo, tmp_path,
                                                                                         monkeypatch):
    """The juror model's calibration weighs a linear probe (agents/probe.py), but this backend (a real HTTP server)
    gives no hidden states: the vote uses the shipped default and says why, instead of reading a feature it cannot
    compute."""
    import numpy as np

    from gauntlet.agents.calibration import save_calibration
    from gauntlet.agents.probe import fit_probe
    from gauntlet.agents.scoring import Calibration

    rng = np.random.default_rng(0)
    probe = fit_probe(rng.normal(size=(20, 8)), [bool(i % 2) for i in range(20)], layer=3, question="margin")
    cal = Calibration(id="rulings-probe-test", model="synthetic", task="rulings", labels=("sustained", "overruled"),
                      features=["probe"], weights=[0.0, 1.0], thresholds={"sustained": 0.6, "overruled": 0.6},
                      probe=probe.to_dict())
    save_calibration(cal, tmp_path)
    monkeypatch.setenv("GAUNTLET_CALIBRATIONS", str(tmp_path))
    nodes, edges = debate(None)
    update = rule_scripted(demo, nodes, edges, scored("sustained"))
    (ruling,) = update["nodes"]
    vote = (ruling["data"]["votes"] or ruling["data"]["abstained"])[0]
    assert vote["calibration"].startswith("default-rulings")
    assert "rulings-probe-test weighs probe" in vote["note"]
