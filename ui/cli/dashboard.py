"""`gauntlet ui`: the review dashboard (Streamlit) on a database."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from gauntlet.errors import InputError
from gauntlet.ui.cli.options import DbOpt, open_store
from gauntlet.ui.user_errors import err, user_errors

app = typer.Typer()


@app.command()
@user_errors
def ui(db: Optional[str] = DbOpt,
       port: int = typer.Option(8501, "--port", "-p", help="Port to serve on (1024-65535).")) -> None:
    """Start the review dashboard (Streamlit); open /?run=RUN_ID for a run.

    Example: gauntlet ui --db runs/gauntlet.sqlite --port 8501
    """
    import os
    import subprocess
    if not 1024 <= port <= 65535:
        raise InputError(f"port {port} is out of range", field="--port", fix="use a port from 1024 to 65535")
    try:
        # A bad --db fails here, in one line, before a server starts; only the default database is created, so a
        # fresh install opens on an empty runs page that offers the example debates.
        store = open_store(db, create=db is None and not os.environ.get("GAUNTLET_DB"))
    except InputError:
        raise
    except Exception as exc:  # e.g. a URL naming a driver that is not installed
        raise InputError(f"cannot open database: {type(exc).__name__}: {exc}", field="--db",
                         fix="use a SQLite file path or an installed SQLAlchemy URL") from None
    target = str(store.sqlite_path.resolve()) if store.sqlite_path is not None else store.url
    store.engine.dispose()
    app_path = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_path), "--server.headless", "true",
           "--server.port", str(port), "--browser.gatherUsageStats", "false", "--", "--db", target]
    err.print(f"dashboard on http://localhost:{port}/ (database {target})", highlight=False, markup=False)
    try:
        raise typer.Exit(subprocess.call(cmd, env={**os.environ, "GAUNTLET_DB": target}))
    except KeyboardInterrupt:
        raise typer.Exit(0) from None

