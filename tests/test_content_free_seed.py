"""A juror's bias measurement (the content-free pass) is cached per process, so it must not depend on which call
measured it: otherwise a seeded run's decisions would depend on what ran before it in the process, and a resumed
run (a fresh process, an empty cache) would not continue the same debate."""

from __future__ import annotations

import asyncio
import random

from gauntlet.agents import calibration
from gauntlet.agents.calibration import Scorer
from gauntlet.agents.llm import ChoiceScores


class SeededLLM:
    """Scores that depend on the request's seed, as the synthetic server's (and a sampled pick's) do."""

    def __init__(self, name: str = "openai:synthetic@http://127.0.0.1:8001/v1") -> None:
        self.name = name

    async def score(self, messages, choices, *, seed=None):
        rng = random.Random(f"{messages[-1]['content']}|{seed}")
        return ChoiceScores({"Yes": -rng.uniform(0.05, 3.0), "No": -rng.uniform(0.05, 3.0)}, model="synthetic")


def build(order):
    return [{"role": "user", "content": f"the critique. Answer {order[0]} or {order[1]}."}]


def free(order):
    return [{"role": "user", "content": f"N/A. Answer {order[0]} or {order[1]}."}]


def _decide(seed: int, llm: SeededLLM | None = None):
    return asyncio.run(Scorer("rulings", ("sustained", "overruled")).decide(llm or SeededLLM(), build, free,
                                                                              seed=seed))


def test_a_decision_does_not_depend_on_which_call_measured_the_bias():
    calibration._CONTENT_FREE.clear()
    fresh = _decide(seed=11)  # this call measures the bias itself
    calibration._CONTENT_FREE.clear()
    _decide(seed=12345)  # another run's call measures it first, in the same process
    warmed = _decide(seed=11)
    assert warmed[1]["passes"] == fresh[1]["passes"] and warmed[0] == fresh[0]
    # The content-free passes are the cached ones, yet the call's own passes still follow its seed.
    other = _decide(seed=12345)
    assert other[1]["passes"][2:] == fresh[1]["passes"][2:] and other[1]["passes"][:2] != fresh[1]["passes"][:2]


def test_the_bias_measurement_does_not_depend_on_the_backends_address():
    """A resumed run may reach the same server at another address (the backend's name carries it)."""
    calibration._CONTENT_FREE.clear()
    here = _decide(seed=11)
    there = _decide(seed=11, llm=SeededLLM("openai:synthetic@http://127.0.0.1:9002/v1"))
    assert there[1]["passes"] == here[1]["passes"] and there[0] == here[0]
