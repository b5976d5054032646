"""`gauntlet eval NAME [FILE] [--json] [--out DIR]`: measure quality on an evaluation set.

Every eval runs through graphs/evals (cases → run → score → report), journals each finished case (a stopped eval
continues where it stopped) and reports right / wrong / abstained, coverage, the risk-coverage curve, a 95% upper
bound on the error of its decided verdicts and baselines from the same run, plus its own figures. The evals with
options of their own have a command here; any other eval in graphs/evals/registry.py gets the plain one.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

from gauntlet.errors import InputError
from gauntlet.ui.cli.eval_front import FreshOpt, OutOpt, run, summary_line
from gauntlet.ui.cli.options import JsonOpt, QuietOpt, SeedOpt, model_config, open_llm
from gauntlet.ui.cli.persona import NameOpt, UrlOpt
from gauntlet.ui.cli.provers import (AgreeOpt, BaseUrlOpt, KOpt, ModelOpt, NoBackOpt, NoUnanimityOpt, NoWitnessOpt,
                                     RepairsOpt, gate_model, gate_settings)
from gauntlet.ui.user_errors import user_errors

app = typer.Typer(help="Measure quality on evaluation sets: right / wrong / abstained, coverage, the error bound "
                       "and baselines; a stopped eval continues where it stopped.", no_args_is_help=True)

DEFAULT_PANEL_CONFIG = Path("runs/configs/eval-panel.yaml")


def _context(cfg: Any, seed: int, settings: dict[str, Any], **resources: Any):
    from gauntlet.agents.backends import describe
    from gauntlet.graphs.evals.task import EvalContext
    return EvalContext(model=describe(cfg), settings=settings, seed=seed, make_llm=lambda: open_llm(cfg, seed),
                       resources=resources)


@app.command("formalise")
@user_errors
def formalise(file: Optional[Path] = typer.Argument(None, help="Eval set (YAML list of {id, text, expect: "
                                                               "true|false|not_math}); default "
                                                               "runs/evals/formalise.yaml."),
              base_url: Optional[str] = BaseUrlOpt, model: str = ModelOpt, k: int = KOpt,
              repairs: int = RepairsOpt, min_agree: int = AgreeOpt, no_back: bool = NoBackOpt,
              no_unanimity: bool = NoUnanimityOpt, no_witness: bool = NoWitnessOpt, seed: int = SeedOpt,
              limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N cases (a quick "
                                                                               "subset)."),
              per_class: Optional[int] = typer.Option(None, "--per-class", min=1, help="Only the first N cases of "
                                                      "each expect class (true, false, not_math): a balanced "
                                                      "subset."),
              show_cases: bool = typer.Option(False, "--cases", help="Also print each case's verdict, outcome and "
                                                                     "reason (the JSON report always has them)."),
              out: Optional[Path] = OutOpt, fresh: bool = FreshOpt, quiet: bool = QuietOpt,
              as_json: bool = JsonOpt) -> None:
    """Measure the formalisation gate on an eval set: right (the expected verdict; an abstention on a non-math
    sentence), wrong (a verdict opposite to the truth, or any verdict on a non-math sentence), abstained, and
    coverage (right math cases / math cases), beside always-abstain / always-proved / always-refuted.

    Example: gauntlet eval formalise runs/evals/formalise.yaml --per-class 2 --json --out runs/evals/results
    """
    from dataclasses import asdict
    settings = gate_settings(k, repairs, min_agree, no_back, no_unanimity, no_witness)
    cfg = gate_model(base_url, model)
    ctx = _context(cfg, seed, {"gate": asdict(settings), "seed": seed}, gate=settings,
                   select={"limit": limit, "per_class": per_class})
    ctx.make_llm = lambda: open_llm(cfg)

    def text(doc: dict[str, Any]) -> None:
        summary_line(doc)
        for r in doc["per_case"] if show_cases else []:
            sys.stdout.write(f"  {r['outcome']:9} {r['id']}: {r['verdict']} ({r['reason'][:100]})\n")
    run("formalise", file, ctx, out=out, fresh=fresh, as_json=as_json, text=text, quiet=quiet)


@app.command("panel")
@user_errors
def panel(file: Path = typer.Argument(..., help="YAML list of {id, proposal, known_flaws, sound}; "
                                                "e.g. runs/evals/panel.yaml (format in runs/evals/README.md)."),
          config: Path = typer.Option(DEFAULT_PANEL_CONFIG, "--config", help="The run config whose panel, "
                                      "protocol and model are evaluated (its seed_proposals are replaced per case)."),
          only: Optional[str] = typer.Option(None, "--only", help="Comma-separated case ids: run a subset."),
          baseline: bool = typer.Option(True, "--baseline/--no-baseline",
                                        help="Also run each case with only the config's first critic."),
          library_arm: bool = typer.Option(False, "--library-arm", help="Also run each case with the "
                                           "failure-mode library switched off (reported under no_library)."),
          seeds: Optional[str] = typer.Option(None, "--seeds", help="Comma-separated run seeds, e.g. 0,1: run "
                                              "each case once per seed, report per known flaw in how many seeds "
                                              "it was stated, and mark critiques that recur across seeds."),
          repeats: Optional[int] = typer.Option(None, "--repeats", help="Run each case N times, with the "
                                                "config's seed and the N-1 seeds after it (instead of --seeds)."),
          db: Optional[str] = typer.Option(None, "--db", help="Keep the runs in this database (default: a "
                                           "temporary file, deleted afterwards)."),
          out: Optional[Path] = OutOpt, fresh: bool = FreshOpt, quiet: bool = QuietOpt,
          as_json: bool = JsonOpt) -> None:
    """Run the configured protocol on each proposal and report flaw_recall (known flaws stated by a sustained
    critique), false_shootdown_rate (sound proposals shot down), unmatched_sustained, time and tokens, beside a
    single-critic baseline. Per case: a flawed proposal shot down is right, standing wrong, undecided abstained
    (sound controls the reverse). With --seeds or --repeats each case runs once per seed, and a sustained critique
    whose objection comes back in another seed's run is marked recurring (recurring_flaw_recall counts only those).

    Example: gauntlet eval panel runs/evals/panel.yaml --only rlhf-reward-model,sound-canary --seeds 0,1 --json
    """
    from gauntlet.agents.routing import make_run_llm
    from gauntlet.graphs.evals.panel_cases import load_cases
    from gauntlet.graphs.run.loading import load_config
    from gauntlet.graphs.store.store import Store

    chosen = [o.strip() for o in only.split(",") if o.strip()] if only else None
    load_cases(file, chosen)  # a bad file or --only fails here, in one line, before any model loads
    loaded = load_config(config)
    run_seeds = list(dict.fromkeys(seed_list(seeds, repeats, loaded.config.seed) or [loaded.config.seed]))
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(db or str(Path(tmp) / "eval-panel.sqlite"))
        ctx = _context(loaded.config.model, loaded.config.seed,
                       {"config": loaded.config.model_dump(mode="json"), "seeds": run_seeds, "baseline": baseline,
                        **({"library_arm": True} if library_arm else {})},
                       store=store, loaded=loaded, seeds=run_seeds, baseline=baseline, only=chosen,
                       library_arm=library_arm)
        ctx.make_llm = lambda: make_run_llm(loaded.config)
        run("panel", file, ctx, out=out, fresh=fresh, as_json=as_json, text=_panel_text, quiet=quiet)


def _panel_text(doc: dict[str, Any]) -> None:
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.0f}%"
    per = " (known flaw, seed) pairs" if len(doc["seeds"]) > 1 else " known flaws"
    summary_line(doc)
    print(f"flaw recall {pct(doc['flaw_recall'])} ({doc['flaws_found']}/{doc['flaws']}{per}), "
          f"false shoot-down rate {pct(doc['false_shootdown_rate'])} over {doc['sound']} sound, "
          f"undecided (abstained) {doc['undecided_flawed']} flawed / {doc['undecided_sound']} sound runs, "
          f"{len(doc['unmatched_sustained'])} unmatched sustained, {doc['time_s']} s, {doc['tokens']} tokens")
    if len(doc["seeds"]) > 1:
        print(f"over seeds {', '.join(map(str, doc['seeds']))}: stated in any seed "
              f"{pct(doc['flaw_recall_any_seed'])}, by a critique recurring across seeds "
              f"{pct(doc['recurring_flaw_recall'])}")
    if "baseline" in doc:
        b = doc["baseline"]
        print(f"single critic ({', '.join(b['critics'])}): flaw recall {pct(b['flaw_recall'])}, "
              f"false shoot-down rate {pct(b['false_shootdown_rate'])}")
    if "no_library" in doc:
        b = doc["no_library"]
        print(f"without the library: flaw recall {pct(b['flaw_recall'])}, false shoot-down rate "
              f"{pct(b['false_shootdown_rate'])}, {b['unmatched_sustained']} unmatched sustained")


@app.command("clone")
@user_errors
def clone(card_ref: str = typer.Argument(..., metavar="CARD", help="A clone's card (file or name)."),
          seed: int = SeedOpt, max_claims: int = typer.Option(12, "--max-claims", min=1, max=500,
                                                              help="At most this many held-out stances."),
          target_error: float = typer.Option(0.05, "--target-error", min=0.001, max=0.5,
                                             help="The error the acceptance threshold is chosen for, on the "
                                                  "calibration half of the held-out stances."),
          model_url: Optional[str] = UrlOpt, model_name: str = NameOpt,
          out: Optional[Path] = OutOpt, fresh: bool = FreshOpt, quiet: bool = QuietOpt,
          as_json: bool = JsonOpt) -> None:
    """Measure a clone's fidelity: agreement with its author on held-out stances, against baselines.

    Hides a third of the card's corpus, drafts the clone from the rest, and reads its stance on each of the author's
    hidden positions from P(Yes)/P(No) (both answer orders, the content-free bias removed): calibrated on one half
    of the held-out stances, reported on the other, with abstention below the threshold for --target-error;
    against a same-discipline card with no corpus, a generic panelist, MiniLM similarity and the majority stance.

    Example: gauntlet eval clone my-personas/ines-varga.yaml --max-claims 8 --json
    """
    from gauntlet.agents.metered import Meter
    from gauntlet.graphs.evals.clone import find_card
    find_card(card_ref)  # an unknown card fails here, before any model loads
    cfg = model_config(model_url, model_name, field="--model-url")
    ctx = _context(cfg, seed, {"seed": seed, "max_claims": max_claims, "target_error": target_error}, meter=Meter(),
                   max_claims=max_claims,
                   embed=_embedder())
    run("clone", Path(card_ref), ctx, out=out, fresh=fresh, as_json=as_json, text=_clone_text, quiet=quiet)


def _clone_text(doc: dict[str, Any]) -> None:
    from rich.table import Table
    table = Table("panelist", "agreement with the author", title=f"{doc['card']}: {doc['n']} held-out stances "
                  f"({(doc['split'] or {}).get('mode')} split)")
    for label, key in (("clone", "agreement"), ("clone, other answer order", "order_consistency"),
                       ("same discipline, no corpus", "baseline_agreement"), ("generic panelist", "generic_agreement"),
                       (f"always '{doc['majority_stance']}'", "majority_agreement")):
        table.add_row(label, "-" if doc[key] is None else f"{doc[key]:.2f}")
    Console().print(table)
    sys.stdout.write(doc["verdict"] + f" — {doc['cost']['calls']} calls, {doc['cost']['wall_s']} s\n")


@app.command("rulings")
@user_errors
def rulings(file: Optional[Path] = typer.Argument(None, help="YAML list of {id, proposal, critique, anchor, "
                                                            "rebuttal?, label: sustained|overruled, source}; default "
                                                            "runs/evals/rulings.yaml."),
            target_error: float = typer.Option(0.05, "--target-error", min=0.001, max=0.5,
                                               help="The error the acceptance threshold is chosen for, on the "
                                                    "calibration split."),
            limit: Optional[int] = typer.Option(None, "--limit", min=2, help="At most N items of each split (a "
                                                                             "quick subset)."),
            save_calibration: bool = typer.Option(False, "--save-calibration", help="Write the fitted calibration "
                                                  "to runs/calibrations/<model>.json, where debates find it."),
            train: Optional[list[Path]] = typer.Option(None, "--train", help="A file of extra labelled items in "
                                                       "the same format that only train: all of them join "
                                                       "the calibration split (items marked test too); the "
                                                       "test split stays FILE's. Repeatable."),
            use_calibration: bool = typer.Option(False, "--use-calibration", help="Fit nothing: decide FILE's "
                                                 "test items with the calibration debates use for this model "
                                                 "(runs/calibrations/<model>.json); calibration items are not "
                                                 "read."),
            threshold_rule: Optional[str] = typer.Option(None, "--threshold-rule",
                                                         help="How the acceptance threshold is chosen on the "
                                                              "calibration split: pooled-posterior (default: one "
                                                              "threshold for both labels, the error's posterior "
                                                              "median within the target), pooled-observed, "
                                                              "per-label-observed or per-label-posterior. The "
                                                              "report shows every rule's figures."),
            seed: int = SeedOpt, model_url: Optional[str] = UrlOpt, model_name: str = NameOpt,
            out: Optional[Path] = OutOpt, fresh: bool = FreshOpt, quiet: bool = QuietOpt,
            as_json: bool = JsonOpt) -> None:
    """Measure scored juror votes on labelled critiques: a calibration fitted on one split, reported on the other
    with AUC, the risk-coverage curve, accepted, wrong and the error bound, beside its baselines.

    Example: gauntlet eval rulings runs/evals/rulings.yaml --limit 20 --json --out runs/evals/results

    With more training items: gauntlet eval rulings --train runs/evals/rulings-train.yaml --json

    On a file of test items only, trained on others: gauntlet eval rulings NEW.yaml --train runs/evals/rulings.yaml
    --train runs/evals/rulings-train.yaml --json

    The shipped calibration on a fresh file, as debates use it: gauntlet eval rulings NEW.yaml --use-calibration
    """
    cfg = model_config(model_url, model_name, field="--model-url")
    from gauntlet.agents.scoring import THRESHOLD_RULES
    from gauntlet.graphs.evals.rulings import RULINGS_THRESHOLD_RULE, TASK
    if threshold_rule is not None and threshold_rule not in THRESHOLD_RULES:
        raise InputError(f"unknown threshold rule {threshold_rule!r}", field="--threshold-rule",
                         fix=f"use one of {', '.join(THRESHOLD_RULES)}")
    settings = {"seed": seed, "target_error": target_error, "limit": limit, "save_calibration": save_calibration,
                "threshold_rule": threshold_rule or RULINGS_THRESHOLD_RULE}
    from gauntlet.graphs.evals.rulings_set import load_cases, with_training
    # Bad input stops here, before a model loads or a journal is written.
    cases = load_cases(file or TASK.default_file)
    if use_calibration:
        if train or save_calibration or threshold_rule:
            given = "--train" if train else "--save-calibration" if save_calibration else "--threshold-rule"
            raise InputError("--use-calibration fits nothing", field=given,
                             fix="drop --train/--save-calibration/--threshold-rule, or drop --use-calibration to "
                                 "fit one")
        settings["use_calibration"] = True
    else:
        with_training(cases, list(train or ()), file or TASK.default_file)
    if train:
        from gauntlet.agents.calibration import file_hash
        settings.update(train=[str(f) for f in train], train_sha256=[file_hash(f) for f in train])
    run("rulings", file, _context(cfg, seed, settings), out=out, fresh=fresh, as_json=as_json, text=summary_line,
        quiet=quiet)


def _embedder():
    from gauntlet.agents import corpus, embeddings
    return corpus.embed if embeddings.available() else None


def plain_command(name: str):
    """`gauntlet eval NAME [FILE]` for an eval with no options of its own: the model, the seed, the front's."""
    @user_errors
    def command(file: Optional[Path] = typer.Argument(None, help="The eval set (default: the shipped one)."),
                seed: int = SeedOpt, model_url: Optional[str] = UrlOpt, model_name: str = NameOpt,
                out: Optional[Path] = OutOpt, fresh: bool = FreshOpt, quiet: bool = QuietOpt,
                as_json: bool = JsonOpt) -> None:
        cfg = model_config(model_url, model_name, field="--model-url")
        run(name, file, _context(cfg, seed, {"seed": seed}), out=out, fresh=fresh, as_json=as_json,
            text=summary_line, quiet=quiet)
    command.__doc__ = (f"Run the `{name}` eval (graphs/evals/registry.py) and report its figures.\n\n"
                       f"    Example: gauntlet eval {name} --json --out runs/evals/results")
    return command


def _attach_registered() -> None:
    from gauntlet.graphs.evals import registry
    have = {c.name for c in app.registered_commands}
    for name in registry.TASKS:
        if name not in have:
            app.command(name)(plain_command(name))


_attach_registered()


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
