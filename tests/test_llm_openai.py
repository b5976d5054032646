"""The OpenAI-compatible backend against a real HTTP server on 127.0.0.1 (the synthetic test double)."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from gauntlet.agents.llm import LLMError
from gauntlet.agents.openai_backend import OpenAIBackend
from gauntlet.agents.schemas import CritiqueSet, critique_schema
from gauntlet.agents.structured import complete_structured, parse_json
from gauntlet.testing.synthetic_server import running_server

MSGS = [{"role": "system", "content": "rules"}, {"role": "user", "content": "critique r1-idea-a"}]
SCHEMA = critique_schema(["r1-idea-a", "r1-idea-b"], 2)


def call(url: str, *, schema=SCHEMA, **kw):
    async def go():
        llm = OpenAIBackend(url, "synthetic", backoff_s=0.01, **kw)
        try:
            return await complete_structured(llm, MSGS, CritiqueSet, schema=schema, seed=1)
        finally:
            await llm.aclose()
    return asyncio.run(go())


def test_structured_output_and_token_counts(synthetic_url):
    value, c = call(synthetic_url)
    assert 1 <= len(value.critiques) <= 2
    assert all(item.target in ("r1-idea-a", "r1-idea-b") for item in value.critiques)
    assert c.prompt_tokens > 0 and c.completion_tokens > 0 and c.attempts == 1 and c.faults == []


def test_same_seed_same_answer(synthetic_url):
    assert call(synthetic_url)[0] == call(synthetic_url)[0]


@pytest.mark.parametrize("fault", ["http_500", "http_429", "http_503", "drop"])
def test_transient_faults_are_retried_and_counted(fault):
    with running_server(faults=[fault, fault]) as url:
        value, c = call(url, max_retries=3)
    assert value.critiques and c.faults.count(fault if fault != "drop" else "bad_response") == 2


def test_timeout_is_retried():
    with running_server(faults=["timeout"]) as url:
        value, c = call(url, timeout_s=1.0, max_retries=2)
    assert c.faults == ["timeout"] and value.critiques


@pytest.mark.parametrize("fault", ["invalid_json", "schema_violation", "truncated"])
def test_bad_json_is_repaired_or_retried(fault):
    with running_server(faults=[fault]) as url:
        value, c = call(url)
    assert value.critiques
    assert c.attempts >= 1 and (c.repaired or fault in c.faults or c.attempts > 1)


def test_gives_up_with_clear_error_after_budget():
    with running_server(faults=["http_500"] * 10) as url:
        with pytest.raises(LLMError, match=r"gave up after 3 tries \(http_500, http_500, http_500\)"):
            call(url, max_retries=2)


def test_connection_refused_is_an_llm_error():
    with pytest.raises(LLMError, match="connection"):
        call("http://127.0.0.1:9/v1", max_retries=1)


def test_client_errors_are_not_retried(synthetic_url):
    async def go():
        llm = OpenAIBackend(synthetic_url.replace("/v1", "/nope"), "synthetic", backoff_s=0.01)
        try:
            return await llm.complete(MSGS)
        finally:
            await llm.aclose()
    with pytest.raises(LLMError, match="answered 404"):
        asyncio.run(go())


def test_concurrency_is_bounded():
    async def go(url):
        llm = OpenAIBackend(url, "synthetic", concurrency=4)
        t0 = time.perf_counter()
        done = await asyncio.gather(*(llm.complete(MSGS, SCHEMA, seed=i) for i in range(12)))
        await llm.aclose()
        return time.perf_counter() - t0, done
    with running_server(latency_ms=200) as url:
        _, done = asyncio.run(go(url))
        stats = httpx.get(url.replace("/v1", "/stats")).json()
    assert stats["requests"] == 12
    # 12 calls through 4 slots: at least two rounds of waiting show up as queueing time.
    assert max(c.queued_s for c in done) >= 0.3


def test_request_carries_json_schema_response_format(synthetic_url):
    body = OpenAIBackend(synthetic_url, "m")._body(MSGS, SCHEMA, 5, None, None)
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == SCHEMA and body["seed"] == 5


def test_parse_json_repairs_and_rejects():
    assert parse_json('{"a": 1}') == ({"a": 1}, False)
    data, repaired = parse_json('{"a": [1, 2')
    assert data == {"a": [1, 2]} and repaired
    assert parse_json("[1, 2]")[0] is None
    assert parse_json(json.dumps("x" * 10))[0] is None


def test_grammar_schema_drops_only_long_string_limits():
    from gauntlet.agents.embedded import GRAMMAR_MAX_LENGTH, grammar_schema
    from gauntlet.provers.formalise import candidate_schema
    g = grammar_schema(candidate_schema())
    assert g == candidate_schema()  # every limit fits the grammar: none dropped
    assert g["properties"]["hypotheses"]["items"]["maxLength"] <= GRAMMAR_MAX_LENGTH
    assert grammar_schema(SCHEMA) == SCHEMA  # the debate's own schemas are already grammar-sized


def test_server_refusing_json_schema_switches_to_json_object_once():
    """llama-cpp-python's server answers json_schema with a 500 validation error; auto mode adapts for good."""
    async def go(url):
        llm = OpenAIBackend(url, "synthetic", backoff_s=0.01, max_retries=0)
        try:
            first = await complete_structured(llm, MSGS, CritiqueSet, schema=SCHEMA, seed=1)
            second = await complete_structured(llm, MSGS, CritiqueSet, schema=SCHEMA, seed=2)
            return llm.style, first, second
        finally:
            await llm.aclose()
    with running_server(dialect="llamacpp") as url:
        style, (v1, c1), (v2, c2) = asyncio.run(go(url))
        stats = httpx.get(url.replace("/v1", "/stats")).json()
    assert style == "json_object" and v1.critiques and v2.critiques
    assert c1.faults == [] and c1.attempts == 1  # a dialect switch is not a fault and costs no retry
    assert stats["rejected"] == 1 and stats["requests"] == 2


def test_fixed_json_schema_style_does_not_adapt_and_fails_fast():
    """structured_output: json_schema means exactly that; the server's validation 500 is not retried."""
    async def go(url):
        llm = OpenAIBackend(url, "synthetic", backoff_s=0.01, structured_output="json_schema")
        try:
            return await llm.complete(MSGS, SCHEMA, seed=1)
        finally:
            await llm.aclose()
    with running_server(dialect="llamacpp") as url:
        with pytest.raises(LLMError, match=r"refused the request \(500\)"):
            asyncio.run(go(url))
        assert httpx.get(url.replace("/v1", "/stats")).json()["rejected"] == 1


def test_json_object_style_carries_a_grammar_sized_schema():
    from gauntlet.agents.response_format import rejects_json_schema, response_format
    long_text = {"type": "object", "properties": {"smtlib": {"type": "string", "maxLength": 1200},
                                                  "note": {"type": "string", "maxLength": 90}},
                 "required": ["smtlib", "note"], "additionalProperties": False}
    fmt = response_format(long_text, "json_object")
    # llama.cpp's grammar crashes on long maxLength: dropped there, kept where it is short.
    assert fmt["type"] == "json_object" and "maxLength" not in fmt["schema"]["properties"]["smtlib"]
    assert fmt["schema"]["properties"]["note"]["maxLength"] == 90
    assert response_format(SCHEMA, "json_schema")["json_schema"]["schema"] == SCHEMA
    # A crashed engine's 500 stays a retryable fault; only the words of a rejection switch dialects.
    assert not rejects_json_schema(500, "Internal Server Error")
    assert rejects_json_schema(400, "response_format.type must be one of json_object, text; got json_schema")


def test_config_option_reaches_the_backend():
    from gauntlet.config import ModelConfig
    llm = OpenAIBackend.from_config(ModelConfig(backend="openai", base_url="http://127.0.0.1:9/v1",
                                                structured_output="json_object"))
    assert llm.style == "json_object" and not llm.adaptive
    assert llm._body(MSGS, SCHEMA, 1, None, None)["response_format"]["type"] == "json_object"
