"""The embedded backend's call order: a section's calls run back to back (no other task's call between them), so
passes that share a prompt prefix find it still in the model's context. No model is loaded: `_call` runs the
function it is given, one at a time, as it runs the model's."""

from __future__ import annotations

import asyncio
import time

from gauntlet.agents.embedded import EmbeddedBackend
from gauntlet.agents.llm import back_to_back


def _log(order: list[str], name: str) -> None:
    time.sleep(0.01)
    order.append(name)


def test_a_section_runs_its_calls_back_to_back():
    backend = EmbeddedBackend()
    order: list[str] = []

    async def section() -> None:
        async with back_to_back(backend):
            for i in range(3):
                await backend._call(_log, order, f"held{i}")
                await asyncio.sleep(0)  # a chance for the other task to cut in, were the section not held

    async def other() -> None:
        await asyncio.sleep(0)
        for i in range(3):
            await backend._call(_log, order, f"free{i}")

    async def main() -> None:
        await asyncio.gather(section(), other())

    asyncio.run(main())
    held = [i for i, name in enumerate(order) if name.startswith("held")]
    assert held == list(range(held[0], held[0] + 3)) and len(order) == 6
    assert any(name.startswith("free") for name in order)


def test_tasks_started_inside_a_section_take_turns_and_nested_sections_do_not_deadlock():
    backend = EmbeddedBackend()
    order: list[str] = []
    running = {"now": 0, "most": 0}

    def tracked(name: str) -> None:
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
        time.sleep(0.01)
        order.append(name)
        running["now"] -= 1

    async def main() -> None:
        async with back_to_back(backend):
            async with back_to_back(backend):  # nested: the same section
                await asyncio.gather(*(backend._call(tracked, f"child{i}") for i in range(3)))

    asyncio.run(asyncio.wait_for(main(), 10))
    assert sorted(order) == ["child0", "child1", "child2"] and running["most"] == 1


def test_back_to_back_is_a_no_op_for_backends_without_sections():
    class Plain:
        pass

    async def main() -> bool:
        async with back_to_back(Plain()):
            return True

    assert asyncio.run(main())
