"""Content-free answer scores kept on disk, so a label-bias measurement is made once per model and prompt, not
once per process.

A content-free pass (agents/calibration.py `Scorer`) asks a scored question with "N/A" in place of the content;
its answer probabilities are the label bias removed from every real reading of that question. They depend on
the model's weights, the llama.cpp build that runs them and the prompt, and on nothing a run chooses (no seed, no
sampling), so a pass measured once holds for every later run with the same three. The demo pays ~20 s for its
~12 library entries' and the juror's passes on a first run; later runs read them here.

Only backends that can name their weights and runtime exactly (`stable_identity`: the embedded model's file
hash and llama.cpp version) are stored: a served model's name says nothing about which weights answer it, so
its passes stay in the process (agents/calibration.py). The store is a SQLite file under the cache directory
(`gauntlet doctor` reports it), in WAL mode so concurrent processes read and write it safely; a store that
cannot be opened (read-only disk) is skipped silently, as a cold cache. GAUNTLET_CONTENT_FREE_CACHE=off turns
it off (e.g. to time a cold first run).
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from pathlib import Path
from typing import Any, Mapping

from gauntlet.agents import cache_db

ENV = "GAUNTLET_CONTENT_FREE_CACHE"
SCHEMA = "CREATE TABLE IF NOT EXISTS content_free (key TEXT PRIMARY KEY, logprobs TEXT NOT NULL)"


def store_file() -> Path | None:
    """The store's path, or None when GAUNTLET_CONTENT_FREE_CACHE turns it off."""
    return cache_db.store_path(ENV, "content-free.sqlite")


def stable_identity(llm: Any) -> str | None:
    """What the backend's answer probabilities are a function of (weights and runtime), or None when it cannot
    say (served models); wrappers that route calls expose their default backend's."""
    ident = getattr(llm, "stable_identity", None)
    value = ident() if callable(ident) else ident
    return value if isinstance(value, str) and value else None


def key(identity: str, prompt: str) -> str:
    return hashlib.sha256(f"{identity}\x00{prompt}".encode()).hexdigest()


def _encode(logprobs: Mapping[str, float]) -> str:
    # -inf (a choice the backend could not produce) is not JSON: stored as null.
    return json.dumps({k: (v if math.isfinite(v) else None) for k, v in logprobs.items()}, sort_keys=True)


def _decode(text: str) -> dict[str, float]:
    return {k: (float(v) if v is not None else -math.inf) for k, v in json.loads(text).items()}


def get(identity: str, prompt: str, path: Path | None = None) -> dict[str, float] | None:
    """The stored pass's log-probabilities per choice, or None (not measured yet, or no store)."""
    path = path or store_file()
    if path is None:
        return None
    try:
        with cache_db.opened(path, SCHEMA) as conn:
            row = conn.execute("SELECT logprobs FROM content_free WHERE key = ?",
                               (key(identity, prompt),)).fetchone()
        return _decode(row[0]) if row else None
    except (sqlite3.Error, OSError, ValueError):
        return None  # an unreadable store is a cold cache, never an error in a debate


def put(identity: str, prompt: str, logprobs: Mapping[str, float], path: Path | None = None) -> bool:
    """Keep a measured pass; False when there is no store or it cannot be written."""
    path = path or store_file()
    if path is None:
        return False
    try:
        with cache_db.opened(path, SCHEMA) as conn:
            conn.execute("INSERT OR REPLACE INTO content_free (key, logprobs) VALUES (?, ?)",
                         (key(identity, prompt), _encode(logprobs)))
        return True
    except (sqlite3.Error, OSError):
        return False


def count(path: Path | None = None) -> int:
    """How many passes the store holds (for `gauntlet doctor`)."""
    return cache_db.count_rows(path or store_file(), "content_free")
