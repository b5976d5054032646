"""`gauntlet eval panel FILE [--config CFG] [--json]`: the panel evaluation (issue 13) as a command."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Optional

import typer

from gauntlet.errors import InputError
from gauntlet.ui.user_errors import err, user_errors

DEFAULT_CONFIG = Path("runs/configs/eval-panel.yaml")


def seed_list(seeds: str | None, repeats: int | None, config_seed: int) -> list[int] | None:
    """The run seeds --seeds / --repeats ask for (None: the config's seed, once)."""
    if seeds is not None and repeats is not None:
        raise InputError("give --seeds or --repeats, not both", field="--seeds", fix="e.g. --seeds 0,1 or --repeats 2")
    if repeats is not None:
        if not 1 <= repeats <= 20:
            raise InputError(f"{repeats} is out of range", field="--repeats", fix="use 1 to 20 repeats")
        return [config_seed + k for k in range(repeats)]
    if seeds is None:
        return None
    try:
        out = [int(s) for s in seeds.split(",") if s.strip()]
    except ValueError:
        raise InputError(f"{seeds!r} is not a list of integers", field="--seeds", fix="e.g. --seeds 0,1") from None
    if not out or len(set(out)) != len(out) or len(out) > 20 or min(out) < 0:
        raise InputError(f"{seeds!r} needs 1 to 20 distinct non-negative seeds", field="--seeds",
                         fix="e.g. --seeds 0,1")
    return out


@user_errors
def panel(file: Path = typer.Argument(..., help="YAML list of {id, proposal, known_flaws, sound}; "
                                                "e.g. runs/evals/panel.yaml (format in runs/evals/README.md)."),
          config: Path = typer.Option(DEFAULT_CONFIG, "--config", help="The run config whose panel, protocol "
                                      "and model are evaluated (its seed_proposals are replaced per case)."),
          only: Optional[str] = typer.Option(None, "--only", help="Comma-separated case ids: run a subset."),
          baseline: bool = typer.Option(True, "--baseline/--no-baseline",
                                        help="Also run each case with only the config's first critic."),
          seeds: Optional[str] = typer.Option(None, "--seeds", help="Comma-separated run seeds, e.g. 0,1: run "
                                              "each case once per seed, report per known flaw in how many seeds "
                                              "it was stated, and mark critiques that recur across seeds."),
          repeats: Optional[int] = typer.Option(None, "--repeats", help="Run each case N times, with the "
                                                "config's seed and the N-1 seeds after it (instead of --seeds)."),
          db: Optional[str] = typer.Option(None, "--db", help="Keep the runs in this database (default: a "
                                           "temporary file, deleted afterwards)."),
          as_json: bool = typer.Option(False, "--json", help="Print one JSON document.")) -> None:
    """Run the configured protocol on each proposal and report flaw_recall (known flaws stated by a sustained
    critique), false_shootdown_rate (sound proposals shot down), unmatched_sustained, time and tokens, beside a
    single-critic baseline. With --seeds or --repeats each case runs once per seed, and a sustained critique
    whose objection comes back in another seed's run is marked recurring (recurring_flaw_recall counts only those).

    Example: gauntlet eval panel runs/evals/panel.yaml --config runs/configs/eval-panel.yaml --only rlhf-reward-model,sound-canary --seeds 0,1 --json
    """
    from gauntlet.graphs.run.loading import load_config
    from gauntlet.graphs.run.panel_cases import load_cases
    from gauntlet.graphs.run.panel_eval import evaluate
    from gauntlet.graphs.store.store import Store

    cases = load_cases(file, [o.strip() for o in only.split(",") if o.strip()] if only else None)
    loaded = load_config(config)
    run_seeds = seed_list(seeds, repeats, loaded.config.seed)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(db or str(Path(tmp) / "eval-panel.sqlite"))
        doc = asyncio.run(evaluate(store, loaded, cases, baseline=baseline, seeds=run_seeds,
                                   progress=lambda line: err.print(line, markup=False, highlight=False,
                                                                  soft_wrap=True)))
    if as_json:
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.0f}%"
    per = " (known flaw, seed) pairs" if len(doc["seeds"]) > 1 else " known flaws"
    print(f"flaw recall {pct(doc['flaw_recall'])} ({doc['flaws_found']}/{doc['flaws']}{per}), "
          f"false shoot-down rate {pct(doc['false_shootdown_rate'])} over {doc['sound']} sound, "
          f"undecided (abstained) {doc['undecided_flawed']} flawed / {doc['undecided_sound']} sound runs, "
          f"{len(doc['unmatched_sustained'])} unmatched sustained, {doc['time_s']} s, {doc['tokens']} tokens")
    if len(doc["seeds"]) > 1:
        print(f"over seeds {', '.join(map(str, doc['seeds']))}: stated in any seed {pct(doc['flaw_recall_any_seed'])}, "
              f"by a critique recurring across seeds {pct(doc['recurring_flaw_recall'])}")
    if "baseline" in doc:
        b = doc["baseline"]
        print(f"single critic ({', '.join(b['critics'])}): flaw recall {pct(b['flaw_recall'])}, "
              f"false shoot-down rate {pct(b['false_shootdown_rate'])}")
