"""The embedded sampler's chain on llama.cpp's real sampler objects (no model needed: the chain works on a
candidate array): a seed repeats its draw, temperature 0 is greedy, draws stay inside the top-k, and the
grammar-first switch is read from the environment."""

from __future__ import annotations

import numpy as np

from gauntlet.agents.llama_sampling import SamplingParams, _chain, _pick, grammar_first

N_VOCAB = 5000


def draws(params: SamplingParams, logits: np.ndarray, n: int = 20) -> list[int]:
    import llama_cpp
    from llama_cpp import _internals as internals

    chain = _chain(N_VOCAB, params)
    cur = internals.LlamaTokenDataArray(n_vocab=N_VOCAB)
    out = []
    for _ in range(n):
        token = _pick(chain, cur, logits)
        llama_cpp.llama_sampler_accept(chain.sampler, token)
        out.append(token)
    return out


def test_a_seed_repeats_and_draws_stay_in_the_top_k():
    logits = np.random.default_rng(0).normal(size=N_VOCAB).astype(np.float32) * 3
    a = draws(SamplingParams(seed=7, temperature=0.7), logits)
    assert a == draws(SamplingParams(seed=7, temperature=0.7), logits)
    assert a != draws(SamplingParams(seed=8, temperature=0.7), logits)
    top = set(np.argsort(-logits)[:40].tolist())
    assert set(a) <= top


def test_temperature_zero_is_greedy_until_the_repeat_penalty_bites():
    logits = np.zeros(N_VOCAB, dtype=np.float32)
    logits[42] = 10.0
    assert draws(SamplingParams(seed=1, temperature=0.0), logits, 3) == [42, 42, 42]


def test_grammar_first_switch(monkeypatch):
    monkeypatch.delenv("GAUNTLET_GRAMMAR_FIRST", raising=False)
    assert not grammar_first()
    monkeypatch.setenv("GAUNTLET_GRAMMAR_FIRST", "1")
    assert grammar_first()


def _grammar_allows(vocab_model, gbnf: str, text: str) -> bool:
    """Whether `gbnf` lets the model write `text` token by token (llama.cpp's own grammar sampler)."""
    import ctypes

    import llama_cpp

    grmr = llama_cpp.llama_sampler_init_grammar(vocab_model._model.vocab, gbnf.encode(), b"root")
    assert grmr, "the grammar does not parse"
    one = (llama_cpp.llama_token_data * 1)()
    single = llama_cpp.llama_token_data_array(data=one, size=1, selected=-1, sorted=False)
    try:
        for token in vocab_model.tokenize(text.encode(), add_bos=False, special=False):
            one[0].id, one[0].logit, one[0].p = token, 0.0, 0.0
            single.size, single.selected = 1, -1
            llama_cpp.llama_sampler_apply(grmr, ctypes.byref(single))
            if one[0].logit == -np.inf:
                return False
            llama_cpp.llama_sampler_accept(grmr, token)
        return True
    finally:
        llama_cpp.llama_sampler_free(grmr)


def test_schema_strings_cannot_hold_a_raw_newline():
    """llama-cpp-python's converter let a rebuttal's text hold a raw newline (invalid JSON: the demo's reply was
    repaired wrongly and the call retried); the session's grammar takes only the escaped form."""
    import json

    import llama_cpp
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    from gauntlet.agents.embedded import model_path
    from gauntlet.agents.llama_session import strict_strings

    vocab = llama_cpp.Llama(model_path=str(model_path()), vocab_only=True, verbose=False)
    schema = {"type": "object", "properties": {"text": {"type": "string", "maxLength": 40}}, "required": ["text"]}
    lax = json_schema_to_gbnf(json.dumps(schema))
    strict = strict_strings(lax)
    assert strict != lax
    raw, escaped = '{"text": "two\nlines"}', '{"text": "two\\nlines"}'
    assert _grammar_allows(vocab, lax, raw)  # the converter's own rule: why strict_strings exists
    assert not _grammar_allows(vocab, strict, raw)
    assert _grammar_allows(vocab, strict, escaped)
    assert json.loads(escaped)["text"] == "two\nlines"
