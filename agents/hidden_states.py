"""The embedded model's hidden state: the residual stream after one transformer layer, at a prompt's last token.

Why: a small model knows more than it says. On the rulings calibration split the 1.5B juror's own yes/no answer
ranks sound above unsound critiques at AUC 0.60, while a linear probe on its layer-18 state (of 28), read at the
same prompt, reaches 0.88 in leave-one-proposal-out cross-validation (agents/probe.py; BENCHMARKS.md, "Scored
verdicts"). Reading that state costs one token's evaluation, not a generated answer.

How: llama.cpp offers no call that returns a middle layer's output, but a context can be given an eval callback
(ggml's `cb_eval`), which the scheduler calls for each tensor of the graph: "do you want this one?", then with its
data once computed. `LayerReader` keeps a second context on the same weights (no second copy of the model) whose
callback copies the last token's column of `l_out-<layer>`. The prompt itself is evaluated on the session's own
context, where the prefix cache serves it; its KV state is copied into the reader's context (the same hand-over
the decoder uses, agents/llama_session.py) and only the last prompt token is evaluated again there. The main
context never carries a callback, so generation pays nothing for it.
"""

from __future__ import annotations

import ctypes
import glob
import os
from typing import Any

import numpy as np

from gauntlet.agents.llm import LLMError

# Where the probe reads, as a fraction of the model's depth: ~2/3, where the rulings probe separated best (layers
# 6, 10, 14, 18, 22 and 27 of 28 compared on the calibration split: 0.74, 0.76, 0.76, 0.88, 0.83, 0.78).
DEPTH = 0.65


def default_layer(n_layer: int) -> int:
    """The layer a probe reads by default on a model of `n_layer` layers."""
    return max(0, min(n_layer - 1, int(round(n_layer * DEPTH))))


def _ggml() -> Any:
    """libggml-base from llama-cpp-python's own build: tensor names and a backend-safe copy of tensor data."""
    import llama_cpp  # noqa: PLC0415

    found = sorted(glob.glob(os.path.join(os.path.dirname(llama_cpp.__file__), "lib", "libggml-base.*")))
    if not found:
        raise LLMError("llama-cpp-python ships no libggml-base library; hidden states cannot be read")
    lib = ctypes.CDLL(found[0])
    lib.ggml_get_name.restype = ctypes.c_char_p
    lib.ggml_get_name.argtypes = [ctypes.c_void_p]
    lib.ggml_nbytes.restype = ctypes.c_size_t
    lib.ggml_nbytes.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_tensor_get.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t]
    return lib


class LayerReader:
    """A second llama.cpp context on `llama`'s weights whose eval callback keeps one layer's output for the last
    token of each evaluation."""

    def __init__(self, llama: Any, layer: int) -> None:
        import llama_cpp  # noqa: PLC0415

        n_layer = int(llama_cpp.llama_model_n_layer(llama.model))
        if not 0 <= layer < n_layer:
            raise LLMError(f"the model has layers 0..{n_layer - 1}; a probe asked for layer {layer}")
        self.layer, self.n_embd = layer, int(llama.n_embd())
        self._lib = _ggml()
        self._want = f"l_out-{layer}".encode()
        self._last: np.ndarray | None = None
        # Kept as attributes: ctypes must not collect the callback while llama.cpp holds it.
        self._callback = llama_cpp.ggml_backend_sched_eval_callback(self._on_tensor)
        # A copy of the session's context settings (the struct the Llama holds stays untouched).
        params = type(llama.context_params).from_buffer_copy(llama.context_params)
        params.cb_eval = self._callback
        params.cb_eval_user_data = None
        self._params = params
        self._ctx = llama_cpp.llama_init_from_model(llama.model, params)
        if not self._ctx:
            raise LLMError("llama.cpp could not make a context for reading hidden states (out of memory?)")

    def _on_tensor(self, tensor: int, ask: bool, _user: Any) -> bool:
        if self._lib.ggml_get_name(tensor) != self._want:
            return not ask  # not wanted; while computing, go on
        if ask:
            return True
        size = 4 * self.n_embd
        buf = (ctypes.c_float * self.n_embd)()
        # The layer output is f32 [n_embd, n_tokens], contiguous: the last token is its last column.
        self._lib.ggml_backend_tensor_get(tensor, buf, self._lib.ggml_nbytes(tensor) - size, size)
        self._last = np.frombuffer(buf, dtype=np.float32).copy()
        return True

    def read(self, state: bytes, tokens: list[int]) -> np.ndarray:
        """The layer's output at the last of `tokens`, given `state`: the KV state of exactly `tokens` from
        another context on the same weights (agents/prefix_cache.py `seq_state`)."""
        import llama_cpp  # noqa: PLC0415

        if not tokens:
            raise LLMError("a hidden state needs a prompt of at least one token")
        memory = llama_cpp.llama_get_memory(self._ctx)
        llama_cpp.llama_memory_clear(memory, True)
        buf = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if llama_cpp.llama_state_seq_set_data(self._ctx, buf, len(state), 0) != len(state):
            raise LLMError("llama.cpp refused the prompt state handed to the hidden-state reader")
        last = len(tokens) - 1
        llama_cpp.llama_memory_seq_rm(memory, 0, last, -1)  # the last token is evaluated again, here
        one = (llama_cpp.llama_token * 1)(tokens[last])
        self._last = None
        if llama_cpp.llama_decode(self._ctx, llama_cpp.llama_batch_get_one(one, 1)) != 0 or self._last is None:
            raise LLMError(f"llama.cpp did not compute layer {self.layer}'s output")
        return self._last

    def close(self) -> None:
        import llama_cpp  # noqa: PLC0415

        if self._ctx:
            llama_cpp.llama_free(self._ctx)
            self._ctx = None
