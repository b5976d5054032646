"""Provers inside a debate: the formalise move turns a false claim into a `refuted` node that attacks the claim
and the idea resting on it, and the idea's status flips to shot_down."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from langgraph.runtime import Runtime

from gauntlet.config import ModelConfig, ProverConfig

from gauntlet.graphs.run.loading import LoadedConfig, load_config, parse_config
from gauntlet.errors import InputError
from gauntlet.graphs.argument.argument_graph import ArgumentGraph
from gauntlet.graphs.protocols.formalise_move import formalise, pending_claims
from gauntlet.graphs.protocols.toolkit import edge, node
from gauntlet.graphs.protocols.state import DebateContext

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "runs/configs/false_claim.yaml"
FALSE = "(declare-const x Real)\n(assert (not (>= (* x x) x)))"
TRUE = "(declare-const a Real)(declare-const b Real)(assert (not (>= (+ (* a a) (* b b)) (* 2.0 a b))))"
has_server = pytest.mark.skipif(importlib.util.find_spec("gauntlet.testing.synthetic_server") is None
                                or importlib.util.find_spec("fastapi") is None,
                                reason="needs testing/synthetic_server.py and `pip install -e .[test]` (fastapi, "
                                       "uvicorn) for a real OpenAI-compatible peer")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAUNTLET_PROVER_CACHE", str(tmp_path / "prover-cache.sqlite"))


def _ctx(llm: Any = None, **provers: Any) -> DebateContext:
    loaded = load_config(CONFIG)
    cfg = loaded.config.model_copy(update={"provers": ProverConfig(**{"timeout_s": 10, **provers})})
    return DebateContext(run_id="t", config=cfg, personas=dict(loaded.personas), llm=llm)


def _state(smtlib: str | None, text: str = "for every real x, x*x >= x") -> dict[str, Any]:
    data = {"smtlib": smtlib} if smtlib else {}
    nodes = [node("i1", "idea", "ml-empiricist", 1, "Squares dominate", "penalise e*e"),
             node("i1-claim1", "claim", "ml-empiricist", 1, "", text, **data)]
    return {"round": 1, "nodes": nodes, "edges": [edge("i1-claim1", "i1", "supports")]}


def _apply(state: dict[str, Any], update: dict[str, Any]) -> ArgumentGraph:
    return ArgumentGraph(state["nodes"] + update.get("nodes", []), state["edges"] + update.get("edges", []))


def test_false_claim_is_refuted_and_idea_shot_down() -> None:
    state = _state(FALSE)
    assert ArgumentGraph(state["nodes"], state["edges"]).status("i1") == "standing"
    update = asyncio.run(formalise(state, Runtime(context=_ctx())))
    [result] = update["nodes"]
    assert result["id"] == "i1-claim1-formal" and result["kind"] == "formal_result"
    d = result["data"]
    assert d["verdict"] == "refuted" and d["prover"] == "z3" and d["counterexample"] == {"x": "1/2"}
    assert d["checked_on"] == "local"  # provers.pool's default
    assert d["claim_text"] and d["smtlib"] == FALSE  # words and formal text travel together for the reviewer
    kinds = {(e["src"], e["kind"], e["dst"]) for e in update["edges"]}
    assert kinds == {("i1-claim1-formal", "formalises", "i1-claim1"), ("i1-claim1-formal", "attacks", "i1-claim1"),
                     ("i1-claim1-formal", "attacks", "i1")}
    graph = _apply(state, update)
    assert graph.status("i1") == "shot_down" and graph.status("i1-claim1") == "shot_down"
    assert update["calls"] == []  # the formalisation was given: no LLM call
    # Nothing left to formalise: the protocol will not route here again for this claim.
    assert pending_claims(state["nodes"] + update["nodes"], state["edges"] + update["edges"]) == []


def test_true_claim_is_proved_and_supports() -> None:
    state = _state(TRUE, "a^2 + b^2 >= 2ab")
    update = asyncio.run(formalise(state, Runtime(context=_ctx())))
    assert update["nodes"][0]["data"]["verdict"] == "proved"
    assert ("i1-claim1-formal", "supports", "i1-claim1") in {(e["src"], e["kind"], e["dst"]) for e in update["edges"]}
    assert _apply(state, update).status("i1") == "standing"


def test_disabled_provers_do_nothing() -> None:
    assert asyncio.run(formalise(_state(FALSE), Runtime(context=_ctx(enabled=False)))) == {}


def test_seed_formalisation_from_config_reaches_the_claim() -> None:
    from gauntlet.graphs.protocols.skeleton import open_debate
    ctx = _ctx()
    opened = open_debate({}, Runtime(context=ctx))
    state = {"round": 1, **opened}
    update = asyncio.run(formalise(state, Runtime(context=ctx)))
    [result] = update["nodes"]
    assert result["id"] == "seed-1-claim1-formal" and result["data"]["verdict"] == "refuted"
    assert result["data"]["assumptions"] == ["the error e ranges over all real numbers"]
    assert _apply(state, update).status("seed-1") == "shot_down"


def test_seed_claim_items_keep_configs_backwards_compatible() -> None:
    plain_yaml = ("topic: t\nseed_proposals:\n  - title: a\n    claim: b\n    math_claims: [\"1 + 1 = 2\"]\n"
                  "panel:\n  critics: [security-engineer]\n")
    plain = parse_config(plain_yaml, "plain.yaml", ROOT / "runs/configs")
    assert plain.config.seed_proposals[0].formal_claims == []
    assert plain.config.seed_proposals[0].math_claims == ["1 + 1 = 2"]
    demo = parse_config((ROOT / "runs/configs/demo.yaml").read_text(), "demo.yaml", ROOT / "runs/configs")
    assert demo.config.seed_proposals[0].formal_claims[0].smtlib.startswith("(declare-const p Real)")
    bad = CONFIG.read_text().replace("        smtlib: |", "        smt: |")
    with pytest.raises(InputError) as exc:
        parse_config(bad, "false_claim.yaml", CONFIG.parent)
    msg = exc.value.one_line()
    assert "\n" not in msg and "'smt'" in msg and "seed_proposals" in msg


def _formalise_over_http(replies: list[str], dialect: str = "openai") -> dict[str, Any]:
    """The formalise move with the formaliser agent behind a real HTTP server that answers `replies` in order.
    The `openai` dialect refuses grammars, so stage 2 falls back to its JSON schema; `llamacpp` takes the grammar
    (the synthetic server does not decode under it: the scripted text is what comes back)."""
    from gauntlet.agents.openai_backend import OpenAIBackend
    from gauntlet.testing.synthetic_server import running_server
    with running_server(script=replies, dialect=dialect) as url:
        async def go() -> dict[str, Any]:
            llm = OpenAIBackend.from_config(ModelConfig(backend="openai", base_url=url, name="synthetic"))
            try:
                return await formalise(_state(None), Runtime(context=_ctx(llm=llm)))
            finally:
                await llm.aclose()
        return asyncio.run(go())


# Stage 1 (the symbols, JSON; each meaning made of the claim's words) and stage 2 (the formula) of the formaliser.
SYMBOLS = json.dumps({"formalisable": True, "reason": "", "variables": [{"name": "x", "sort": "Real",
                                                                         "meaning": "real x"}]})


def _formula(conclusion: str, dialect: str) -> str:
    """A stage-2 answer in the dialect's shape: JSON under the schema, `Show:` lines under the grammar."""
    return json.dumps({"hypotheses": [], "conclusion": conclusion}) if dialect == "openai" else f"Show: {conclusion}"


@has_server
def test_formaliser_agent_over_http_then_gate_then_z3() -> None:
    back = json.dumps({"statement": "for every real x, x times x is at least x"})
    # The back-translation judge is scored (first-token log-probabilities): "the same? Yes", "any difference? No".
    same_yes = 'logprobs:{"Yes": -0.05, "No": -4.0}'
    differ_no = 'logprobs:{"Yes": -4.0, "No": -0.05}'
    holds = json.dumps({"reason": "0.5 squared is 0.25, less than 0.5", "answer": False})
    breaks = json.dumps({"reason": "x = 0.5 breaks it", "answer": True})
    control = json.dumps({"reason": "at this x the square is at least x", "answer": True})
    update = _formalise_over_http([SYMBOLS] + [_formula("(>= (* x x) x)", "openai")] * 3
                                  + [back, same_yes, differ_no, holds, breaks, control])
    d = update["nodes"][0]["data"]
    assert d["verdict"] == "refuted" and d["formalised_by"] == "formaliser" and d["counterexample"] == {"x": "1/2"}
    assert d["smtlib"].endswith("(assert (not (>= (* x x) x)))\n(check-sat)")
    assert {c["check"] for c in d["checks"]} == {"triage", "unanimity", "agreement", "back_translation", "witness"}
    assert all(c["passed"] for c in d["checks"])
    judged = next(c for c in d["checks"] if c["check"] == "back_translation")
    assert "P(same) = 0.98" in judged["reason"]
    assert [c["phase"] for c in update["calls"]] == ["formalise"] * 10
    assert [c["key"].rsplit("/", 1)[1] for c in update["calls"]] == [
        "symbols", "candidate-1", "candidate-2", "candidate-3", "back-translation", "judge-same-(scored)",
        "judge-differ-(scored)", "witness-holds", "witness-breaks", "witness-control"]


@has_server
@pytest.mark.parametrize("dialect", ["openai", "llamacpp"])
def test_hostile_formaliser_output_is_refused_not_run(dialect: str) -> None:
    """SMT commands smuggled into a formula (as JSON under the schema, or as a `Show:` line from a server that
    ignored the grammar) are refused by the gate's parse check, after the one repair, and never run."""
    hostile = '(> x 0)) (set-option :regular-output-channel "/tmp/pwn") (assert false'
    update = _formalise_over_http([SYMBOLS] + [_formula(hostile, dialect)] * 4, dialect=dialect)
    d = update["nodes"][0]["data"]
    assert d["verdict"] == "rejected" and not Path("/tmp/pwn").exists()
    assert any(c["check"] == "parse" and not c["passed"] for c in d["checks"])
    assert d["smtlib"] is None and d["counterexample"] is None  # no script was accepted, so none was run
    assert d["candidates"][0]["candidate"]["conclusion"] == hostile and d["candidates"][0]["repairs"] == 1
    assert [e["kind"] for e in update["edges"]] == ["formalises"]  # an abstention attacks nothing
    # The first failing candidate under unanimity stops the claim: symbols, the formula, its one repair.
    assert [c["key"].rsplit("/", 1)[1] for c in update["calls"]] == ["symbols", "candidate-1",
                                                                     "candidate-1-repair-1"]
    # Under the grammar the formula really was asked for with it (the grammar path, not the JSON fallback).
    assert update["calls"][1].get("decoding") == ("grammar" if dialect == "llamacpp" else None)


@has_server
def test_debate_refutes_false_claim_and_flips_the_idea(tmp_path: Path) -> None:
    from gauntlet.testing.synthetic_server import running_server
    from gauntlet.graphs.run.runner import Runner
    from gauntlet.graphs.store.store import Store
    from gauntlet.graphs.store.views import load_graph, show
    loaded = load_config(CONFIG)
    store = Store(str(tmp_path / "runs.sqlite"))
    with running_server() as url:
        cfg = loaded.config.model_copy(update={"model": ModelConfig(backend="openai", base_url=url,
                                                                    name="synthetic")})
        run_id = asyncio.run(Runner(store).start(LoadedConfig(config=cfg, personas=loaded.personas,
                                                              source=loaded.source)))
    nodes = {n.id: n for n in store.nodes(run_id)}
    result = nodes["seed-1-claim1-formal"]
    data = json.loads(result.data_json)
    assert result.kind == "formal_result" and data["verdict"] == "refuted" and data["counterexample"]["e"] == "1/2"
    attacks = {(e.src, e.dst) for e in store.edges(run_id) if e.kind == "attacks"}
    assert {("seed-1-claim1-formal", "seed-1-claim1"), ("seed-1-claim1-formal", "seed-1")} <= attacks
    doc = show(store, run_id)
    assert doc["status"] == "done"
    assert next(i for i in doc["ideas"] if i["id"] == "seed-1")["status"] == "shot_down"
    # It is the refutation that flips the idea. Every idea now gets its critics (allocated coverage), and the
    # synthetic critics may shoot it down too; so compare the debate without them, with and without the refutation.
    from gauntlet.graphs.argument.argument_graph import ArgumentGraph
    argued = [n for n in store.nodes(run_id) if n.kind not in ("critique", "rebuttal")]
    assert ArgumentGraph(argued, store.edges(run_id)).status("seed-1") == "shot_down"
    assert ArgumentGraph([n for n in argued if n.id != result.id], store.edges(run_id)).status("seed-1") != "shot_down"
