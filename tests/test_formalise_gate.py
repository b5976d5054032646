"""The faithfulness gate: every few-shot example is a true formalisation z3 confirms; each deterministic check
rejects its hand-made bad candidate; the LLM checks run against a real OpenAI-compatible peer (the synthetic
server) with scripted answers; and in a debate a non-math "math claim" no longer shoots its idea down."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from langgraph.runtime import Runtime

from gauntlet.agents.openai_backend import OpenAIBackend
from gauntlet.config import ModelConfig, ProverConfig
from gauntlet.graphs.argument.argument_graph import ArgumentGraph
from gauntlet.graphs.protocols.formalise_move import formalise
from gauntlet.graphs.protocols.toolkit import edge, node
from gauntlet.graphs.protocols.state import DebateContext
from gauntlet.graphs.run.loading import load_config
from gauntlet.provers import gate_z3
from gauntlet.provers.evalset import DEFAULT_SET, load_cases, score, summarise
from gauntlet.provers.fewshot import EXAMPLES
from gauntlet.provers.formalise import Candidate, candidate_schema
from gauntlet.provers.gate import copy_guard, screen
from gauntlet.provers.pipeline import GateSettings, run_gate, triage
from gauntlet.provers.router import Router
from gauntlet.provers.claim import Claim
from gauntlet.testing.synthetic_server import running_server

ROOT = Path(__file__).resolve().parent.parent
CLAIM = "If each of two independent monitors misses an attack with probability at most 0.2, both miss it with " \
        "probability at most 0.04."


def _cand(variables: list[tuple[str, str, str]], hypotheses: list[str], conclusion: str) -> Candidate:
    return Candidate(formalisable=True, reason="", hypotheses=hypotheses, conclusion=conclusion,
                     variables=[{"name": n, "sort": s, "meaning": m} for n, s, m in variables])


GOOD = _cand([("p", "Real", "probability the first monitor misses an attack"),
              ("q", "Real", "probability the second monitor misses")],
             ["(and (>= p 0.0) (<= p 0.2))", "(and (>= q 0.0) (<= q 0.2))"], "(<= (* p q) 0.04)")


@pytest.mark.parametrize("ex", EXAMPLES, ids=[e.claim[:30] for e in EXAMPLES])
def test_every_example_is_a_correct_formalisation_z3_confirms(ex: Any) -> None:
    cand = Candidate.model_validate(ex.answer)
    if ex.truth == "not_math":
        assert not cand.formalisable and cand.reason and not cand.variables
        return
    facts = gate_z3.facts(cand.decls(), list(cand.hypotheses), cand.conclusion)
    assert facts["parse_error"] is None and facts["hypotheses_sat"] == "sat"
    assert facts["negation"] == ("unsat" if ex.truth == "true" else "sat")
    # The same text through the provers' own front door (`gauntlet prove`): the script is what a reviewer reruns.
    verdict = Router(timeout_s=5).check(Claim(ex.claim, smtlib=gate_z3.script(cand.decls(), list(cand.hypotheses),
                                                                              cand.conclusion)))
    assert verdict.verdict == ("proved" if ex.truth == "true" else "refuted")
    # Every example passes its own deterministic checks (the gate does not reject what it teaches).
    assert screen(cand, ex.claim).passed


def test_examples_cover_reals_integers_bitvectors_probabilities_and_both_truths() -> None:
    sorts = {v["sort"] for e in EXAMPLES for v in e.answer["variables"]}
    assert {"Real", "Int", "(_ BitVec 8)"} <= sorts
    assert {e.truth for e in EXAMPLES} == {"true", "false", "not_math"}
    assert any("probab" in e.claim for e in EXAMPLES)


def test_a_faithful_candidate_passes_every_deterministic_check() -> None:
    s = screen(GOOD, CLAIM, quantities=["miss probability of each monitor"])
    assert s.passed, s.failed
    assert [c.check for c in s.checks] == ["names", "copy_guard", "parse", "symbol_table", "vacuity", "generality"]
    assert s.verdict == "proved"


def test_copy_of_an_example_is_rejected_even_with_names_changed() -> None:
    ex = next(e for e in EXAMPLES if e.truth == "false").answer  # the bit-vector example
    assert ex["conclusion"] == "(bvuge (bvadd a b) a)"
    copy = _cand([("x", "(_ BitVec 8)", "the first counter"), ("y", "(_ BitVec 8)", "the second counter")], [],
                 "(bvuge  (bvadd x y)\n x)")  # renamed, re-spaced
    text = "We use zero-shot learning to train a model on a new dataset designed to test deception."
    check = copy_guard(copy, text)
    assert not check.passed and "worked example" in check.reason
    assert screen(copy, text).failed.check == "copy_guard"


def test_a_conclusion_of_an_examples_form_passes_only_when_the_claim_states_its_constants() -> None:
    """"More than half of n" may rightly end in the voting example's `v >= n div 2 + 1`; the same conclusion for
    a claim that states none of its numbers, a conclusion without numbers, or the whole example stays a copy."""
    majority = _cand([("n", "Int", "n voters"), ("v", "Int", "voters who approve")], ["(> (* 3 v) (* 2 n))"],
                     "(>= v (+ (div n 2) 1))")
    assert copy_guard(majority, "A proposal approved by more than two thirds of n voters is approved by more "
                                "than half of them.").passed
    assert not copy_guard(majority, "A proposal approved by most of n voters is approved by many of them.").passed
    bv = _cand([("x", "(_ BitVec 8)", "the first value"), ("y", "(_ BitVec 8)", "the second value")],
               ["(bvult x #x05)"], "(bvuge (bvadd x y) x)")
    assert not copy_guard(bv, "Adding two 8-bit values below 5 never gives less than the first.").passed
    voting = next(e for e in EXAMPLES if e.truth == "true" and "voters" in e.claim).answer
    whole = _cand([(v["name"], v["sort"], v["meaning"]) for v in voting["variables"]], voting["hypotheses"],
                  voting["conclusion"])
    assert not copy_guard(whole, "With n voters, more than half of them is at least n/2 + 1 when n is even.").passed


def test_vacuous_hypotheses_are_rejected() -> None:
    vacuous = _cand([("p", "Real", "probability the first monitor misses")], ["(> p 0.5)", "(< p 0.2)"],
                    "(<= (* p p) 0.04)")
    s = screen(vacuous, CLAIM)
    assert s.failed.check == "vacuity" and "contradict" in s.failed.reason
    no_vars = _cand([("p", "Real", "probability the first monitor misses")], ["(>= p 0.0)"], "(<= 0.0 1.0)")
    assert screen(no_vars, CLAIM).failed.check in ("vacuity", "symbol_table")
    trivial = _cand([("p", "Real", "probability the first monitor misses")], ["(<= p 0.2)", "(>= p 0.04)"],
                    "(or (<= p 0.5) (> p 0.5))")
    assert screen(trivial, CLAIM).failed.reason.startswith("the conclusion holds without the hypotheses")


def test_unmapped_variable_and_missing_quantity_are_rejected() -> None:
    stranger = _cand([("p", "Real", "probability the first monitor misses"), ("t", "Real", "GPU temperature")],
                     ["(<= p 0.2)", "(> t 0.0)"], "(<= (* p p t) 0.04)")
    s = screen(stranger, CLAIM)
    assert s.failed.check == "symbol_table" and "variable t" in s.failed.reason
    unused = _cand([("p", "Real", "probability the first monitor misses"), ("q", "Real", "second monitor")],
                   ["(and (>= p 0.0) (<= p 0.2))"], "(<= (* p p) 0.04)")
    assert "never uses" in screen(unused, CLAIM).failed.reason
    s = screen(GOOD, CLAIM, quantities=["reward budget"])
    assert s.failed.check == "symbol_table" and "reward budget" in s.failed.reason


def test_unparsable_sorts_and_injected_commands_fail_at_parse() -> None:
    bad = _cand([("x", "Real", "probability the first monitor misses")], [], "(>= x UInt8)")
    assert screen(bad, CLAIM).failed.check == "parse"
    injected = _cand([("p", "Real", "probability the first monitor misses")], [],
                     '(> p 0)) (set-option :regular-output-channel "/tmp/pwn") (assert (> p 1)')
    assert screen(injected, CLAIM).failed.check == "parse"


def test_triage_by_the_author() -> None:
    assert not triage("empirical", ["compute"]).passed
    assert not triage("theorem", []).passed
    assert triage("theorem", ["p"]).passed and triage(None, None).passed
    prose = triage(None, None, "Corrigibility is in tension with having coherent goals.")
    assert not prose.passed and "not a statement about quantities" in prose.reason
    assert triage(None, None, "A majority of n voters is more than half of them.").passed


def test_schema_is_generated_and_sorts_are_a_closed_list() -> None:
    schema = candidate_schema()
    props = schema["properties"]
    assert list(props) == ["formalisable", "reason", "variables", "hypotheses", "conclusion"]
    assert "UInt8" not in props["variables"]["items"]["properties"]["sort"]["enum"]
    assert schema["additionalProperties"] is False


# --- the LLM checks against a real OpenAI-compatible peer --------------------------------------------------
def _gate(replies: list[str], text: str = CLAIM, dialect: str = "openai", **settings: Any) -> Any:
    with running_server(script=replies, dialect=dialect) as url:
        async def go() -> Any:
            llm = OpenAIBackend(url, "synthetic", backoff_s=0.01)
            try:
                # The generated judges by default here (scripted JSON); the scored judge has its own tests.
                return await run_gate(llm, text, settings=GateSettings(**{"k": 2, "scored_judge": False,
                                                                           **settings}), seed=1)
            finally:
                await llm.aclose()
        return asyncio.run(go())


# The judge's second framing ("any difference?"), answered no: the back-translation then passes.
DIFFER_NO = json.dumps({"reason": "same quantities, assumptions and bound", "differ": False})


def _syms(c: Candidate | dict[str, Any]) -> str:
    """A first-stage answer: whether it is maths, and the symbols."""
    d = c.model_dump() if isinstance(c, Candidate) else c
    return json.dumps({k: d[k] for k in ("formalisable", "reason", "variables")})


def _form(c: Candidate | dict[str, Any]) -> str:
    """A second-stage answer (JSON: the synthetic server enforces no grammar, and the parser reads both shapes)."""
    d = c.model_dump() if isinstance(c, Candidate) else c
    return json.dumps({"hypotheses": d["hypotheses"], "conclusion": d["conclusion"]})


def _replies(*cands: Candidate | dict[str, Any]) -> list[str]:
    """The formaliser's answers with shared symbols: the first candidate's symbols, then each one's formula."""
    return [_syms(cands[0])] + [_form(c) for c in cands]


def _own(*cands: Candidate) -> list[str]:
    """With `shared_symbols=False`: each candidate's own symbols, then its formula."""
    return [r for c in cands for r in (_syms(c), _form(c))]


def test_agreeing_faithful_candidates_with_matching_back_translation_are_proved() -> None:
    back = json.dumps({"statement": "if p and q are between 0 and 0.2 then p times q is at most 0.04"})
    judge = json.dumps({"reason": "same bound on the same two probabilities", "same": True})
    r = _gate(_replies(GOOD, GOOD) + [back, judge, DIFFER_NO])
    assert r.verdict == "proved", r.reason
    checks = {c.check: c.passed for c in r.checks}
    assert checks == {"triage": True, "unanimity": True, "agreement": True, "back_translation": True}
    assert "(assert (not (<= (* p q) 0.04)))" in r.formal
    doc = r.as_json()
    assert set(doc) >= {"verdict", "counterexample", "checks", "formal", "candidates"}
    assert doc["llm_calls"] == 6 and [c["status"] for c in doc["candidates"]] == ["passed", "passed"]
    assert doc["stopped_by"] is None and [c["label"] for c in r.calls[:3]] == ["symbols", "candidate 1", "candidate 2"]


# The scored judge's answers (first-token log-probabilities): "same? Yes" and "any difference? No", both sure.
SAME_YES = 'logprobs:{"Yes": -0.05, "No": -4.0}'
DIFFER_NONE = 'logprobs:{"Yes": -4.0, "No": -0.05}'


def test_the_scored_judge_accepts_a_sure_same_and_cancels_a_yes_sayers_lean() -> None:
    back = json.dumps({"statement": "if p and q are between 0 and 0.2 then p times q is at most 0.04"})
    r = _gate(_replies(GOOD, GOOD) + [back, SAME_YES, DIFFER_NONE], scored_judge=True)
    assert r.verdict == "proved", r.reason
    judged = next(c for c in r.checks if c.check == "back_translation")
    assert "P(same) = 0.98" in judged.reason and "not fitted for this model" in judged.reason
    assert [c["label"] for c in r.calls[-2:]] == ["judge same (scored)", "judge differ (scored)"]
    assert r.calls[-1]["logprobs"]["No"] == -0.05 and r.calls[-1]["completion_tokens"] == 0
    # A model that answers Yes to both questions ("the same?" and "any difference?") says nothing: p = 0.5.
    r = _gate(_replies(GOOD, GOOD) + [back, SAME_YES, 'logprobs:{"Yes": -0.05, "No": -4.0}'], scored_judge=True)
    assert r.verdict == "rejected" and r.stopped_by == "back_translation" and "P(same) = 0.500" in r.reason


@pytest.mark.parametrize("dialect", ["llamacpp", "vllm"])
def test_a_server_that_takes_grammars_gets_the_formula_grammar(dialect: str) -> None:
    """llama.cpp's server and vLLM get stage 2 as a grammar (and answer in its `Assume:`/`Show:` lines)."""
    lines = "Assume: (and (>= p 0.0) (<= p 0.2))\nAssume: (and (>= q 0.0) (<= q 0.2))\nShow: (<= (* p q) 0.04)"
    back = json.dumps({"statement": "if p and q are between 0 and 0.2 then p times q is at most 0.04"})
    judge = json.dumps({"reason": "same", "same": True})
    r = _gate([_syms(GOOD), lines, lines, back, judge, DIFFER_NO], dialect=dialect)
    assert r.verdict == "proved" and r.decoding == "grammar", r.reason
    assert r.calls[1]["decoding"] == "grammar" and r.accepted.hypotheses == list(GOOD.hypotheses)


def test_a_formula_missing_a_number_of_the_claim_gets_one_repair_under_the_grammar() -> None:
    lines = "Assume: (and (>= p 0.0) (<= p 0.2))\nAssume: (and (>= q 0.0) (<= q 0.2))\nShow: (<= (* p q) 0.04)"
    forgot = "Show: (<= (* p q) 0.04)"
    back = json.dumps({"statement": "if p and q are between 0 and 0.2 then p times q is at most 0.04"})
    judge = json.dumps({"reason": "same", "same": True})
    r = _gate([_syms(GOOD), forgot, lines, lines, back, judge, DIFFER_NO], dialect="llamacpp")
    assert r.verdict == "proved" and r.candidates[0]["repairs"] == 1, r.reason
    repair = r.calls[2]
    assert repair["label"] == "candidate 1 repair 1" and repair["decoding"] == "grammar"
    assert repair["messages"][-2]["content"] == forgot and "0.2 is not in the formula" in repair["messages"][-1]["content"]
    # Meaning is never repaired: a candidate the judges reject is not sent back.
    assert "back_translation" not in GateSettings().repair_checks


def test_a_formula_too_long_for_a_candidate_is_a_failed_parse_not_a_crash() -> None:
    long_term = "(<= (* p q) " + "(+ 0.01 " * 60 + "0.01" + ")" * 60 + ")"
    r = _gate([_syms(GOOD), f"Show: {long_term}", f"Show: {long_term}"], dialect="llamacpp", repairs=0)
    assert r.verdict == "rejected" and r.stopped_by == "parse" and "does not fit" in r.candidates[0]["reason"]


def test_a_server_without_grammars_gets_the_json_schema_and_says_so() -> None:
    back = json.dumps({"statement": "if p and q are between 0 and 0.2 then p times q is at most 0.04"})
    judge = json.dumps({"reason": "same", "same": True})
    r = _gate(_replies(GOOD, GOOD) + [back, judge, DIFFER_NO])
    assert r.verdict == "proved" and r.decoding == "json_schema" and r.as_json()["decoding"] == "json_schema"


def test_a_back_translation_that_copies_the_formula_is_refused() -> None:
    """The statement must be words: a reply that is the formula again fails the schema (and is asked again)."""
    from pydantic import ValidationError
    from gauntlet.provers.formalise import BackTranslation, back_translation_messages
    with pytest.raises(ValidationError):
        BackTranslation(statement="(>= (* x x) x)")
    assert BackTranslation(statement="for every real x, x times x is at least x")
    assert "not symbols" in back_translation_messages(GOOD)[0]["content"]


def test_back_translation_mismatch_rejects() -> None:
    back = json.dumps({"statement": "p times q is at least 0.04"})
    judge = json.dumps({"reason": "B says at least, A says at most", "same": False})
    r = _gate(_replies(GOOD, GOOD) + [back, judge])
    assert r.verdict == "rejected" and r.accepted is None and r.formal is None
    assert r.stopped_by == "back_translation"
    failed = [c for c in r.checks if not c.passed]
    assert [c.check for c in failed] == ["back_translation"] and "at least" in failed[0].reason
    # A judge that says "same" but, asked the other way round, finds a difference is not trusted either.
    back = json.dumps({"statement": "if p and q are at most 0.2 then p times q is at most 0.04"})
    differ = json.dumps({"reason": "B drops the lower bound 0 on p and q", "differ": True})
    r = _gate(_replies(GOOD, GOOD) + [back, json.dumps({"reason": "same", "same": True}), differ])
    assert r.verdict == "rejected" and "lower bound" in r.reason and len(r.calls) == 6


def test_refutation_carries_a_counterexample_in_the_claims_names() -> None:
    claim = "If two independent monitors each catch a deceptive action with probability 0.5, at least one of " \
            "them catches it with probability at least 0.8."
    cand = _cand([("p", "Real", "probability a monitor catches a deceptive action")], ["(= p 0.5)"],
                 "(>= (- 1.0 (* (- 1.0 p) (- 1.0 p))) 0.8)")
    back = json.dumps({"statement": "if p is 0.5 then one minus the square of one minus p is at least 0.8"})
    judge = json.dumps({"reason": "the same", "same": True})
    holds = json.dumps({"reason": "1 - 0.5*0.5 = 0.75, below 0.8", "answer": False})
    breaks = json.dumps({"reason": "0.75 < 0.8, so it is a counterexample", "answer": True})
    r = _gate(_replies(cand, cand) + [back, judge, DIFFER_NO, holds, breaks], claim)
    assert r.verdict == "refuted" and r.counterexample == {"p": "1/2"}
    assert r.counterexample_text() == "p (probability a monitor catches a deceptive action) = 1/2"
    witnessed = next(c for c in r.checks if c.check == "witness")
    assert witnessed.passed and "probability a monitor catches a deceptive action (p) = 0.5" in witnessed.reason
    # The witness calls see the sentence and the situation in its words, never the formula.
    asked = [c["messages"][-1]["content"] for c in r.calls if c["label"].startswith("witness")]
    assert len(asked) == 2 and all(claim in m and "(* " not in m and "1.0" not in m for m in asked)


def test_disagreeing_candidates_and_the_formalisers_own_no_abstain() -> None:
    false_bound = GOOD.model_copy(update={"conclusion": "(<= (* p q) (* 0.04 0.2))"})
    r = _gate(_replies(GOOD, false_bound), k=3)
    assert r.verdict == "rejected" and "disagree" in r.reason and len(r.calls) == 3  # candidate 3 never asked
    no = {"formalisable": False, "reason": "a forecast", "variables": [], "hypotheses": [], "conclusion": ""}
    r = _gate([_syms(no)], "Interpretability will audit every frontier model by 2030.", k=3)
    assert r.verdict == "not_formalisable" and len(r.calls) == 1  # one honest "no" ends it: no more calls
    assert r.stopped_by == "symbols"


def test_parse_error_is_fed_back_for_one_repair() -> None:
    broken = GOOD.model_copy(update={"conclusion": "(<= (* p q) Natural)"})
    back = json.dumps({"statement": "p and q in [0, 0.2] imply p times q is at most 0.04"})
    judge = json.dumps({"reason": "same", "same": True})
    r = _gate(_replies(broken, GOOD, GOOD) + [back, judge, DIFFER_NO])
    assert r.verdict == "proved" and r.candidates[0]["repairs"] == 1
    repair_prompt = r.calls[2]["messages"][-1]["content"]
    assert "Natural" in repair_prompt and r.calls[2]["label"] == "candidate 1 repair 1"


# --- in a debate ------------------------------------------------------------------------------------------
def _move(replies: list[str], claim_data: dict[str, Any], text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    loaded = load_config(ROOT / "runs/configs/false_claim.yaml")
    nodes = [node("i1", "idea", "ml-empiricist", 1, "Deception dataset", "train on a deception test set"),
             node("i1-claim1", "claim", "ml-empiricist", 1, "", text, **claim_data)]
    state = {"round": 1, "nodes": nodes, "edges": [edge("i1-claim1", "i1", "supports")]}
    with running_server(script=replies) as url:
        async def go() -> dict[str, Any]:
            llm = OpenAIBackend.from_config(ModelConfig(backend="openai", base_url=url, name="synthetic"))
            cfg = loaded.config.model_copy(update={"provers": ProverConfig(k=3, timeout_s=10)})
            ctx = DebateContext(run_id="t", config=cfg, personas=dict(loaded.personas), llm=llm)
            try:
                return await formalise(state, Runtime(context=ctx))
            finally:
                await llm.aclose()
        return state, asyncio.run(go())


def test_a_copied_example_on_a_non_math_claim_no_longer_shoots_the_idea_down() -> None:
    """The issue's failure: the formaliser copies its example for a non-math sentence and z3 'refutes' it."""
    text = "We use zero-shot learning to train a model on 5000 new examples designed to test deception"
    copy = {**next(e for e in EXAMPLES if e.truth == "false").answer}
    state, update = _move(_replies(copy, copy, copy), {"claim_kind": "theorem", "quantities": ["dataset"]}, text)
    [result] = update["nodes"]
    d = result["data"]
    assert d["verdict"] == "rejected" and d["counterexample"] is None
    assert [e["kind"] for e in update["edges"]] == ["formalises"]  # attacks nothing
    assert {c["status"] for c in d["candidates"]} == {"rejected"}
    assert any(c["check"] == "copy_guard" and not c["passed"] for c in d["checks"])
    # symbols, then one rejected formula: unanimity is out of reach
    assert [c["phase"] for c in update["calls"]] == ["formalise", "formalise"]
    graph = ArgumentGraph(state["nodes"] + update["nodes"], state["edges"] + update["edges"])
    assert graph.status("i1") == "standing"


def test_an_empirical_claim_never_reaches_the_formaliser() -> None:
    state, update = _move([], {"claim_kind": "empirical", "quantities": ["compute", "persuasiveness"]},
                          "Ten times the compute makes models twice as persuasive.")
    d = update["nodes"][0]["data"]
    assert d["verdict"] == "not_formalisable" and update["calls"] == [] and d["checks"][0]["check"] == "triage"


def test_debate_on_the_synthetic_server_shoots_nothing_down_by_an_unchecked_formalisation(tmp_path: Path,
                                                                                         synthetic_url: str) -> None:
    from gauntlet.graphs.store.store import Store
    from gauntlet.graphs.store.views import show
    from tests.conftest import run_debate
    loaded = load_config(ROOT / "runs/configs/demo.yaml")
    store = Store(str(tmp_path / "g.sqlite"))
    run_id = run_debate(store, loaded, synthetic_url)
    results = [n for n in store.nodes(run_id) if n.kind == "formal_result"]
    gated = [json.loads(n.data_json) for n in results if json.loads(n.data_json)["formalised_by"] == "formaliser"]
    assert gated, "the proposers' math claims went through the gate"
    # Random words are never a formalisation that passes: every gated claim abstains, with its reasons recorded.
    assert all(d["verdict"] in ("not_formalisable", "rejected", "error") and d["checks"] for d in gated)
    attackers = {e.src for e in store.edges(run_id) if e.kind == "attacks"}
    assert not attackers & {n.id for n in results if json.loads(n.data_json)["formalised_by"] == "formaliser"}
    doc = show(store, run_id)
    assert doc["status"] == "done"
    shown = {f["id"]: f for f in doc["formal"]}  # show --json says why each formal result abstained
    assert all(shown[n.id]["failed_checks"] for n in results
               if json.loads(n.data_json)["formalised_by"] == "formaliser")
    from gauntlet.graphs.store.export import to_markdown
    from gauntlet.graphs.store.views import load_graph, run_record
    md = to_markdown(run_record(store, run_id), load_graph(store, run_id))
    assert "FAIL " in md  # the export carries the failed checks beside the claim


def test_eval_set_is_valid_and_scoring_is_strict() -> None:
    cases = load_cases(DEFAULT_SET)
    assert len(cases) >= 40 and sum(c.expect == "not_math" for c in cases) >= 15
    assert {c.expect for c in cases} == {"true", "false", "not_math"}
    assert score("true", "proved") == "right" and score("true", "refuted") == "wrong"
    assert score("not_math", "refuted") == "wrong" and score("not_math", "rejected") == "right"
    assert score("false", "rejected") == "abstained"
    rows = [{"expect": "true", "outcome": "right"}, {"expect": "false", "outcome": "abstained"},
            {"expect": "not_math", "outcome": "right"}]
    s = summarise(rows)
    assert (s["cases"], s["right"], s["abstained"], s["wrong"], s["coverage"]) == (3, 2, 1, 0, 0.5)


def test_a_given_formalisation_with_contradictory_hypotheses_is_not_a_proof() -> None:
    from gauntlet.graphs.protocols.formalise_move import check_given
    vacuous = "(declare-const p Real)(assert (> p 0.5))(assert (< p 0.2))(assert (not (<= p 0.1)))"
    verdict, checks = check_given(Router(timeout_s=5), Claim("p is at most 0.1", smtlib=vacuous))
    assert verdict.verdict == "unknown" and "vacuous" in verdict.detail
    assert [(c.check, c.passed) for c in checks] == [("given", True), ("vacuity", False)]
    honest = "(declare-const p Real)(assert (>= p 0.0))(assert (not (>= (* p p) 0.0)))"
    verdict, checks = check_given(Router(timeout_s=5), Claim("p squared is non-negative", smtlib=honest))
    assert verdict.verdict == "proved" and all(c.passed for c in checks)


def test_cli_formalise_json_and_bad_options() -> None:
    from typer.testing import CliRunner
    from gauntlet.ui.cli import app
    back = json.dumps({"statement": "if p and q are in [0, 0.2] then p times q is at most 0.04"})
    judge = json.dumps({"reason": "same", "same": True})
    with running_server(script=_replies(GOOD, GOOD) + [back, SAME_YES, DIFFER_NONE]) as url:
        res = CliRunner().invoke(app, ["formalise", CLAIM, "--base-url", url, "--model", "synthetic", "--k", "2",
                                       "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["verdict"] == "proved" and doc["counterexample"] is None and doc["formal"].startswith("(declare")
    assert {"checks", "candidates", "symbols"} <= set(doc)
    bad = CliRunner().invoke(app, ["formalise", CLAIM, "--k", "2", "--min-agree", "3"])
    assert bad.exit_code == 2 and "--min-agree" in bad.output


def test_a_number_of_the_claim_missing_from_the_formula_rejects() -> None:
    wrong_bound = GOOD.model_copy(update={"conclusion": "(<= (* p q) 0.05)"})
    s = screen(wrong_bound, CLAIM)
    assert s.failed.check == "symbol_table" and "0.04" in s.failed.reason
    hexed = _cand([("c", "(_ BitVec 8)", "8-bit unsigned counter")], ["(= c #xff)"], "(= (bvadd c #x01) #x00)")
    assert screen(hexed, "An 8-bit unsigned counter that holds 255 wraps to 0 when incremented by 1.").passed


def test_a_measured_quantity_left_free_is_not_refuted_for_all_values() -> None:
    text = "Linear probes on residual-stream activations detect lies with 90 percent accuracy."
    measured = _cand([("acc", "Real", "accuracy of linear probes detecting lies")], [], "(>= acc 0.9)")
    s = screen(measured, text)
    assert s.failed.check == "generality" and "acc" in s.failed.reason
    universal = _cand([("x", "Real", "real x")], [], "(>= (* x x) x)")
    assert screen(universal, "For every real x, x squared is at least x.").passed


# --- unanimity, agreement across names, and the witness of a refutation -----------------------------------
AVERAGE = "The average of two scores is never smaller than the smaller score and never larger than the larger score."
# The dev set's one wrong verdict: a formula that quietly assumes the first score is the smaller one.
AVERAGE_UNFAITHFUL = _cand([("a", "Real", "the first score"), ("b", "Real", "the second score")], [],
                           "(and (>= (/ (+ a b) 2.0) a) (<= (/ (+ a b) 2.0) b))")


def test_one_failing_candidate_of_k_breaks_unanimity_and_stops_the_calls() -> None:
    unmapped = _cand([(v.name, v.sort, v.meaning) for v in GOOD.variables] + [("z", "Real", "zebra population")],
                     list(GOOD.hypotheses), GOOD.conclusion)
    r = _gate(_own(GOOD, unmapped, GOOD), k=3, shared_symbols=False, repairs=0)
    assert r.verdict == "rejected" and r.formal is None and len(r.calls) == 4  # candidate 3 never asked
    assert r.stopped_by == "symbol_table"
    unanimity = next(c for c in r.checks if c.check == "unanimity")
    assert not unanimity.passed and "1 of 3" in unanimity.reason and "symbol_table" in unanimity.reason
    # The older 2-of-k rule would have accepted the two good ones (kept behind --no-unanimity).
    back = json.dumps({"statement": "p, q in [0, 0.2] imply p times q is at most 0.04"})
    judge = json.dumps({"reason": "same", "same": True})
    old = _gate(_own(GOOD, unmapped, GOOD) + [back, judge, DIFFER_NO], k=3, unanimous=False, shared_symbols=False,
                repairs=0)
    assert old.verdict == "proved" and "unanimity" not in {c.check for c in old.checks}
    assert old.unanimous_agreement is False  # the record of what the unanimous rule would have said
    assert old.first_two_agreement is False and old.agreed_verdict == "proved"  # candidate 2 failed
    assert old.stopped_by is None
    # Two of three passing is not what stops a claim without unanimity: the check that did stop it is named.
    mismatch = json.dumps({"reason": "B says at least, A says at most", "same": False})
    stopped = _gate(_own(GOOD, unmapped, GOOD) + [back, mismatch], k=3, unanimous=False, shared_symbols=False,
                    repairs=0)
    assert stopped.verdict == "rejected" and stopped.stopped_by == "back_translation"
    agreed = _gate(_replies(GOOD, GOOD) + [back, judge, DIFFER_NO], unanimous=False)
    assert agreed.verdict == "proved" and agreed.unanimous_agreement is True and agreed.first_two_agreement is True
    assert stopped.agreed_verdict == "proved"  # agreed, then stopped by the back-translation judge


def test_the_eval_reads_the_stricter_rules_and_the_model_checks_share_from_one_run() -> None:
    from types import SimpleNamespace
    from gauntlet.graphs.evals.formalise import TASK
    from gauntlet.graphs.evals.report import CaseResult
    rows = [  # proved with all three agreeing; proved by 2 of 3 only; stopped by the judge after agreeing wrongly
        dict(id="a", expect="true", verdict="proved", unanimous_agreement=True, first_two_agreement=True,
             agreed_verdict="proved"),
        dict(id="b", expect="true", verdict="proved", unanimous_agreement=False, first_two_agreement=False,
             agreed_verdict="proved"),
        dict(id="c", expect="false", verdict="rejected", unanimous_agreement=None, first_two_agreement=None,
             agreed_verdict="proved"),
        dict(id="d", expect="not_math", verdict="not_formalisable", unanimous_agreement=None,
             first_two_agreement=None, agreed_verdict=None)]
    results = [CaseResult(outcome=score(r["expect"], r["verdict"]), llm_calls=3, elapsed_s=1.0, **r) for r in rows]
    doc = TASK.summarise(results, SimpleNamespace(resources={"gate": GateSettings(unanimous=False)}))
    assert doc["right"] == 3 and doc["coverage"] == round(2 / 3, 4)
    assert doc["by_rule"]["unanimous_k"]["right"] == 2 and doc["by_rule"]["unanimous_k"]["coverage"] == round(1 / 3, 4)
    assert doc["by_rule"]["first_two"]["abstained"] == 2
    assert doc["before_model_checks"]["wrong"] == 1 and doc["before_model_checks"]["error_upper_95"] > 0.25


def test_a_single_candidate_is_never_unanimous() -> None:
    r = _gate(_replies(GOOD), k=1)
    assert r.verdict == "rejected" and "k >= 2" in r.reason and len(r.calls) == 2


def test_candidates_with_other_names_are_lined_up_and_compared_part_by_part() -> None:
    from gauntlet.provers.consensus import align
    swapped = _cand([("m2", "Real", "probability the second monitor misses"),
                     ("m1", "Real", "probability the first monitor misses an attack")],
                    ["(and (>= m1 0.0) (<= m1 0.2))", "(and (<= m2 0.2) (>= m2 0.0))"], "(<= (* m2 m1) 0.04)")
    assert align(GOOD, swapped) == {"m2": "q", "m1": "p"}
    back = json.dumps({"statement": "p, q in [0, 0.2] imply p times q is at most 0.04"})
    judge = json.dumps({"reason": "same", "same": True})
    r = _gate(_own(GOOD, swapped) + [back, judge, DIFFER_NO], shared_symbols=False)
    assert r.verdict == "proved", r.reason
    assert "1 pair(s) z3-equivalent" in next(c.reason for c in r.checks if c.check == "agreement")
    # Two proofs of different statements are not "the same formula" just because both are valid.
    tighter = GOOD.model_copy(update={"hypotheses": ["(and (>= p 0.0) (<= p 0.1))", "(and (>= q 0.0) (<= q 0.2))"]})
    r = _gate(_replies(GOOD, tighter))
    assert r.verdict == "rejected" and "different formulas" in r.reason and len(r.calls) == 3
    # Different sorts cannot be lined up: under unanimity that is disagreement, not a pass.
    as_ints = GOOD.model_copy(update={"variables": [v.model_copy(update={"sort": "Int"}) for v in GOOD.variables],
                                      "hypotheses": ["(and (>= p 0) (<= (* 5 p) 1))", "(and (>= q 0) (<= (* 5 q) 1))"],
                                      "conclusion": "(<= (* 25 p q) 1)"})
    assert align(GOOD, as_ints) is None


def test_a_counterexample_in_which_the_sentence_still_holds_is_no_refutation() -> None:
    """The dev set's wrong verdict (average-between): agreeing unfaithful candidates and an accepting judge."""
    back = json.dumps({"statement": "the average of a and b is at least a and at most b"})
    judge = json.dumps({"reason": "both bound the average by the two scores", "same": True})
    holds = json.dumps({"reason": "the average 0.5 lies between the smaller score 0 and the larger 1", "answer": True})
    breaks = json.dumps({"reason": "the sentence holds here", "answer": False})
    r = _gate(_replies(AVERAGE_UNFAITHFUL, AVERAGE_UNFAITHFUL) + [back, judge, DIFFER_NO, holds, breaks], AVERAGE)
    assert r.verdict == "rejected" and r.counterexample is None and r.accepted is None
    failed = [c for c in r.checks if not c.passed]
    assert [c.check for c in failed] == ["witness"] and "still holds" in failed[0].reason
    assert r.candidates[0]["witness"]["passed"] is False


def test_a_witness_that_says_yes_to_both_framings_is_not_trusted() -> None:
    back = json.dumps({"statement": "the average of a and b is at least a and at most b"})
    judge = json.dumps({"reason": "same", "same": True})
    yes = json.dumps({"reason": "yes", "answer": True})
    r = _gate(_replies(AVERAGE_UNFAITHFUL, AVERAGE_UNFAITHFUL) + [back, judge, DIFFER_NO, yes, yes], AVERAGE)
    assert r.verdict == "rejected" and "contradict each other" in r.reason


def test_the_situation_is_written_in_the_claims_words() -> None:
    from gauntlet.provers.witness import situation
    bv = _cand([("r", "(_ BitVec 8)", "the first reward"), ("s", "(_ BitVec 8)", "the second reward")], [],
               "(bvsgt (bvadd r s) #x00)")
    where = situation(bv, {"r": 100, "s": 64})
    assert where.splitlines() == ["- the first reward (r) = 100 as a 8-bit unsigned value",
                                  "- the second reward (s) = 64 as a 8-bit unsigned value"]
    assert "(-56 if read as signed)" in situation(bv, {"r": 200})
    assert "the second reward (s): any value" in situation(bv, {"r": 1})
    assert "1/3 (about 0.3333)" in situation(AVERAGE_UNFAITHFUL, {"a": "1/3", "b": 0})


def test_equivalence_compares_hypotheses_and_conclusions_separately() -> None:
    from gauntlet.provers.consensus import plain
    tighter = GOOD.model_copy(update={"hypotheses": ["(and (>= p 0.0) (<= p 0.1))", "(and (>= q 0.0) (<= q 0.2))"]})
    assert gate_z3.equivalence(plain(GOOD), plain(tighter)) == "no"
    reordered = GOOD.model_copy(update={"hypotheses": list(reversed(GOOD.hypotheses)),
                                        "conclusion": "(>= 0.04 (* q p))"})
    assert gate_z3.equivalence(plain(GOOD), plain(reordered)) == "yes"


def test_a_witness_must_also_see_the_sentence_hold_at_a_control_point() -> None:
    text = "For every real x, x squared is at least x."
    cand = _cand([("x", "Real", "real x")], [], "(>= (* x x) x)")
    back = json.dumps({"statement": "for every real x, x times x is at least x"})
    judge = json.dumps({"reason": "same", "same": True})
    holds = json.dumps({"reason": "0.25 < 0.5", "answer": False})
    breaks = json.dumps({"reason": "x = 0.5 breaks it", "answer": True})
    never = json.dumps({"reason": "violated", "answer": False})
    r = _gate(_replies(cand, cand) + [back, judge, DIFFER_NO, holds, breaks, never], text)
    assert r.verdict == "rejected" and "does not tell a counterexample" in r.reason and len(r.calls) == 9
    control_prompt = r.calls[-1]["messages"][-1]["content"]
    assert r.calls[-1]["label"] == "witness control" and "real x (x) = 0.5" not in control_prompt
    ok = json.dumps({"reason": "at this x the square is at least x", "answer": True})
    r = _gate(_replies(cand, cand) + [back, judge, DIFFER_NO, holds, breaks, ok], text)
    assert r.verdict == "refuted" and r.counterexample == {"x": "1/2"}
    assert next(c for c in r.checks if c.check == "witness").passed
