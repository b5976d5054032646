"""`gauntlet eval panel FILE [--config CFG] [--json]`: the panel evaluation (issue 13) as a command."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Optional

import typer

from gauntlet.ui.user_errors import err, user_errors

DEFAULT_CONFIG = Path("runs/configs/eval-panel.yaml")


@user_errors
def panel(file: Path = typer.Argument(..., help="YAML list of {id, proposal, known_flaws, sound}; "
                                                "e.g. runs/evals/panel.yaml (format in runs/evals/README.md)."),
          config: Path = typer.Option(DEFAULT_CONFIG, "--config", help="The run config whose panel, protocol "
                                      "and model are evaluated (its seed_proposals are replaced per case)."),
          only: Optional[str] = typer.Option(None, "--only", help="Comma-separated case ids: run a subset."),
          baseline: bool = typer.Option(True, "--baseline/--no-baseline",
                                        help="Also run each case with only the config's first critic."),
          db: Optional[str] = typer.Option(None, "--db", help="Keep the runs in this database (default: a "
                                           "temporary file, deleted afterwards)."),
          as_json: bool = typer.Option(False, "--json", help="Print one JSON document.")) -> None:
    """Run the configured protocol on each proposal and report flaw_recall (known flaws stated by a sustained
    critique), false_shootdown_rate (sound proposals shot down), unmatched_sustained, time and tokens, beside a
    single-critic baseline.

    Example: gauntlet eval panel runs/evals/panel.yaml --config runs/configs/eval-panel.yaml --only goodhart-rm,sound-canary --json
    """
    from gauntlet.graphs.run.loading import load_config
    from gauntlet.graphs.run.panel_cases import load_cases
    from gauntlet.graphs.run.panel_eval import evaluate
    from gauntlet.graphs.store.store import Store

    cases = load_cases(file, [o.strip() for o in only.split(",") if o.strip()] if only else None)
    loaded = load_config(config)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(db or str(Path(tmp) / "eval-panel.sqlite"))
        doc = asyncio.run(evaluate(store, loaded, cases, baseline=baseline,
                                   progress=lambda line: err.print(line, markup=False, highlight=False)))
    if as_json:
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.0f}%"
    print(f"flaw recall {pct(doc['flaw_recall'])} ({doc['flaws_found']}/{doc['flaws']} known flaws), "
          f"false shoot-down rate {pct(doc['false_shootdown_rate'])} over {doc['sound']} sound, "
          f"{len(doc['unmatched_sustained'])} unmatched sustained, {doc['time_s']} s, {doc['tokens']} tokens")
    if "baseline" in doc:
        b = doc["baseline"]
        print(f"single critic ({', '.join(b['critics'])}): flaw recall {pct(b['flaw_recall'])}, "
              f"false shoot-down rate {pct(b['false_shootdown_rate'])}")
