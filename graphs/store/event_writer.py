"""Batched event writes: the debate loop hands events over without waiting; a background task appends them.

Why: with hundreds of branches per superstep, one transaction per node update (awaited in the stream loop)
held the next superstep back by ~4 ms per branch. Here whatever queued while the last batch was being written
goes out as one transaction, in the order it was put, off the event loop.
"""

from __future__ import annotations

import asyncio
from typing import Callable

from gauntlet.graphs.store.store import NewEvent


class BatchedWriter:
    """Order-preserving, coalescing writer around a blocking `emit(events)` (e.g. Store.append)."""

    def __init__(self, emit: Callable[[list[NewEvent]], None]) -> None:
        self._emit = emit
        self._pending: list[NewEvent] = []
        self._wake = asyncio.Event()
        self._closing = False
        self.batches = 0  # how many transactions it took (for run stats and benchmarks)
        self._task = asyncio.create_task(self._loop(), name="gauntlet-event-writer")

    def put(self, events: list[NewEvent]) -> None:
        """Queue events; never blocks. A failed earlier write surfaces here, so a run cannot outlive its log."""
        if self._task.done() and self._task.exception() is not None:
            raise self._task.exception()  # type: ignore[misc]
        if events:
            self._pending.extend(events)
            self._wake.set()

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending, []
                await asyncio.to_thread(self._emit, batch)
                self.batches += 1
            if self._closing:
                return

    async def close(self) -> None:
        """Write everything queued so far and stop; re-raises a write failure."""
        self._closing = True
        self._wake.set()
        await asyncio.shield(self._task)
