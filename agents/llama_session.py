"""One loaded llama.cpp model and what Gauntlet asks of it: chat prompts rendered with the model's own template,
evaluated in cacheable segments (agents/prefix_cache.py), then either generated from (optionally under a GBNF
grammar), scored (the next-token log-probabilities of a few answer labels, no generated text), or read (one
layer's hidden state at the prompt's last token, agents/hidden_states.py).

Not thread-safe and not async: the backend (agents/embedded.py) serialises calls and holds the model lock."""

from __future__ import annotations

import ctypes
import json
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from gauntlet.agents.choice_logprobs import logsumexp
from gauntlet.agents.hidden_states import LayerReader
from gauntlet.agents.llama_sampling import SamplingParams, generate, grammar_first
from gauntlet.agents.llm import LLMError, Message
from gauntlet.agents.prefix_cache import PromptEvaluator, candidate_offsets, load_seq_state, segment_ends, seq_state


@dataclass
class Prompt:
    tokens: list[int]
    ends: list[int]  # segment ends, the last is len(tokens)
    save_below: int  # segment ends at or below this are kept in the prefix LRU (see prefix_cache.candidate_offsets)
    static_below: int = 0  # ... and at or below this (the first message, fixed text) on disk (agents/prefix_store.py)


@dataclass
class Timings:
    """Where a session's time went: prompt evaluation vs generation, with token counts (for tokens/s)."""

    prompt_s: float = 0.0
    prompt_tokens: int = 0  # evaluated, i.e. not reused from a cached prefix
    generate_s: float = 0.0
    generated_tokens: int = 0

    def as_dict(self) -> dict[str, float]:
        return {"prompt_s": round(self.prompt_s, 3), "prompt_tokens": self.prompt_tokens,
                "prompt_tokens_per_s": round(self.prompt_tokens / self.prompt_s, 2) if self.prompt_s else 0.0,
                "generate_s": round(self.generate_s, 3), "generated_tokens": self.generated_tokens,
                "generated_tokens_per_s": (round(self.generated_tokens / self.generate_s, 2)
                                           if self.generate_s else 0.0)}


# llama-cpp-python's JSON-schema converter lets a string hold raw control characters (`[^"\\]`), which JSON
# forbids; the model then wrote a raw newline inside a rebuttal's text, the reply needed repairing, the repair
# misread the string's end and the whole call was retried (~10 s in the demo). llama.cpp's own converter and its
# generic JSON grammar exclude them, as here.
_LAX_CHAR = 'char ::= [^"\\\\] |'
_STRICT_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F] |'


def strict_strings(gbnf: str) -> str:
    """A converted JSON-schema grammar whose strings cannot hold raw control characters (escapes still can)."""
    return "\n".join(_STRICT_CHAR + line[len(_LAX_CHAR):] if line.startswith(_LAX_CHAR) else line
                     for line in gbnf.split("\n"))


def label_variants(choice: str) -> list[str]:
    """The spellings a reply starting with `choice` may take: as written and with/without one leading space."""
    bare = choice.lstrip(" ")
    return [bare, " " + bare] if bare else [choice]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    x = logits.astype(np.float64)
    top = float(x.max())
    return x - (top + math.log(float(np.exp(x - top).sum())))


class LlamaSession:
    """A `llama_cpp.Llama` with its chat formatter, prefix evaluator and compiled-grammar cache."""

    def __init__(self, llama: Any, *, cache: bool | None = None,
                 decoder: Callable[[], Any] | None = None, disk: Any = None) -> None:
        """`decoder`: loads a second copy of the weights that writes generated tokens (agents/llama_runtime.py
        `DecoderChoice`), called on the first generation; None generates on `llama`. `disk`: where first-message
        states persist across processes (agents/prefix_store.py `PrefixStore`), or None."""
        from llama_cpp import llama_chat_format  # noqa: PLC0415

        self.llama = llama
        self._load_decoder = decoder
        self._decoder: Any = None
        self.evaluator = PromptEvaluator(llama, enabled=cache, disk=disk)
        self.timings = Timings()
        eos_id = llama.token_eos()
        eos = llama._model.token_get_text(eos_id) if eos_id != -1 else ""
        bos_id = llama.token_bos()
        bos = llama._model.token_get_text(bos_id) if bos_id != -1 else ""
        # The GGUF's own template, as llama-cpp-python's chat completion uses it (ChatML when a file has none).
        template = llama.metadata.get("tokenizer.chat_template") or llama_chat_format.CHATML_CHAT_TEMPLATE
        self._formatters = {gen: llama_chat_format.Jinja2ChatFormatter(
            template=template, eos_token=eos, bos_token=bos, add_generation_prompt=gen,
            stop_token_ids=[eos_id]) for gen in (True, False)}
        self._grammars: dict[str, Any] = {}
        self._readers: dict[int, LayerReader] = {}

    def render(self, messages: list[Message], generation_prompt: bool) -> str:
        return self._formatters[generation_prompt](messages=list(messages)).prompt

    def tokenize(self, text: str) -> list[int]:
        return self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def prompt(self, messages: list[Message]) -> Prompt:
        full, offsets, kept_end = candidate_offsets(self.render, list(messages))
        tokens = self.tokenize(full)
        ends = segment_ends(tokens, full, offsets, self.tokenize)
        save_below = len(self.tokenize(full[:kept_end])) if kept_end else 0
        first = self.render(list(messages[:1]), False)
        static_below = len(self.tokenize(first)) if len(messages) > 1 and full.startswith(first) else 0
        return Prompt(tokens, ends, save_below, min(static_below, save_below))

    def evaluate(self, messages: list[Message]) -> Prompt:
        """Leave the context holding the prompt, its last token's logits current."""
        p = self.prompt(messages)
        n_ctx = self.llama.n_ctx()
        if len(p.tokens) >= n_ctx:
            raise ValueError(f"Requested tokens ({len(p.tokens)}) exceed context window of {n_ctx}")
        t0 = time.perf_counter()
        reused = self.evaluator.evaluate(p.tokens, p.ends, p.save_below, p.static_below)
        self.timings.prompt_s += time.perf_counter() - t0
        self.timings.prompt_tokens += len(p.tokens) - reused
        return p

    def grammar(self, text: str) -> Any:
        """A GBNF grammar compiled once per text; LLMError when llama.cpp cannot parse it."""
        if text not in self._grammars:
            import llama_cpp  # noqa: PLC0415
            from llama_cpp.llama_grammar import LlamaGrammar  # noqa: PLC0415

            probe = llama_cpp.llama_sampler_init_grammar(self.llama._model.vocab, text.encode("utf-8"), b"root")
            if not probe:
                raise LLMError("the GBNF grammar does not parse (llama.cpp's message is on stderr); "
                               "a grammar needs a `root` rule")
            llama_cpp.llama_sampler_free(probe)
            self._grammars[text] = LlamaGrammar.from_string(text, verbose=False)
        return self._grammars[text]

    def schema_grammar(self, schema: Any) -> Any:
        """The grammar llama-cpp-python derives from a JSON schema (generic JSON if it cannot), cached."""
        from llama_cpp.llama_grammar import JSON_GBNF, json_schema_to_gbnf  # noqa: PLC0415

        key = json.dumps(schema, sort_keys=True)
        cached = self._grammars.get("schema:" + key)
        if cached is None:
            try:
                gbnf = strict_strings(json_schema_to_gbnf(json.dumps(schema)))
            except Exception:  # noqa: BLE001 - llama-cpp-python's converter rejects some schemas
                gbnf = JSON_GBNF
            cached = self.grammar(gbnf)
            self._grammars["schema:" + key] = cached
        return cached

    def complete(self, messages: list[Message], *, grammar: Any, seed: int, max_tokens: int,
                 temperature: float) -> dict[str, Any]:
        """A completion response (llama-cpp-python's dict shape) for the chat prompt; `grammar` is a compiled
        LlamaGrammar or None. Sampling checks the grammar on the drawn token first (agents/llama_sampling.py)."""
        p = self.evaluate(messages)
        t0 = time.perf_counter()
        writer = self._writer(p.tokens)
        tokens, finish = generate(writer, grammar._grammar if grammar is not None else None,
                                  SamplingParams(seed=seed, temperature=temperature, grammar_first=grammar_first()),
                                  max_tokens)
        text = self.llama.detokenize(tokens, prev_tokens=p.tokens).decode("utf-8", errors="ignore")
        self.timings.generate_s += time.perf_counter() - t0
        self.timings.generated_tokens += len(tokens)
        return {"choices": [{"text": text, "finish_reason": finish}],
                "usage": {"prompt_tokens": len(p.tokens), "completion_tokens": len(tokens)}}

    def decoder(self) -> Any:
        """The generating copy of the weights (loaded on first use), or None when this session has none."""
        if self._decoder is None and self._load_decoder is not None:
            self._decoder = self._load_decoder()
        return self._decoder

    def _writer(self, tokens: list[int]) -> Any:
        """The model that writes this call's tokens. With a decoder, the prompt model's state (exactly `tokens`:
        its last eval dropped any cells past them) is copied into the decoder's context, whose last token is then
        evaluated again there, so the decoder's own logits start the generation. The prompt model keeps the bare
        prompt, which is what the next call's prefix reuse looks for."""
        dec = self.decoder()
        if dec is None or len(tokens) < 2:
            return self.llama
        try:
            load_seq_state(dec, seq_state(self.llama), tokens)
        except RuntimeError:
            raise LLMError("llama.cpp refused the prompt state handed to the decoder (GAUNTLET_LLAMA_DECODER=off "
                           "generates on the prompt model)") from None
        last = len(tokens) - 1
        dec._ctx.kv_cache_seq_rm(0, last, -1)
        dec.n_tokens = last
        dec.eval(tokens[last:])
        return dec

    def n_layer(self) -> int:
        import llama_cpp  # noqa: PLC0415

        return int(llama_cpp.llama_model_n_layer(self.llama.model))

    def hidden_state(self, messages: list[Message], layer: int) -> tuple[np.ndarray, int]:
        """Transformer layer `layer`'s output at the prompt's last token (a probe's input), and the prompt's token
        count. The prompt is evaluated here, where the prefix cache serves it (a scored question just asked on the
        same prompt costs nothing again); the reader's context then evaluates only its last token."""
        p = self.evaluate(messages)
        t0 = time.perf_counter()
        if layer not in self._readers:
            self._readers[layer] = LayerReader(self.llama, layer)
        state = self._readers[layer].read(seq_state(self.llama), p.tokens)
        self.timings.prompt_s += time.perf_counter() - t0
        return state, len(p.tokens)

    def close(self) -> None:
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()
        for model in (self._decoder, self.llama):
            if model is not None:
                model.close()
        self._decoder = None

    def _next_logprobs(self) -> np.ndarray:
        import llama_cpp  # noqa: PLC0415

        ptr = llama_cpp.llama_get_logits_ith(self.llama._ctx.ctx, -1)
        n_vocab = self.llama.n_vocab()
        return log_softmax(np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)),
                                                 shape=(n_vocab,)))

    def score(self, messages: list[Message], choices: Sequence[str]) -> tuple[dict[str, float], int]:
        """log P(reply starts with choice) per choice, from one prompt pass; and the prompt's token count.

        A multi-token label continues from the prompt one token at a time (its tokens' log-probs summed); the
        spellings with and without a leading space are folded together by log-sum-exp."""
        if not choices:
            raise LLMError("score needs at least one choice")
        p = self.evaluate(messages)
        t0 = time.perf_counter()
        base = len(p.tokens)
        after: dict[tuple[int, ...], np.ndarray] = {(): self._next_logprobs()}

        def sequence_logprob(seq: list[int]) -> float:
            if tuple(seq[:-1]) not in after:
                self.llama.n_tokens = base  # the next eval drops any other label's tokens
                for i, tok in enumerate(seq[:-1]):
                    self.llama.eval([tok])
                    after[tuple(seq[:i + 1])] = self._next_logprobs()
            return float(sum(after[tuple(seq[:i])][tok] for i, tok in enumerate(seq)))

        out: dict[str, float] = {}
        for choice in choices:
            seqs = {tuple(self.llama.tokenize(v.encode("utf-8"), add_bos=False, special=False))
                    for v in label_variants(choice)}
            out[choice] = logsumexp([sequence_logprob(list(s)) for s in sorted(seqs) if s])
        self.timings.prompt_s += time.perf_counter() - t0
        return out, base
