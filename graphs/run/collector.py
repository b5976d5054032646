"""Python's cyclic garbage collector while debates run: startup objects frozen out of it, young collections rarer.

Why: a debate process holds ~200,000 long-lived objects before its first call (imported modules, pydantic and
SQLAlchemy models, LangGraph), and the debate's own state grows by tens of thousands of small dicts per turn. With
the default thresholds (700, 10, 10) a 256-critic turn triggered hundreds of young collections and a few full
ones, each full one walking every object in the process: measured ~1 s of a 2.6 s debate (BENCHMARKS.md, issue
18). Freezing what exists at the start (`gc.freeze`) takes it out of every collection, and a larger first
threshold lets most of a turn's short-lived dicts die by reference counting before any collection looks at them.
Nothing is leaked: reference counting frees acyclic garbage as always, cycles are still collected (less often),
and leaving the last debate restores the thresholds and unfreezes.

Process-wide state, so nested or concurrent debates in one process share one entry (a counter); the first in
tunes, the last out restores.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from typing import Iterator

DEBATE_THRESHOLDS = (20_000, 20, 20)  # (gen0 allocations, gen1 and gen2 collection multipliers)

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None


@contextlib.contextmanager
def debate_collector(thresholds: tuple[int, int, int] = DEBATE_THRESHOLDS) -> Iterator[None]:
    """Within this block the collector ignores objects that existed at its start and runs less often."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()  # type: ignore[assignment]
            gc.freeze()
            gc.set_threshold(*thresholds)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                gc.unfreeze()
                _saved = None


def active() -> bool:
    """Whether a debate currently holds the collector tuned (for tests and benchmarks)."""
    return _depth > 0
