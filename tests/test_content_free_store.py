"""Content-free passes kept on disk (agents/content_free_store.py): measured once per model and prompt, read back
by a later process, never stored for a backend that cannot name its weights, and a broken store is a cold cache."""

from __future__ import annotations

import asyncio
import math

import pytest

from gauntlet.agents import calibration, content_free_store
from gauntlet.agents.calibration import Scorer
from gauntlet.agents.llm import ChoiceScores


class CountingLLM:
    """Scores from the prompt's text (deterministic, as a forward pass is); counts the passes it is asked."""

    def __init__(self, identity: str | None) -> None:
        self.name = "counting"
        self.identity = identity
        self.calls: list[str] = []
        if identity is not None:
            self.stable_identity = lambda: identity

    async def score(self, messages, choices, *, seed=None):
        text = messages[-1]["content"]
        self.calls.append(text)
        yes = -0.1 - (len(text) % 7) / 10
        return ChoiceScores({"Yes": yes, "No": -math.inf if "never-no" in text else -1.0}, model="counting")


def build(order):
    return [{"role": "user", "content": f"the critique. Answer {order[0]} or {order[1]}."}]


def free(order):
    return [{"role": "user", "content": f"N/A never-no. Answer {order[0]} or {order[1]}."}]


def _decide(llm):
    calibration._CONTENT_FREE.clear()  # a new process: nothing in memory
    return asyncio.run(Scorer("rulings", ("sustained", "overruled")).decide(llm, build, free, seed=1))


@pytest.fixture
def store_path(tmp_path, monkeypatch):
    path = tmp_path / "cf.sqlite"
    monkeypatch.setenv(content_free_store.ENV, str(path))
    return path


def test_a_later_process_reads_the_passes_instead_of_measuring_them(store_path):
    first = CountingLLM("model-a|sha256:1|llama_cpp 0.3.36|repack False")
    d1, rec1 = _decide(first)
    assert sum("N/A" in c for c in first.calls) == 2  # both answer orders measured
    assert content_free_store.count(store_path) == 2
    second = CountingLLM("model-a|sha256:1|llama_cpp 0.3.36|repack False")
    d2, rec2 = _decide(second)
    assert not any("N/A" in c for c in second.calls)  # read from disk
    assert sum("N/A" not in c for c in second.calls) == 2  # the real question is still asked
    assert d2.p == d1.p and rec2["passes"] == rec1["passes"]  # -inf survives the round trip (stored as null)


def test_another_model_or_runtime_measures_its_own(store_path):
    _decide(CountingLLM("model-a|sha256:1|llama_cpp 0.3.36|repack False"))
    other = CountingLLM("model-a|sha256:1|llama_cpp 0.3.37|repack False")
    _decide(other)
    assert sum("N/A" in c for c in other.calls) == 2
    assert content_free_store.count(store_path) == 4


def test_a_backend_without_a_stable_identity_is_never_stored(store_path):
    served = CountingLLM(None)
    _decide(served)
    _decide(served)
    assert sum("N/A" in c for c in served.calls) == 4  # measured in each process
    assert content_free_store.count(store_path) == 0


def test_a_broken_or_disabled_store_is_a_cold_cache(tmp_path, monkeypatch):
    bad = tmp_path / "cf.sqlite"
    bad.write_text("this is not a database")
    monkeypatch.setenv(content_free_store.ENV, str(bad))
    llm = CountingLLM("model-a")
    d, _ = _decide(llm)
    assert 0 < d.p < 1 and sum("N/A" in c for c in llm.calls) == 2
    assert content_free_store.get("model-a", "x") is None
    monkeypatch.setenv(content_free_store.ENV, "off")
    assert content_free_store.store_file() is None
    assert content_free_store.put("model-a", "x", {"Yes": -1.0}) is False


def test_the_embedded_backend_names_its_weights_and_runtime(tmp_path):
    from gauntlet.agents.embedded import DEFAULT_MODEL, EmbeddedBackend
    from gauntlet.agents.routing import RoutedLLM

    default = EmbeddedBackend()
    ident = default.stable_identity()
    assert DEFAULT_MODEL.sha256 in ident and "llama_cpp " in ident and "repack " in ident
    assert content_free_store.stable_identity(RoutedLLM(default, {}, {})) == ident
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"x" * 10)
    custom = EmbeddedBackend(gguf).stable_identity()
    gguf.write_bytes(b"y" * 11)  # a replaced file is another model
    assert EmbeddedBackend(gguf).stable_identity() != custom
