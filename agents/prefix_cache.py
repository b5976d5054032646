"""Chat prompts evaluated on one llama.cpp context in fixed segments, reusing the model state of a shared prefix.

Every call of a persona starts with the same rules and persona card (agents/prompts.py), so most of a prompt's
evaluation repeats an earlier call's. Reusing llama.cpp's KV cache for that prefix is only safe for seeded
repeatability if a hit and a miss compute the same logits to the last bit: a prompt evaluated in one batch and the
same prompt evaluated as prefix + rest are different floating-point computations. So the segmentation is a
function of the prompt alone: the prompt is always evaluated as the same segments, one `eval` each, whether its
prefix came from the cache or not (`segment_ends`). A hit restores (or keeps) the state after some segment
boundary and evaluates the remaining segments exactly as a miss would; `tests/test_embedded.py` checks a hit
and a miss give identical logits.

Boundaries: the paragraph breaks ("\\n\\n") of the first message (the rules end there, the persona card follows)
and every message end, except that the last message and the assistant header form one segment, and so does a
message followed by an earlier reply with that reply's header (the reply's own call ended there: its follow-up,
e.g. a re-ask, reuses the whole prompt). A boundary is used only where tokenising the prompt's text up to it gives
a prefix of the prompt's tokens.

States: the context itself keeps the last prompt (a hit when the next call shares its prefix, e.g. two calls of
one persona), and an LRU keeps the KV state at each boundary up to the end of all messages but the last two (a few
MB each): the per-persona prefixes, restored when that persona speaks again, and for the scored questions
(system, proposal, question, answer order) the proposal, restored for its next question after a content-free pass
or another proposal's has replaced it. The boundary just before the last message is not kept: the resident
context already serves the other answer order. States inside the first message (fixed text: rules and persona card, a
juror's or formaliser's instructions) are also kept on disk (agents/prefix_store.py), so a later process
restores them instead of evaluating them. GAUNTLET_PREFIX_CACHE=off evaluates every segment every time (same
segments: the baseline `gauntlet bench embedded` compares against), and uses neither the LRU nor the disk.
"""

from __future__ import annotations

import ctypes
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from gauntlet.agents.llm import Message

CACHE_ENV = "GAUNTLET_PREFIX_CACHE"
MAX_STATES = 20


def cache_enabled(env: dict[str, str] | None = None) -> bool:
    """On unless GAUNTLET_PREFIX_CACHE=off. It pays once passes that share a prefix run back to back (agents/llm.py
    `back_to_back`): on the demo (`gauntlet bench embedded`, 2026-12-06) 32% fewer prompt tokens evaluated and
    318 s against 376 s; before that, with juror votes interleaved, it saved 9% and lost it to slower evaluation."""
    value = (os.environ if env is None else env).get(CACHE_ENV, "on").strip().lower()
    return value not in ("off", "0", "false", "no")


def candidate_offsets(render: Callable[[list[Message], bool], str],
                      messages: list[Message]) -> tuple[str, list[int], int]:
    """The rendered prompt (with the assistant header), the character offsets where a segment may end (after each
    paragraph break inside the first message and after each message but the last), and where the prefix kept in
    the LRU ends: after the first message, or after all messages but the last two if that is later (0 if it
    cannot be told)."""
    full = render(messages, True)
    offsets: list[int] = []
    first = render(messages[:1], False)
    kept_end = len(first) if full.startswith(first) else 0
    if kept_end:
        content = messages[0]["content"]
        at = first.find(content) if content else -1
        if at >= 0:
            pos = content.find("\n\n")
            while pos >= 0:
                offsets.append(at + pos + 2)
                pos = content.find("\n\n", pos + 2)
    for k in range(1, len(messages)):
        # Before an earlier reply, the boundary is after its assistant header: the call that wrote the reply had
        # exactly that prompt, with those segments, so a follow-up turn (a re-ask) finds it still in the context.
        head = render(messages[:k], messages[k]["role"] == "assistant")
        if full.startswith(head):
            offsets.append(len(head))
            if k == len(messages) - 2 and k > 1:
                kept_end = max(kept_end, len(head))
    return full, sorted(set(o for o in offsets if 0 < o < len(full))), kept_end


def segment_ends(tokens: Sequence[int], text: str, offsets: Sequence[int],
                 tokenize: Callable[[str], list[int]]) -> list[int]:
    """Token positions where segments end (the last is len(tokens)): an offset counts only where the text before
    it tokenises to a prefix of `tokens` (a boundary inside a merged token would change the tokens)."""
    ends: list[int] = []
    for off in offsets:
        head = tokenize(text[:off])
        n = len(head)
        if 0 < n < len(tokens) and list(tokens[:n]) == head and (not ends or n > ends[-1]):
            ends.append(n)
    return ends + [len(tokens)]


def seq_state(llama: Any) -> bytes:
    """The KV state of sequence 0 of a llama_cpp.Llama's context (a few MB per thousand tokens)."""
    import llama_cpp  # noqa: PLC0415

    ctx = llama._ctx.ctx
    size = llama_cpp.llama_state_seq_get_size(ctx, 0)
    buf = (ctypes.c_uint8 * size)()
    n = llama_cpp.llama_state_seq_get_data(ctx, buf, size, 0)
    # string_at copies the bytes in C: slicing a c_uint8 array builds a list of ints first (~0.8 s for 40 MB).
    return ctypes.string_at(buf, n)


def load_seq_state(llama: Any, blob: bytes, prefix: list[int]) -> None:
    """Make `llama`'s context hold exactly `blob` (from `seq_state`, of the tokens `prefix`), on this model or on
    another copy of the same weights."""
    import llama_cpp  # noqa: PLC0415

    llama.reset()
    llama._ctx.kv_cache_seq_rm(-1, 0, -1)
    buf = (ctypes.c_uint8 * len(blob)).from_buffer_copy(blob)
    if llama_cpp.llama_state_seq_set_data(llama._ctx.ctx, buf, len(blob), 0) != len(blob):
        raise RuntimeError("llama.cpp refused a saved prefix state")
    llama.input_ids[:len(prefix)] = prefix
    llama.n_tokens = len(prefix)


@dataclass
class CacheStats:
    calls: int = 0
    hits: int = 0  # calls that reused a prefix (kept in the context or restored from the LRU)
    restored: int = 0  # of those, from the LRU or the disk store
    from_disk: int = 0  # of those, from the disk store (agents/prefix_store.py)
    reused_tokens: int = 0
    evaluated_tokens: int = 0

    def as_dict(self) -> dict[str, Any]:
        total = self.reused_tokens + self.evaluated_tokens
        return {"calls": self.calls, "hits": self.hits, "restored": self.restored, "from_disk": self.from_disk,
                "hit_rate": round(self.hits / self.calls, 3) if self.calls else 0.0,
                "reused_tokens": self.reused_tokens, "evaluated_tokens": self.evaluated_tokens,
                "reused_share": round(self.reused_tokens / total, 3) if total else 0.0}


@dataclass
class _Resident:
    tokens: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)


class PromptEvaluator:
    """Evaluates a token prompt with its segment ends on `llama` (a llama_cpp.Llama), leaving the context holding
    exactly the prompt with the last token's logits current. Not thread-safe: the backend serialises calls."""

    def __init__(self, llama: Any, *, enabled: bool | None = None, max_states: int = MAX_STATES,
                 disk: Any = None) -> None:
        """`disk`: an agents/prefix_store.py PrefixStore for states within a prompt's first message, or None."""
        self.llama = llama
        self.disk = disk
        self.enabled = cache_enabled() if enabled is None else enabled
        self.max_states = max_states
        self.states: OrderedDict[tuple[tuple[int, ...], tuple[int, ...]], bytes] = OrderedDict()
        self.resident = _Resident()
        self.stats = CacheStats()
        self.save_below = 0  # boundaries at or below this token position are saved in the LRU

    @staticmethod
    def _key(tokens: Sequence[int], ends: Sequence[int], b: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return tuple(tokens[:b]), tuple(e for e in ends if e <= b)

    def _resident_reuse(self, tokens: list[int], ends: list[int]) -> int:
        """The longest boundary (below the prompt's end) whose prefix the context still holds, same segments."""
        res = self.resident
        for b in reversed(ends[:-1]):
            if b in res.ends and b <= self.llama.n_tokens and res.tokens[:b] == tokens[:b] \
                    and [e for e in res.ends if e <= b] == [e for e in ends if e <= b]:
                return b
        return 0

    def _lru_reuse(self, tokens: list[int], ends: list[int], floor: int, static_below: int = 0) -> int:
        """The longest boundary above `floor` whose state the LRU keeps or, at or below `static_below` (inside
        the first message), the disk store does; restored into the context."""
        for b in reversed(ends[:-1]):
            if b <= floor:
                return 0
            key = self._key(tokens, ends, b)
            if key in self.states:
                self.states.move_to_end(key)
                self._restore(self.states[key], tokens[:b])
                return b
            blob = self.disk.get(*key) if self.disk is not None and b <= static_below else None
            if blob is not None:
                self._restore(blob, tokens[:b])
                self._remember(key, blob)
                self.stats.from_disk += 1
                return b
        return 0

    def _restore(self, blob: bytes, prefix: list[int]) -> None:
        load_seq_state(self.llama, blob, prefix)

    def _remember(self, key: tuple[tuple[int, ...], tuple[int, ...]], blob: bytes) -> None:
        self.states[key] = blob
        while len(self.states) > self.max_states:
            self.states.popitem(last=False)

    def _save(self, tokens: list[int], ends: list[int], b: int, static: bool = False) -> None:
        key = self._key(tokens, ends, b)
        if key in self.states:
            self.states.move_to_end(key)
            return
        blob = seq_state(self.llama)
        self._remember(key, blob)
        if static and self.disk is not None:
            self.disk.put(*key, blob)

    def evaluate(self, tokens: list[int], ends: list[int], save_below: int = 0, static_below: int = 0) -> int:
        """Evaluate the prompt segment by segment, reusing what it can; returns the tokens reused. Boundaries at or
        below `save_below` are kept in the LRU, and those at or below `static_below` (the first message's fixed
        text) also in the disk store."""
        llama = self.llama
        start = 0
        if self.enabled:
            start = self._resident_reuse(tokens, ends)
            restored = self._lru_reuse(tokens, ends, start, static_below)
            if restored:
                start = restored
                self.stats.restored += 1
        if start:
            llama.n_tokens = start  # eval() drops the KV cells past it
            self.stats.hits += 1
        else:
            llama.reset()
        self.stats.calls += 1
        self.stats.reused_tokens += start
        self.stats.evaluated_tokens += len(tokens) - start
        prev = start
        for end in ends:
            if end <= prev:
                continue
            llama.eval(tokens[prev:end])
            if self.enabled and end < len(tokens) and end <= save_below:
                self._save(tokens, ends, end, static=end <= static_below)
            prev = end
        self.resident = _Resident(list(tokens), list(ends))
        return start

    def invalidate(self) -> None:
        """Forget the context's prompt (e.g. after something else used the context)."""
        self.resident = _Resident()
