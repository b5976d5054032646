"""The one LLM protocol every backend speaks, and what a call returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict, runtime_checkable


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


class LLMError(Exception):
    """A call failed after its retries; the message says which fault and how often."""


@runtime_checkable
class LLM(Protocol):
    """A backend. `schema` is a JSON schema the output must satisfy (constrained decoding where possible)."""

    name: str

    async def complete(self, messages: list[Message], schema: dict[str, Any] | None = None, *,
                       seed: int | None = None, max_tokens: int | None = None,
                       temperature: float | None = None) -> Completion: ...

    async def aclose(self) -> None: ...
