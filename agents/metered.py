"""Structured calls outside a debate (drafting a clone, measuring it), with what they cost counted."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from gauntlet.agents.llm import LLM, Message
from gauntlet.agents.structured import complete_structured

T = TypeVar("T", bound=BaseModel)


@dataclass
class Meter:
    """Calls, tokens and model seconds spent, for a report's `cost` block."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_s: float = 0.0
    notes: list[str] = field(default_factory=list)  # what a reviewer should know: re-asks, dropped quotes
    started: float = field(default_factory=time.monotonic)

    async def ask(self, llm: LLM, messages: list[Message], model: type[T], schema: dict[str, Any], *,
                  seed: int, max_tokens: int | None = None) -> T:
        value, c = await complete_structured(llm, messages, model, schema=schema, seed=seed,
                                             **({"max_tokens": max_tokens} if max_tokens else {}))
        self.calls += c.attempts
        self.prompt_tokens += c.prompt_tokens
        self.completion_tokens += c.completion_tokens
        self.model_s += c.latency_s
        return value

    def cost(self) -> dict[str, Any]:
        return {"calls": self.calls, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "model_s": round(self.model_s, 2),
                "wall_s": round(time.monotonic() - self.started, 2), "notes": list(self.notes)}
