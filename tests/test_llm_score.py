"""`score` and `grammar` on the OpenAI-compatible backend, against a real HTTP server (the synthetic double), and the
pure reading of token log-probabilities into choice log-probabilities."""

from __future__ import annotations

import asyncio
import json
import math

import httpx
import pytest

from gauntlet.agents.choice_logprobs import Position, choice_logprobs, positions_of
from gauntlet.agents.llm import LLMError
from gauntlet.agents.openai_backend import OpenAIBackend
from gauntlet.testing.synthetic_server import running_server

MSGS = [{"role": "user", "content": "Does the critique hold? Answer Yes or No."}]


def run(url: str, coro_of, **kw):
    async def go():
        llm = OpenAIBackend(url, "synthetic", backoff_s=0.01, **kw)
        try:
            return await coro_of(llm), llm
        finally:
            await llm.aclose()
    return asyncio.run(go())


def test_leading_space_variant_is_folded_in_and_unlisted_choices_get_the_floor():
    pos = [Position("Yes", -0.4, {"Yes": -0.4, " Yes": -2.0, "No": -1.5, "The": -6.0})]
    lp, faults = choice_logprobs(pos, ["Yes", "No", "Maybe"])
    assert lp["Yes"] == pytest.approx(math.log(math.exp(-0.4) + math.exp(-2.0)))
    assert lp["No"] == -1.5 and lp["Maybe"] == -6.0 and faults == ["not_in_top_logprobs:Maybe"]


def test_multi_token_labels_follow_the_greedy_path():
    # "over" + "ruled" generated; "sust" is an alternative at the first position (its rest taken as certain).
    pos = [Position("over", -0.3, {"over": -0.3, "sust": -1.4, "Over": -3.0}),
           Position("ruled", -0.1, {"ruled": -0.1, "run": -2.5})]
    lp, faults = choice_logprobs(pos, ["sustained", "overruled", "overrun"])
    assert lp["overruled"] == pytest.approx(-0.4) and lp["sustained"] == pytest.approx(-1.4)
    assert lp["overrun"] == pytest.approx(-2.8) and not faults
    # Stopped after one token inside a label: the rest is assumed.
    lp1, _ = choice_logprobs(pos[:1], ["overruled"])
    assert lp1["overruled"] == pytest.approx(-0.3)


def test_both_logprob_formats_parse():
    chat = {"logprobs": {"content": [{"token": "Yes", "logprob": -0.2, "bytes": [89, 101, 115],
                                      "top_logprobs": [{"token": "No", "logprob": -1.7, "bytes": None}]}]}}
    legacy = {"logprobs": {"tokens": ["Yes"], "token_logprobs": [-0.2], "top_logprobs": [{"No": -1.7}]}}
    assert positions_of(chat) == positions_of(legacy) == [Position("Yes", -0.2, {"No": -1.7, "Yes": -0.2})]
    assert positions_of({"logprobs": None}) is None and positions_of({}) is None


def test_score_reads_logprobs_deterministically_from_the_prompt():
    with running_server() as url:
        first, llm = run(url, lambda llm: llm.score(MSGS, ["Yes", "No"], seed=1))
        again, _ = run(url, lambda llm: llm.score(MSGS, ["Yes", "No"], seed=1))
        other, _ = run(url, lambda llm: llm.score([{"role": "user", "content": "another"}], ["Yes", "No"], seed=1))
    assert first.scored and llm.has_logprobs and first.logprobs == again.logprobs != other.logprobs
    assert all(v < 0 for v in first.logprobs.values())
    norm = first.normalised()
    assert math.exp(norm["Yes"]) + math.exp(norm["No"]) == pytest.approx(1.0)


def test_scripted_logprobs_and_multi_token_labels_over_http():
    script = ['logprobs:{"Yes": -0.1, "No": -2.4}']
    with running_server(script=script) as url:
        s, _ = run(url, lambda llm: llm.score(MSGS, ["Yes", "No"]))
    assert s.logprobs == {"Yes": -0.1, "No": -2.4} and s.margin("Yes", "No") == pytest.approx(2.3)
    labels = {"labels": ["sust|ained", "over|ruled"], "bias": {"overruled": 6.0}}
    with running_server(logprobs=labels) as url:
        s, _ = run(url, lambda llm: llm.score(MSGS, ["sustained", "overruled"]))
    assert s.scored and s.logprobs["overruled"] > s.logprobs["sustained"] > -math.inf and not s.faults


@pytest.mark.parametrize("mode", ["none", "refuse"])
def test_a_server_without_logprobs_gets_a_constrained_unscored_pick(mode):
    with running_server(logprobs={"mode": mode}) as url:
        s, llm = run(url, lambda llm: llm.score(MSGS, ["Yes", "No"], seed=3))
        stats = httpx.get(url.removesuffix("/v1") + "/stats").json()
    assert not s.scored and llm.has_logprobs is False and "no_logprobs" in s.faults
    assert sorted(s.logprobs.values()) == [-math.inf, 0.0]
    assert stats["scored"] == 0


@pytest.mark.parametrize("dialect,field", [("llamacpp", "grammar"), ("vllm", "structured_outputs")])
def test_a_grammar_rides_in_the_engines_field(dialect, field):
    grammar = 'root ::= "yes" | "no"'
    with running_server(dialect=dialect, script=["yes"]) as url:
        c, llm = run(url, lambda llm: llm.complete(MSGS, grammar=grammar))
        stats = httpx.get(url.removesuffix("/v1") + "/stats").json()
    assert c.text == "yes" and llm.grammar.known == field and stats["grammars"] == [grammar]


def test_a_server_that_takes_no_grammar_raises_naming_it():
    with running_server(dialect="openai") as url:
        with pytest.raises(LLMError, match="enforces no GBNF grammar"):
            run(url, lambda llm: llm.complete(MSGS, grammar='root ::= "a"'))
        # Told the field by config, the server's own refusal is what the error names.
        with pytest.raises(LLMError, match="refused the grammar.*Unrecognized request argument"):
            run(url, lambda llm: llm.complete(MSGS, grammar='root ::= "a"'), grammar_field="grammar")


def test_scoring_and_grammar_faults_are_retried():
    with running_server(faults=["http_503"], script=['logprobs:{"Yes": -0.5, "No": -1.0}']) as url:
        s, _ = run(url, lambda llm: llm.score(MSGS, ["Yes", "No"]))
    assert s.scored and s.faults == ["http_503"] and s.logprobs["Yes"] == -0.5


def test_the_synthetic_server_cli_names_its_logprob_modes():
    from gauntlet.testing.synthetic_logprobs import LogprobPlan
    assert LogprobPlan.from_json(json.dumps({"mode": "none"})).mode == "none"
    with pytest.raises(ValueError, match="choose from"):
        LogprobPlan.from_json(json.dumps({"mode": "sometimes"}))
