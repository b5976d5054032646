"""`gauntlet export --format run` and `gauntlet import`: saved debates travel between databases."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from gauntlet.errors import InputError
from gauntlet.ui.user_errors import err, user_errors


def export_run(store, run_id: str, out: Optional[Path]) -> None:
    """Write the portable run file to `out` (gzip when it ends in .gz) or stream it to stdout."""
    from gauntlet.graphs.store import run_file
    if out is None:
        store.run(run_id)
        run_file.write(store, run_id, sys.stdout)
        return
    try:
        end = run_file.write_file(store, run_id, out)
    except OSError as exc:
        raise InputError(f"cannot write ({exc.strerror})", file=str(out), fix="check the directory exists") from None
    err.print(f"wrote {out} ({end['events']} events, {end['annotations']} annotations, sha256 {end['sha256'][:12]})",
              highlight=False, markup=False)


@user_errors
def import_command(
        file: Path = typer.Argument(..., help="A run file from `gauntlet export RUN_ID --format run` "
                                              "(.jsonl or .jsonl.gz), e.g. runs/examples/demo.run.jsonl.gz."),
        db: Optional[str] = typer.Option(None, "--db", help="Database to load it into: a SQLite file (default "
                                         "runs/gauntlet.sqlite, or $GAUNTLET_DB) or a SQLAlchemy URL."),
        as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON.")) -> None:
    """Load a saved debate into a database, so show, replay, export, fork and the dashboard work on it.

    The file is checked whole first (format version, kinds, content hash); a bad file writes nothing.

    It keeps its run id when that id is free; importing the same file again changes nothing.

    Example: gauntlet import runs/examples/demo.run.jsonl.gz && gauntlet ui
    """
    from gauntlet.graphs.protocols.registry import PROTOCOLS
    from gauntlet.graphs.store.run_import import import_file
    from gauntlet.graphs.store.store import Store
    res = import_file(Store(db), file, known_protocols=tuple(PROTOCOLS))
    if as_json:
        sys.stdout.write(json.dumps(res.as_dict(), indent=2) + "\n")
        return
    if res.imported:
        err.print(f"imported {file} as run {res.run_id} ({res.events} events, {res.annotations} annotations)",
                  highlight=False, markup=False)
    else:
        err.print(f"{file} is already in this database as run {res.run_id}; nothing written",
                  highlight=False, markup=False)
    print(res.run_id)
