"""Token generation on a llama.cpp context whose prompt is already evaluated, with the grammar checked on the
sampled token first (as llama.cpp's own server samples).

llama-cpp-python applies a grammar to all ~152,000 candidate tokens before every sampling step: 15-30 ms a token
on 2 cores for the debate's JSON-schema grammars, against ~40 ms for the model's forward pass. Here the sampling
chain (repeat penalty, top-k 40, top-p 0.95, min-p 0.05, temperature, seeded draw) picks a token from the raw
logits, the grammar checks that one token (microseconds), and only when it is rejected is the grammar applied to
every candidate and the chain run again. The output still always matches the grammar; for a seed it is
deterministic (the chain's random draws happen in the same order every time). GAUNTLET_GRAMMAR_FIRST=1 applies
the grammar to every candidate at every step instead (llama-cpp-python's way: the baseline for measurements).
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

PENALTY_LAST_N = 64
GRAMMAR_FIRST_ENV = "GAUNTLET_GRAMMAR_FIRST"


def grammar_first() -> bool:
    return os.environ.get(GRAMMAR_FIRST_ENV, "").strip().lower() in ("1", "on", "true", "yes")


@dataclass(frozen=True)
class SamplingParams:
    seed: int
    temperature: float
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    grammar_first: bool = False


def _chain(n_vocab: int, p: SamplingParams) -> Any:
    from llama_cpp import _internals as internals  # noqa: PLC0415

    chain = internals.LlamaSampler()
    chain.add_penalties(n_vocab=n_vocab, penalty_last_n=PENALTY_LAST_N, penalty_repeat=p.repeat_penalty,
                        penalty_freq=0.0, penalty_present=0.0)
    if p.temperature <= 0:
        chain.add_greedy()
    else:
        chain.add_top_k(p.top_k)
        chain.add_typical(1.0, 1)
        chain.add_top_p(p.top_p, 1)
        chain.add_min_p(p.min_p, 1)
        chain.add_temp(p.temperature)
        chain.add_dist(p.seed & 0xFFFFFFFF)
    return chain


def generate(llama: Any, grammar: str | None, params: SamplingParams, max_tokens: int) -> tuple[list[int], str]:
    """Sample up to max_tokens after the evaluated prompt; (tokens, finish_reason "stop" | "length")."""
    import llama_cpp  # noqa: PLC0415
    from llama_cpp import _internals as internals  # noqa: PLC0415

    n_vocab = llama.n_vocab()
    vocab = llama._model.vocab
    ctx = llama._ctx.ctx
    chain = _chain(n_vocab, params)
    grmr = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode("utf-8"), b"root") if grammar else None
    if grammar and not grmr:
        raise ValueError("the grammar does not parse")
    cur = internals.LlamaTokenDataArray(n_vocab=n_vocab)
    one = (llama_cpp.llama_token_data * 1)()
    single = llama_cpp.llama_token_data_array(data=one, size=1, selected=-1, sorted=False)
    out: list[int] = []
    finish = "length"
    try:
        limit = max(0, min(max_tokens, llama.n_ctx() - llama.n_tokens - 1))
        while len(out) < limit:
            logits = np.ctypeslib.as_array(
                ctypes.cast(llama_cpp.llama_get_logits_ith(ctx, -1), ctypes.POINTER(ctypes.c_float)),
                shape=(n_vocab,))
            token = _pick(chain, cur, logits, grmr if params.grammar_first else None)
            if grmr and not params.grammar_first:
                one[0].id, one[0].logit, one[0].p = token, 0.0, 0.0
                single.size, single.selected = 1, -1
                llama_cpp.llama_sampler_apply(grmr, ctypes.byref(single))
                if one[0].logit == -np.inf:  # off-grammar: constrain every candidate, then draw again
                    token = _pick(chain, cur, logits, grmr)
            if grmr:
                llama_cpp.llama_sampler_accept(grmr, token)
            llama_cpp.llama_sampler_accept(chain.sampler, token)
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                finish = "stop"
                break
            out.append(token)
            if len(out) < limit:  # the last token's logits are never needed
                llama.eval([token])
    finally:
        if grmr:
            llama_cpp.llama_sampler_free(grmr)
    return out, finish


def _pick(chain: Any, cur: Any, logits: np.ndarray, grammar: Any = None) -> int:
    import llama_cpp  # noqa: PLC0415

    cur.copy_logits(logits)
    cur.candidates.selected = -1
    if grammar is not None:
        llama_cpp.llama_sampler_apply(grammar, ctypes.byref(cur.candidates))
    llama_cpp.llama_sampler_apply(chain.sampler, ctypes.byref(cur.candidates))
    return int(cur.candidates.data[cur.candidates.selected].id)
