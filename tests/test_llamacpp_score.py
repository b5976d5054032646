"""`score` and `grammar` against a real engine: llama-cpp-python's OpenAI-compatible server with the embedded GGUF.

Its server keeps logits for every position by default (`logits_all`), so chat completions answer `logprobs` in the
OpenAI format; a grammar rides in its `grammar` field (it says `owned_by: me`).
Run with the model lock: flock /tmp/gauntlet-model.lock pytest tests/test_llamacpp_score.py -m slow
"""

from __future__ import annotations

import asyncio
import math

import pytest

from gauntlet.agents.launch import _has_llamacpp_server
from gauntlet.agents.openai_backend import OpenAIBackend

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not _has_llamacpp_server(), reason="needs the serve extra: pip install -e '.[serve]'")]

QUESTION = [{"role": "user", "content": "Is Paris the capital of France? Answer Yes or No."}]
WRONG = [{"role": "user", "content": "Is Madrid the capital of France? Answer Yes or No."}]




def test_score_reads_the_answer_from_logprobs_and_a_grammar_constrains_the_text(llamacpp_url):
    async def go():
        llm = OpenAIBackend(llamacpp_url, "embedded", max_retries=1)
        try:
            right = await llm.score(QUESTION, ["Yes", "No"], seed=0)
            wrong = await llm.score(WRONG, ["Yes", "No"], seed=0)
            multi = await llm.score(QUESTION, ["sustained", "overruled"], seed=0)
            text = await llm.complete(WRONG, grammar='root ::= "yes" | "no"', max_tokens=4, temperature=0.0)
            return right, wrong, multi, text, llm
        finally:
            await llm.aclose()
    right, wrong, multi, text, llm = asyncio.run(go())
    assert right.scored and wrong.scored and llm.has_logprobs and llm.grammar.known == "grammar"
    assert right.margin("Yes", "No") > 1.0 > -1.0 > wrong.margin("Yes", "No")
    assert all(math.isfinite(v) and v < 0 for v in right.logprobs.values())
    assert multi.scored and all(math.isfinite(v) for v in multi.logprobs.values())
    assert text.text in ("yes", "no")
