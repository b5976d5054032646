"""Small SQLite files under the cache directory that later processes read back (content-free passes, prefix
states): where each lives, switched by one environment variable, and opened so a broken store is a cold cache.

A store's environment variable is `off` (no store), a path (that file), or unset / `on` (the default file under
agents/cache_dirs.py `cache_root`). Files are in WAL mode, so concurrent processes read and write them safely;
within a process one lock serialises connections (threads of one debate share a file)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from pathlib import Path
from typing import Iterator

from gauntlet.agents.cache_dirs import cache_root

_LOCK = threading.Lock()
OFF = ("off", "0", "false", "no")


def store_path(env: str, default_name: str) -> Path | None:
    """The store's file, or None when `env` turns it off."""
    setting = os.environ.get(env, "").strip()
    if setting.lower() in OFF:
        return None
    return Path(setting) if setting and setting.lower() not in ("on", "1", "true", "yes") else \
        cache_root() / default_name


@contextlib.contextmanager
def opened(path: Path, schema: str) -> Iterator[sqlite3.Connection]:
    """One short-lived autocommit connection to `path`, its table created by `schema` if missing."""
    with _LOCK:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(schema)
            yield conn
        finally:
            conn.close()


def count_rows(path: Path | None, table: str) -> int:
    """How many rows a store's table holds (0 when there is no file or it cannot be read)."""
    if path is None or not path.is_file():
        return 0
    try:
        conn = sqlite3.connect(path, timeout=30)
        try:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0
