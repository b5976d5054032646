"""What every command group shares: the `--json`, `--db` and `--quiet` options, JSON output, opening a store and
a model from the command line."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from gauntlet.errors import InputError

DbOpt = typer.Option(None, "--db", help="Database: a SQLite file (default runs/gauntlet.sqlite, or $GAUNTLET_DB) "
                                        "or a SQLAlchemy URL such as postgresql+psycopg://user@host/db.")
JsonOpt = typer.Option(False, "--json", help="Print one machine-readable JSON document on stdout.")
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress display.")
SeedOpt = typer.Option(0, "--seed", min=0, help="Seed for the model's sampling: the same seed and model give the "
                                                 "same answers.")


def print_json(doc: Any) -> None:
    """One JSON document on stdout (progress and logs go to stderr)."""
    sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")


def print_rows(rows: list[dict[str, Any]], as_json: bool, columns: list[tuple[str, str, int]]) -> None:
    """A listing: the rows as JSON, or a table of `columns` (heading, key, at most this many characters)."""
    if as_json:
        print_json(rows)
        return
    from rich.console import Console
    from rich.table import Table
    table = Table(*(heading for heading, _, _ in columns))
    for row in rows:
        table.add_row(*(str(row[key])[:width] for _, key, width in columns))
    Console().print(table)


def open_store(db: Optional[str], create: bool = False):
    """The store `--db` names (the default SQLite file otherwise), logging errors beside a SQLite file."""
    from gauntlet.graphs.store.store import Store
    store = Store(db, create=create)
    if store.sqlite_path is not None:
        log_beside(store.sqlite_path)
    return store


def log_beside(db_path: Path) -> None:
    """Errors go to gauntlet.log beside the database (with run ids), keeping stderr to one clear line."""
    root = logging.getLogger("gauntlet")
    if not any(isinstance(h, logging.FileHandler) for h in root.handlers):
        handler = logging.FileHandler(db_path.parent / "gauntlet.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.propagate = False


def model_config(url: Optional[str], name: str, *, field: str, **embedded: Any):
    """The model a command runs on: an OpenAI-compatible server at `url` (checked reachable), else the embedded
    model (with `embedded` settings, e.g. a temperature)."""
    from gauntlet.agents.backends import check_reachable
    from gauntlet.config import ModelConfig
    try:
        cfg = ModelConfig(backend="openai", base_url=url, name=name or "default") if url else ModelConfig(**embedded)
    except ValueError as exc:
        raise InputError(f"bad model options ({str(exc).splitlines()[-1]})", field=field,
                         fix="give http(s)://HOST:PORT/v1") from None
    if url:
        check_reachable(cfg)
    return cfg


def open_llm(cfg: Any, seed: int = 0):
    from gauntlet.agents.backends import make_llm
    return make_llm(cfg, seed=seed)
