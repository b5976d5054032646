"""Verdict cache: sha256 of (formal text, prover, prover version) → a decisive verdict.

Rows live in graphs.tables.ProverResult, in the run store's database when one is given (so a debate's verdicts
travel with its runs) or in a small SQLite file otherwise. Only `proved`/`refuted` are cached: `unknown` may
become decisive with a longer timeout and `error` is cheap to recompute.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, SQLModel, create_engine

from graphs.tables import ProverResult
from provers.claim import Verdict

DEFAULT_CACHE = "runs/prover-cache.sqlite"


def cache_key(formal_text: str, prover: str, version: str) -> str:
    blob = json.dumps([formal_text, prover, version], ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


class VerdictCache:
    """Get/put verdicts. A broken cache never fails a check: it degrades to a miss."""

    def __init__(self, engine: Engine | None = None, path: str | Path | None = None) -> None:
        if engine is None:
            p = Path(path or os.environ.get("GAUNTLET_PROVER_CACHE") or DEFAULT_CACHE)
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
