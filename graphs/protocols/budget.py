"""Per-run caps on LLM calls, tokens and wall time. Reaching one ends the debate cleanly, never mid-node."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


class BudgetReached(Exception):
    """Raised by a move that may not make its call; the move then contributes nothing to the graph."""


@dataclass
class Budget:
    max_calls: int | None = None
    max_tokens: int | None = None
    wall_seconds: float | None = None
    calls: int = 0  # reserved before each call, so parallel branches cannot overshoot together
    tokens: int = 0
    elapsed_before: float = 0.0  # wall time spent by earlier processes of this run (resume)
    started: float = field(default_factory=time.monotonic)
    reason: str | None = None

    def exhausted(self) -> str | None:
        """Which cap is reached, if any (and remember it: once reached, a budget stays reached)."""
        if self.reason is None:
            if self.max_calls is not None and self.calls >= self.max_calls:
                self.reason = f"max_calls ({self.max_calls})"
            elif self.max_tokens is not None and self.tokens >= self.max_tokens:
                self.reason = f"max_tokens ({self.max_tokens})"
            elif self.wall_seconds is not None and self.elapsed() >= self.wall_seconds:
                self.reason = f"wall_seconds ({self.wall_seconds:g})"
        return self.reason

    def elapsed(self) -> float:
        return self.elapsed_before + time.monotonic() - self.started

    def reserve_call(self) -> None:
        """Claim one call or raise BudgetReached."""
        reason = self.exhausted()
        if reason:
            raise BudgetReached(reason)
        self.calls += 1

    def record(self, tokens: int) -> None:
        self.tokens += tokens
