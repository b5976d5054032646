"""Verdict cache: sha256 of (formal text, prover, prover version) → a decisive verdict.

Rows live in the `proverresult` table below, in the run's own database when the runner hands the cache its engine
(so a debate's verdicts travel with its runs), or in a small SQLite file for standalone use (`gauntlet prove`): under
the cache directory `gauntlet doctor` reports (agents/cache_dirs.py), never the current directory. Only
`proved`/`refuted` are cached: `unknown` may become decisive with a longer timeout and `error` is cheap to
recompute.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy import Column, Text
from sqlmodel import Field, Session, SQLModel, create_engine

from gauntlet.agents.cache_dirs import prover_cache_file
from gauntlet.provers.claim import Verdict


class ProverResult(SQLModel, table=True):
    """A cached verdict, keyed by a hash of (formal text, prover, version)."""

    key: str = Field(primary_key=True)
    prover: str
    verdict: str
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    counterexample_json: str | None = Field(default=None, sa_column=Column(Text))
    created: float = Field(default_factory=time.time)


def cache_key(formal_text: str, prover: str, version: str) -> str:
    blob = json.dumps([formal_text, prover, version], ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


class VerdictCache:
    """Get/put verdicts. A broken cache never fails a check: it degrades to a miss."""

    def __init__(self, engine: Engine | None = None, path: str | Path | None = None) -> None:
        if engine is None:
            p = Path(path) if path else prover_cache_file()
            p.parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(f"sqlite:///{p}", connect_args={"timeout": 30, "check_same_thread": False})
        self.engine = engine
        SQLModel.metadata.create_all(engine, tables=[ProverResult.__table__])  # type: ignore[attr-defined]
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Verdict | None:
        try:
            with Session(self.engine) as s:
                row = s.get(ProverResult, key)
        except SQLAlchemyError:
            row = None
        if row is None or row.verdict not in ("proved", "refuted"):
            self.misses += 1
            return None
        self.hits += 1
        cex = json.loads(row.counterexample_json) if row.counterexample_json else None
        return Verdict(row.verdict, row.prover, row.detail, cex, cached=True)  # type: ignore[arg-type]

    def put(self, key: str, verdict: Verdict) -> None:
        if not verdict.decisive:
            return
        try:
            with Session(self.engine) as s:
                s.merge(ProverResult(key=key, **verdict.to_row()))
                s.commit()
        except SQLAlchemyError:
            pass  # a read-only or locked cache costs a recomputation later, nothing more
