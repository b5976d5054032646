"""The served path on a real server: llama-cpp-python's OpenAI-compatible server with the embedded GGUF.

The synthetic server cannot show how a real engine differs; this one did: it refuses `response_format` type
json_schema (HTTP 500, a validation error), has no /health, counts real tokens and answers one request at a time.
The server is started the way `model.launch` does it (launch_engine: llama.cpp, through a shared-server lease).
Run with the model lock: flock /tmp/gauntlet-llm.lock pytest tests/test_llamacpp_server.py -m slow
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from gauntlet.agents.launch import _has_llamacpp_server
from gauntlet.agents.llm import LLMError
from gauntlet.agents.openai_backend import OpenAIBackend
from gauntlet.agents.schemas import CritiqueSet, critique_schema
from gauntlet.agents.structured import complete_structured
from gauntlet.graphs.run.loading import load_config
from gauntlet.graphs.run.runner import Runner, run_stats
from gauntlet.graphs.store.store import Store
from gauntlet.graphs.store.views import show

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not _has_llamacpp_server(), reason="needs the serve extra: pip install -e '.[serve]'")]
TINY = Path(__file__).parent / "data" / "tiny_served.yaml"
MAX_TOKENS = 200




def test_a_debate_through_backend_openai(llamacpp_url, tmp_path):
    """Structured output, dialect detection, token accounting and stored latencies, in a real (tiny) debate."""
    loaded = load_config(TINY)
    model = loaded.config.model.model_copy(update={"base_url": llamacpp_url, "name": "embedded",
                                                   "max_tokens": MAX_TOKENS})
    loaded.config.model = model
    store = Store(str(tmp_path / "served.sqlite"))
    llm = OpenAIBackend.from_config(model)  # structured_output: auto, as a user's config would have it

    async def go() -> str:
        try:
            return await Runner(store, llm=llm).start(loaded)
        finally:
            await llm.aclose()

    run_id = asyncio.run(go())
    assert llm.style == "json_object", "the server refuses json_schema; auto must have switched"
    doc = show(store, run_id, analyse=False)
    assert doc["status"] == "done" and len(doc["ideas"]) >= 1 and doc["attacks"] + doc["edges"] >= 1
    calls = [json.loads(e.payload) for e in store.events(run_id, kinds=["llm_call"])]
    assert {c["phase"] for c in calls} >= {"critique", "rebut"}
    for c in calls:
        assert c["model"] == "embedded"
        assert c["prompt_tokens"] > 50  # the server's own tokenizer count, not a word count
        # Anchored critiques and batched rulings ask for more room than max_tokens (graphs/protocols/critique_moves.py).
        assert c["completion_tokens"] > 0 and (c["phase"] in ("critique", "rule") or c["completion_tokens"] <= MAX_TOKENS)
        assert c["latency_s"] > 0.2 and c["queued_s"] >= 0  # real inference time, stored per call
        assert "no_usage" not in c["faults"]
    stats = run_stats(store, run_id)
    assert stats["completion_tokens"] == sum(c["completion_tokens"] for c in calls)
    store.engine.dispose()


def test_truncated_output_is_retried_then_reported(llamacpp_url):
    """max_tokens too small for the schema: every try is cut off ("length"), so the structured retries run
    against the real server and end in one clear error naming the faults."""
    schema = critique_schema(["r1-idea-a"], 1)
    msgs = [{"role": "user", "content": "Critique idea r1-idea-a: reward models trained on human data are safe."}]

    async def go():
        llm = OpenAIBackend(llamacpp_url, "embedded", max_retries=0, structured_output="json_object")
        try:
            return await complete_structured(llm, msgs, CritiqueSet, schema=schema, seed=5, attempts=2,
                                             max_tokens=6)
        finally:
            await llm.aclose()

    with pytest.raises(LLMError, match=r"no valid structured output after 2 tries \((invalid_json|schema_violation)"):
        asyncio.run(go())


def test_prompt_over_the_context_is_refused_without_retries(llamacpp_url):
    async def go():
        llm = OpenAIBackend(llamacpp_url, "embedded", max_retries=3, backoff_s=5.0)
        try:
            return await llm.complete([{"role": "user", "content": "word " * 3000}], max_tokens=8)
        finally:
            await llm.aclose()

    with pytest.raises(LLMError, match="answered 400.*context"):
        asyncio.run(go())


def test_the_launched_server_loads_through_gauntlets_parameters(llamacpp_url):
    """The launch ran agents/llamacpp_server.py, which applied this CPU's load parameters before the model loaded
    (on an AMX CPU the repack is off; everywhere by default)."""
    import tempfile

    from gauntlet.agents.llama_runtime import current_params

    port = llamacpp_url.rsplit(":", 1)[1].split("/")[0]
    log = (Path(tempfile.gettempdir()) / f"gauntlet-llamacpp-{port}.log").read_text(errors="replace")
    assert f"gauntlet: llama.cpp model load: {current_params().reason}" in log
