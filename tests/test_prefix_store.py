"""First-message prefix states on disk (agents/prefix_store.py): a later process restores a persona card's state
instead of evaluating it, only fixed first-message text is kept, another model or context never reads it, the
file stays under its size bound, and a broken or disabled store is a cold cache. The model-backed check that a
restored state gives the same logits as a fresh evaluation is the slow test in tests/test_embedded.py."""

from __future__ import annotations

import pytest

from gauntlet.agents import prefix_cache, prefix_store
from gauntlet.agents.prefix_cache import PromptEvaluator
from gauntlet.agents.prefix_store import PrefixStore


@pytest.fixture
def store_path(tmp_path, monkeypatch):
    path = tmp_path / "states.sqlite"
    monkeypatch.setenv(prefix_store.ENV, str(path))
    return path


class TokenContext:
    """Stands in for a llama.cpp context in the evaluator's bookkeeping: it holds the tokens evaluated, and a
    'state' is those tokens as bytes (the real blob is the KV cache of exactly those tokens)."""

    def __init__(self) -> None:
        self.held: list[int] = []
        self.evaluated = 0

    @property
    def n_tokens(self) -> int:
        return len(self.held)

    @n_tokens.setter
    def n_tokens(self, n: int) -> None:
        del self.held[n:]

    def eval(self, tokens):
        self.held += list(tokens)
        self.evaluated += len(tokens)

    def reset(self):
        self.held = []


@pytest.fixture
def token_states(monkeypatch):
    monkeypatch.setattr(prefix_cache, "seq_state", lambda llama: bytes(llama.held))

    def load(llama, blob, prefix):
        assert list(blob) == list(prefix)  # a state is only ever restored for the tokens it holds
        llama.held = list(blob)
    monkeypatch.setattr(prefix_cache, "load_seq_state", load)


CARD = list(range(1, 41))  # rules (1..10) and a persona card (11..40): the first message
ENDS_CARD = [10, 40]


def prompt(task: list[int]) -> tuple[list[int], list[int]]:
    tokens = CARD + task
    return tokens, ENDS_CARD + [len(tokens)]


def test_a_later_process_restores_the_first_message_instead_of_evaluating_it(store_path, token_states):
    first = PromptEvaluator(TokenContext(), enabled=True, disk=PrefixStore("model-a|n_ctx 4096"))
    tokens, ends = prompt([100, 101, 102])
    first.evaluate(tokens, ends, save_below=40, static_below=40)
    assert prefix_store.count(store_path) == 2  # after the rules and after the persona card
    later_ctx = TokenContext()
    later = PromptEvaluator(later_ctx, enabled=True, disk=PrefixStore("model-a|n_ctx 4096"))
    tokens, ends = prompt([200, 201])
    assert later.evaluate(tokens, ends, save_below=40, static_below=40) == 40
    assert later_ctx.evaluated == 2 and later_ctx.held == tokens
    assert later.stats.from_disk == 1 and later.stats.restored == 1
    assert later.disk.read == 1


def test_only_the_first_message_goes_to_disk(store_path, token_states):
    ev = PromptEvaluator(TokenContext(), enabled=True, disk=PrefixStore("model-a"))
    tokens = CARD + [50, 51, 52, 53] + [60, 61]  # first message, a proposal (kept in the LRU), a question
    ev.evaluate(tokens, [10, 40, 44, 46], save_below=44, static_below=40)
    assert len(ev.states) == 3 and prefix_store.count(store_path) == 2


def test_another_model_or_context_does_not_read_them(store_path, token_states):
    tokens, ends = prompt([7])
    PromptEvaluator(TokenContext(), enabled=True, disk=PrefixStore("model-a|n_ctx 4096")).evaluate(
        tokens, ends, 40, 40)
    other = PromptEvaluator(TokenContext(), enabled=True, disk=PrefixStore("model-a|n_ctx 2048"))
    assert other.evaluate(tokens, ends, 40, 40) == 0 and other.stats.from_disk == 0
    assert prefix_store.count(store_path) == 4


def test_cache_off_neither_reads_nor_writes(store_path, token_states):
    tokens, ends = prompt([7])
    PromptEvaluator(TokenContext(), enabled=True, disk=PrefixStore("m")).evaluate(tokens, ends, 40, 40)
    off_ctx = TokenContext()
    off = PromptEvaluator(off_ctx, enabled=False, disk=PrefixStore("m"))
    assert off.evaluate(tokens, ends, 40, 40) == 0 and off_ctx.evaluated == len(tokens)
    assert off.disk.read == 0 and off.disk.written == 0


def test_the_file_keeps_the_most_recently_used_states_within_its_bound(store_path):
    store = PrefixStore("m", max_bytes=250)
    for i in range(3):
        assert store.put([i], [1], bytes(100))
    assert prefix_store.count(store_path) == 2
    assert store.get([0], [1]) is None and store.get([2], [1]) == bytes(100)
    store.get([1], [1])  # used now: the next put evicts [2], the least recently used
    store.put([3], [1], bytes(100))
    assert store.get([1], [1]) is not None and store.get([2], [1]) is None
    assert not store.put([4], [1], bytes(300))  # larger than the whole store: not kept


def test_a_disabled_or_broken_store_is_a_cold_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(prefix_store.ENV, "off")
    assert prefix_store.store_file() is None
    assert not PrefixStore("m").put([1], [1], b"x") and PrefixStore("m").get([1], [1]) is None
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(prefix_store.ENV, str(blocker / "states.sqlite"))
    assert not PrefixStore("m").put([1], [1], b"x") and PrefixStore("m").get([1], [1]) is None
    monkeypatch.delenv(prefix_store.ENV)
    monkeypatch.setenv("GAUNTLET_CACHE", str(tmp_path / "cache"))
    assert prefix_store.store_file() == tmp_path / "cache" / "prefix-states.sqlite"
