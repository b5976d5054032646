"""Alembic migrations: ordered scripts own the database schema (`versions/`); `upgrade` runs them in process.

A database made before migrations existed (tables but no `alembic_version`) has the schema of revision 0001,
so it is stamped at 0001 and then upgraded: nothing in it is lost or rewritten.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent
BASELINE = "0001"


def _config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["engine"] = engine
    return cfg


def head() -> str:
    return ScriptDirectory.from_config(_config(None)).get_current_head()  # type: ignore[arg-type]


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema (creating it when empty)."""
    cfg = _config(engine)
    tables = set(inspect(engine).get_table_names())
    if "alembic_version" not in tables and "run" in tables:
        command.stamp(cfg, BASELINE)  # made by create_all before migrations: that is revision 0001's schema
    command.upgrade(cfg, "head")
