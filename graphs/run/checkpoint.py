"""LangGraph checkpointers for the store's database: SQLite beside the tables, PostgreSQL by URL."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any, AsyncIterator, Sequence

from langgraph.checkpoint.base import WRITES_IDX_MAP, BaseCheckpointSaver

from gauntlet.errors import InputError
from gauntlet.graphs.store.store import Store


_WRITES_COLUMNS = "(thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, value)"


def group_commit_saver() -> type:
    """LangGraph's AsyncSqliteSaver with group-committed task writes.

    Why: with durability "async" every finished task stores its writes at once (that is what lets a killed
    superstep resume without redoing its finished branches), and upstream does it as four round trips to the
    SQLite thread under one lock (cursor, executemany, close, commit). 256 critics finishing together queued
    ~1,000 thread hops and loop wake-ups, and the superstep's own checkpoint waited behind them. Here
    writes that queue up while a transaction runs go out together in the next one; each caller still returns only
    once its rows are committed, so what a resume can rely on is unchanged. Rows and statements are upstream's.
    """
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    class GroupCommitSqliteSaver(AsyncSqliteSaver):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._queued: list[tuple[str, list[tuple[Any, ...]], asyncio.Future[None]]] = []
            self._flushing = False

        async def aput_writes(self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str,
                              task_path: str = "") -> None:
            verb = "REPLACE" if all(w[0] in WRITES_IDX_MAP for w in writes) else "IGNORE"
            conf = config["configurable"]
            rows = [(str(conf["thread_id"]), str(conf["checkpoint_ns"]), str(conf["checkpoint_id"]), task_id,
                     task_path, WRITES_IDX_MAP.get(channel, idx), channel, *self.serde.dumps_typed(value))
                    for idx, (channel, value) in enumerate(writes)]
            await self.setup()
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._queued.append((f"INSERT OR {verb} INTO writes {_WRITES_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 rows, done))
            if not self._flushing:
                self._flushing = True
                asyncio.get_running_loop().create_task(self._flush())
            await done

        async def _flush(self) -> None:
            try:
                while self._queued:
                    batch, self._queued = self._queued, []
                    try:
                        async with self.lock:
                            for query, rows, _ in batch:
                                await self.conn.executemany(query, rows)
                            await self.conn.commit()
                    except BaseException as exc:  # every caller in the batch sees the failure
                        for _, _, done in batch:
                            if not done.done():
                                done.set_exception(exc)
                        if not isinstance(exc, Exception):
                            raise
                        continue
                    for _, _, done in batch:
                        if not done.done():
                            done.set_result(None)
            finally:
                self._flushing = False

    return GroupCommitSqliteSaver


def checkpoint_path(store: Store) -> Path:
    assert store.sqlite_path is not None
    return store.sqlite_path.with_name(store.sqlite_path.stem + ".checkpoints.sqlite")


@contextlib.asynccontextmanager
async def checkpointer_for(store: Store) -> AsyncIterator[BaseCheckpointSaver]:
    """The real LangGraph checkpointer for the same database the events go to."""
    if store.sqlite_path is not None:
        # A sibling file, not the store's own: SQLite has one writer per file, and the checkpointer's
        # connection would otherwise contend with event writes for that lock.
        async with group_commit_saver().from_conn_string(str(checkpoint_path(store))) as saver:
            await saver.conn.execute("PRAGMA journal_mode=WAL")
            # As the event store (graphs/store/store.py): no fsync per commit. A killed process loses nothing (the
            # WAL is in the OS's cache); only a power cut may drop the last steps, and resume redoes those. FULL
            # cost ~3 ms a commit here, and a 256-critic superstep commits once per task.
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
