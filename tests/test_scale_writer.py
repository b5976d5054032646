"""The batched event writer: order kept, batches coalesced, failures surfaced — against a real store."""

from __future__ import annotations

import asyncio

import pytest

from gauntlet.graphs.store.event_writer import BatchedWriter
from gauntlet.graphs.store.store import NewEvent


def ev(i: int) -> NewEvent:
    return NewEvent(key=f"e/{i}", kind="round_started", payload={"round": i})  # any kind; payloads are checked


def test_events_land_in_the_order_they_were_put(store):
    store.create_run("r", topic="t", config={}, source="s", seed=0, model="m", personas=[])

    async def go() -> int:
        w = BatchedWriter(lambda events: store.append("r", events))
        for i in range(300):
            w.put([ev(i)])
            if i % 50 == 0:
                await asyncio.sleep(0)  # let a batch start while more arrive
        await w.close()
        return w.batches

    batches = asyncio.run(go())
    assert [e.key for e in store.events("r")] == [f"e/{i}" for i in range(300)]
    assert [e.seq for e in store.events("r")] == list(range(1, 301))
    assert 1 <= batches < 300  # coalesced, not one transaction per put


def test_a_failed_write_is_raised_not_swallowed():
    def broken(events):
        raise RuntimeError("disk full")

    async def go() -> None:
        w = BatchedWriter(broken)
        w.put([ev(1)])
        await w.close()

    with pytest.raises(RuntimeError, match="disk full"):
        asyncio.run(go())
