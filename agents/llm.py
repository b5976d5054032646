"""The one LLM protocol every backend speaks, and what a call returns."""

from __future__ import annotations

import contextlib

import math
from dataclasses import dataclass, field
from typing import Any, AsyncContextManager, Protocol, Sequence, TypedDict, runtime_checkable


class Message(TypedDict):
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass
class Completion:
    """One finished call: the text, the parsed JSON when a schema was given, and its accounting."""

    text: str
    data: dict[str, Any] | None = None
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    queued_s: float = 0.0
    attempts: int = 1
    repaired: bool = False
    faults: list[str] = field(default_factory=list)


@dataclass
class ChoiceScores:
    """How likely the model is to answer with each choice, read in one prompt pass (no generated text).

    `logprobs[choice]` is the log-probability that the assistant's reply starts with that choice (a multi-token
    label: the sum over its tokens; a leading-space variant is folded in by log-sum-exp). Not normalised over the
    choices: `normalised()` does that. `scored` is False when the backend could not read probabilities (a server
    without logprobs): then one choice was generated under a constraint and carries log 1 = 0, the others -inf,
    and callers must treat the decision as unscored (never calibrated, never accepted on a threshold).
    """

    logprobs: dict[str, float]
    scored: bool = True
    model: str = ""
    prompt_tokens: int = 0
    latency_s: float = 0.0
    faults: list[str] = field(default_factory=list)

    def normalised(self) -> dict[str, float]:
        """Log-probabilities renormalised over the choices (log-softmax)."""
        finite = [v for v in self.logprobs.values() if v != -math.inf]
        if not finite:
            return {k: -math.log(len(self.logprobs)) for k in self.logprobs}
        top = max(finite)
        total = top + math.log(sum(math.exp(v - top) for v in finite))
        return {k: (v - total if v != -math.inf else -math.inf) for k, v in self.logprobs.items()}

    def margin(self, positive: str, negative: str) -> float:
        """log P(positive) - log P(negative): the raw score a calibration maps to a probability."""
        return self.logprobs[positive] - self.logprobs[negative]


@dataclass
class HiddenState:
    """One transformer layer's output at a prompt's last token (`values`, a float vector of the model's width):
    the input of a linear probe (agents/probe.py). Only backends that run the model in-process can give it."""

    values: Any
    layer: int
    model: str = ""
    prompt_tokens: int = 0
    latency_s: float = 0.0


class LLMError(Exception):
    """A call failed after its retries; the message says which fault and how often."""


@runtime_checkable
class LLM(Protocol):
    """A backend. `schema` is a JSON schema the output must satisfy (constrained decoding where possible);
    `grammar` a GBNF grammar the output must match (llama.cpp in-process and its server; vLLM's grammar-guided
    decoding). A backend that cannot enforce a grammar raises LLMError rather than generate unconstrained text.
    `score` reads a decision among `choices` from the answer-token probabilities of one prompt pass."""

    name: str

    async def complete(self, messages: list[Message], schema: dict[str, Any] | None = None, *,
                       seed: int | None = None, max_tokens: int | None = None,
                       temperature: float | None = None, grammar: str | None = None) -> Completion: ...

    async def score(self, messages: list[Message], choices: Sequence[str], *,
                    seed: int | None = None) -> ChoiceScores: ...

    async def aclose(self) -> None: ...


def reads_hidden_states(llm: Any) -> bool:
    """Whether `llm` can give hidden states (an optional capability: `async hidden_state(messages, layer)`);
    a routing backend answers for its default endpoint."""
    probe = getattr(llm, "reads_hidden_states", None)
    if callable(probe):
        return bool(probe())
    return callable(getattr(llm, "hidden_state", None))


def back_to_back(llm: Any) -> AsyncContextManager[None]:
    """A section whose calls on `llm` run one after another with no other task's call between them, where the
    backend can promise it (the embedded model: passes that share a prompt prefix, e.g. a question in both answer
    orders, then reuse the evaluated prefix the context still holds). Elsewhere it changes nothing."""
    hold = getattr(llm, "exclusive", None)
    return hold() if callable(hold) else contextlib.nullcontext()
