"""Prefix states kept on disk: the model state after a prompt's first message (the rules and a persona card, a
juror's or formaliser's instructions), evaluated once per model and read back by every later process.

Within a process the prefix cache (agents/prefix_cache.py) already reuses a persona's prefix from its second call
on; each process still evaluated every persona card, formaliser and juror instruction once (~1.4k of the demo's
~13k evaluated prompt tokens, ~14 s on 2 cores). A first message is fixed text, so its state after the same
segments depends only on the weights, the llama.cpp build, the context's settings and those tokens: the same
bits in every process (a restored state and a fresh evaluation give identical logits; tests/test_embedded.py).
Keyed by all of them. Only the embedded backend, whose identity names its weights exactly, keeps states here.

A state is ~28 KB a token for the default model (KV in f16), ~6 MB for a persona card; the file is pruned to
MAX_BYTES, least recently used first. GAUNTLET_PREFIX_STORE=off turns it off, a path moves it; an unreadable or
unwritable store is a cold cache, never an error in a debate. `gauntlet doctor` reports it."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path
from typing import Sequence

from gauntlet.agents import cache_db

ENV = "GAUNTLET_PREFIX_STORE"
TABLE = "prefix_state"
SCHEMA = (f"CREATE TABLE IF NOT EXISTS {TABLE} (key TEXT PRIMARY KEY, state BLOB NOT NULL, "
          "bytes INTEGER NOT NULL, used REAL NOT NULL)")
MAX_BYTES = 256 * 2**20


def store_file() -> Path | None:
    """The store's path, or None when GAUNTLET_PREFIX_STORE turns it off."""
    return cache_db.store_path(ENV, "prefix-states.sqlite")


def state_key(identity: str, tokens: Sequence[int], ends: Sequence[int]) -> str:
    """A state is the tokens evaluated as those segments (`ends`), on the model and context `identity` names."""
    text = f"{identity}\x00{','.join(map(str, tokens))}\x00{','.join(map(str, ends))}"
    return hashlib.sha256(text.encode()).hexdigest()


class PrefixStore:
    """The states of one model and context (`identity`); the file is resolved on each use, so the environment
    variable may change between runs of one process (the bench does)."""

    def __init__(self, identity: str, *, max_bytes: int = MAX_BYTES) -> None:
        self.identity = identity
        self.max_bytes = max_bytes
        self.read = 0  # states restored from disk in this process
        self.written = 0

    def get(self, tokens: Sequence[int], ends: Sequence[int]) -> bytes | None:
        path = store_file()
        if path is None:
            return None
        key = state_key(self.identity, tokens, ends)
        try:
            with cache_db.opened(path, SCHEMA) as conn:
                row = conn.execute(f"SELECT state FROM {TABLE} WHERE key = ?", (key,)).fetchone()
                if row is not None:
                    conn.execute(f"UPDATE {TABLE} SET used = ? WHERE key = ?", (time.time(), key))
        except (sqlite3.Error, OSError):
            return None
        if row is None:
            return None
        self.read += 1
        return bytes(row[0])

    def put(self, tokens: Sequence[int], ends: Sequence[int], state: bytes) -> bool:
        """Keep a state (a state larger than the whole store is not kept); then drop the least recently used
        states until the file holds at most `max_bytes`."""
        path = store_file()
        if path is None or len(state) > self.max_bytes:
            return False
        try:
            with cache_db.opened(path, SCHEMA) as conn:
                conn.execute(f"INSERT OR IGNORE INTO {TABLE} (key, state, bytes, used) VALUES (?, ?, ?, ?)",
                             (state_key(self.identity, tokens, ends), state, len(state), time.time()))
                total = conn.execute(f"SELECT coalesce(sum(bytes), 0) FROM {TABLE}").fetchone()[0]
                while total > self.max_bytes:
                    key, size = conn.execute(f"SELECT key, bytes FROM {TABLE} ORDER BY used LIMIT 1").fetchone()
                    conn.execute(f"DELETE FROM {TABLE} WHERE key = ?", (key,))
                    total -= size
        except (sqlite3.Error, OSError):
            return False
        self.written += 1
        return True


def count(path: Path | None = None) -> int:
    """How many states the store holds (for `gauntlet doctor`)."""
    return cache_db.count_rows(path or store_file(), TABLE)
