"""The event loop debates run on: uvloop when it is installed (it comes with uvicorn[standard]), else asyncio's.

Why: at 256 critics the loop's own work (selector, transports, callbacks, thread wake-ups from the checkpoint and
event writers) was ~15% of the orchestrator's CPU; uvloop does it in C (measured in BENCHMARKS.md).
GAUNTLET_EVENT_LOOP=asyncio picks the standard loop (e.g. to rule uvloop out when debugging).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Callable, Coroutine, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop constructor, or None for asyncio's default."""
    if os.environ.get("GAUNTLET_EVENT_LOOP", "").lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def loop_name() -> str:
    return "asyncio" if loop_factory() is None else "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on the chosen loop."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
