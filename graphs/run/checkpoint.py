"""LangGraph checkpointers for the store's database: SQLite beside the tables, PostgreSQL by URL."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import AsyncIterator

from langgraph.checkpoint.base import BaseCheckpointSaver

from gauntlet.errors import InputError
from gauntlet.graphs.store.store import Store


def checkpoint_path(store: Store) -> Path:
    assert store.sqlite_path is not None
    return store.sqlite_path.with_name(store.sqlite_path.stem + ".checkpoints.sqlite")


@contextlib.asynccontextmanager
async def checkpointer_for(store: Store) -> AsyncIterator[BaseCheckpointSaver]:
    """The real LangGraph checkpointer for the same database the events go to."""
    if store.sqlite_path is not None:
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        # A sibling file, not the store's own: SQLite has one writer per file, and the checkpointer's
        # connection would otherwise contend with event writes for that lock.
        async with AsyncSqliteSaver.from_conn_string(str(checkpoint_path(store))) as saver:
            await saver.conn.execute("PRAGMA journal_mode=WAL")
            # As the event store (graphs/store/store.py): no fsync per commit. A killed process loses nothing (the
            # WAL is in the OS's cache); only a power cut may drop the last steps, and resume redoes those. FULL
            # cost ~3 ms a commit here, and a 256-critic superstep commits once per task (issue 18).
            await saver.conn.execute("PRAGMA synchronous=NORMAL")
            await saver.conn.execute("PRAGMA busy_timeout=30000")
            yield saver
        return
    if store.url.startswith("postgresql"):
        try:
            from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        except ImportError:
            raise InputError("PostgreSQL checkpoints need the postgres extra", field="--db",
                             fix="pip install -e '.[postgres]'") from None
        conninfo = store.url.replace("postgresql+psycopg://", "postgresql://", 1)
        async with AsyncPostgresSaver.from_conn_string(conninfo) as saver:
            await saver.setup()
            yield saver
        return
    raise InputError(f"no LangGraph checkpointer for {store.url.split(':', 1)[0]}", field="--db",
                     fix="use a SQLite file or a postgresql+psycopg:// URL")
