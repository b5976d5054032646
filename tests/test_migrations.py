"""Alembic owns the schema: new databases are made by the migrations, a release-0.1 database (made by
`create_all`, no version table) is upgraded in place with nothing lost, and the migrations match the models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from gauntlet.graphs.store import migrations
from gauntlet.graphs.store.store import Store
from gauntlet.provers.cache import VerdictCache, ProverResult  # noqa: F401 - registers the cache's table

RELEASE_DB = Path(__file__).parent / "data" / "release-0.1.sqlite"


def test_release_database_upgrades_in_place_with_nothing_lost(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    shutil.copy(RELEASE_DB, db)
    store = Store(str(db), create=False)
    assert migrations.current(store.engine) == migrations.head()
    run = store.run("old-run-1")
    assert run.status == "done" and run.seed == 7 and json.loads(run.stats_json) == {"calls": 1}
    events = store.events("old-run-1")
    assert [e.kind for e in events] == ["run_started", "node", "node", "edge"]
    assert [a.text for a in store.annotations("old-run-1")] == ["Fair point, cite Hadfield-Menell 2017."]
    cached = VerdictCache(engine=store.write_engine).get("k1")
    assert cached is not None and cached.verdict == "refuted" and cached.counterexample == {"x": "1/2"}
    Store(str(db), create=False)  # a second open finds it at head and changes nothing
    assert len(store.events("old-run-1")) == 4


def test_migrations_build_exactly_the_models_schema(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "new.sqlite"))
    assert migrations.current(store.engine) == migrations.head()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []
