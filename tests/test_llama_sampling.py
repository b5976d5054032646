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
