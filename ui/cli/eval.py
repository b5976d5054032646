"""`gauntlet eval …`: measure quality on shipped evaluation sets."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

from gauntlet.errors import InputError
from gauntlet.ui.cli.options import JsonOpt, SeedOpt, model_config, open_llm, print_json
from gauntlet.ui.cli.persona import NameOpt, UrlOpt, find_card
from gauntlet.ui.cli.provers import (AgreeOpt, BaseUrlOpt, KOpt, ModelOpt, NoBackOpt, NoUnanimityOpt, NoWitnessOpt,
                                     RepairsOpt, gate_model, gate_settings)
from gauntlet.ui.user_errors import err, user_errors

app = typer.Typer(help="Measure quality on shipped evaluation sets; each prints right / wrong / abstained "
                       "figures.", no_args_is_help=True)


def embedder():
    from gauntlet.agents import corpus, embeddings
    return corpus.embed if embeddings.available() else None


@app.command("formalise")
@user_errors
def formalise(file: Optional[Path] = typer.Argument(None, help="Eval set (YAML list of {id, text, "
                                                                            "expect: true|false|not_math}); "
                                                                            "default runs/evals/formalise.yaml."),
                           base_url: Optional[str] = BaseUrlOpt, model: str = ModelOpt, k: int = KOpt,
                           repairs: int = RepairsOpt, min_agree: int = AgreeOpt, no_back: bool = NoBackOpt,
                           no_unanimity: bool = NoUnanimityOpt, no_witness: bool = NoWitnessOpt,
                           seed: int = SeedOpt,
                           limit: Optional[int] = typer.Option(None, "--limit", min=1,
                                                               help="Only the first N cases (a quick subset)."),
                           per_class: Optional[int] = typer.Option(None, "--per-class", min=1,
                                                                   help="Only the first N cases of each expect "
                                                                        "class (true, false, not_math): a "
                                                                        "balanced subset."),
                           per_case: bool = typer.Option(False, "--cases", help="Include each case's verdict, "
                                                                                 "outcome and reason."),
                           as_json: bool = JsonOpt) -> None:
    """Measure the formalisation gate on an eval set: cases, right, abstained, wrong (a verdict opposite to the
    truth, or any verdict on a non-math sentence) and coverage (right math cases / math cases).

    Example: gauntlet eval formalise runs/evals/formalise.yaml --json --cases
    """
    from gauntlet.provers.evalset import DEFAULT_SET, load_cases, score, summarise
    from gauntlet.provers.pipeline import run_gate
    cases = load_cases(file or DEFAULT_SET)
    if per_class:
        rank = {c.id: sum(d.expect == c.expect for d in cases[:i + 1]) for i, c in enumerate(cases)}
        # Round-robin over the classes, so a run stopped part-way still has a balanced sample.
        cases = sorted((c for c in cases if rank[c.id] <= per_class), key=lambda c: rank[c.id])
    cases = cases[:limit]
    settings = gate_settings(k, repairs, min_agree, no_back, no_unanimity, no_witness)
    cfg = gate_model(base_url, model)
    llm = open_llm(cfg)
    rows: list[dict[str, Any]] = []

    async def go() -> None:
        try:
            for i, case in enumerate(cases, 1):
                r = await run_gate(llm, case.text, quantities=case.quantities, settings=settings, seed=seed)
                rows.append({"id": case.id, "expect": case.expect, "verdict": r.verdict,
                             "outcome": score(case.expect, r.verdict), "reason": r.reason[:300],
                             "failed_checks": sorted({c.check for c in r.checks if not c.passed}),
                             "llm_calls": len(r.calls), "elapsed_s": round(r.elapsed_s, 2),
                             # what a reviewer checks a decisive verdict against
                             "formal": r.formal if r.verdict in ("proved", "refuted") else None,
                             "counterexample": r.counterexample_text() or None})
                sys.stderr.write(f"[{i}/{len(cases)}] {case.id}: {r.verdict} ({rows[-1]['outcome']}, "
                                 f"{len(r.calls)} calls, {r.elapsed_s:.0f} s)\n")
                sys.stderr.flush()
        finally:
            await llm.aclose()
    t0 = time.perf_counter()
    interrupted = False
    try:
        asyncio.run(go())
    except KeyboardInterrupt:  # Ctrl-C on a long eval: report the cases finished so far, marked as partial
        interrupted = True
        sys.stderr.write(f"interrupted: figures cover the {len(rows)} finished cases\n")
    from gauntlet.agents.backends import describe
    doc = {**summarise(rows), "model": describe(cfg), "k": settings.k, "repairs": settings.repairs,
           "min_agree": settings.min_agree, "unanimous": settings.unanimous,
           "back_translation": settings.back_translate, "witness": settings.witness,
           "llm_calls": sum(r["llm_calls"] for r in rows), "elapsed_s": round(time.perf_counter() - t0, 1),
           "interrupted": interrupted}
    if rows:
        doc["calls_per_case"] = round(doc["llm_calls"] / len(rows), 2)
        doc["seconds_per_case"] = round(sum(r["elapsed_s"] for r in rows) / len(rows), 1)
    if per_case:
        doc["per_case"] = rows
    if as_json:
        print_json(doc)
        return
    sys.stdout.write(f"cases {doc['cases']}  right {doc['right']}  abstained {doc['abstained']}  wrong "
                     f"{doc['wrong']}  coverage {doc['coverage']}\n")
    for r in rows if per_case else []:
        sys.stdout.write(f"  {r['outcome']:9} {r['id']}: {r['verdict']} ({r['reason'][:100]})\n")


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


@app.command("panel")
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
          as_json: bool = JsonOpt) -> None:
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
        print_json(doc)
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


@app.command("clone")
@user_errors
def clone(card_ref: str = typer.Argument(..., metavar="CARD", help="A clone's card (file or name)."),
          seed: int = SeedOpt, max_claims: int = typer.Option(12, "--max-claims", min=1, max=500,
                                                              help="At most this many held-out stances."),
          model_url: Optional[str] = UrlOpt, model_name: str = NameOpt, as_json: bool = JsonOpt) -> None:
    """Measure a clone's fidelity: agreement with its author on held-out stances, against baselines.

    Hides a third of the card's corpus, drafts the clone from the rest, and scores its agree/disagree answers on the author's hidden positions against a same-discipline card with no
    corpus, a generic panelist and the majority stance; its own agreement across two seeds is the ceiling.

    Example: gauntlet eval clone my-personas/ines-varga.yaml --max-claims 8 --json
    """
    from gauntlet.agents.corpus_files import read_corpus
    from gauntlet.agents.fidelity import evaluate
    from gauntlet.agents.metered import Meter

    card = find_card(card_ref)
    if not card.corpus:
        raise InputError(f"card {card.name!r} has no corpus to hold stances out of", field="CARD",
                         fix="draft it from writings with `gauntlet persona new NAME --from DIR`")
    files = read_corpus(Path(card.corpus), field=f"{card.name}.corpus")
    recorded = {s.path: s.sha256 for s in card.sources}
    changed = [f.source for f in files if recorded and recorded.get(f.source) != f.sha256]
    if changed:
        err.print(f"note: corpus changed since the card was drafted ({', '.join(changed[:3])}); stances whose "
                  "quotes no longer check are left out", highlight=False, markup=False)
    llm = open_llm(model_config(model_url, model_name, field="--model-url"), seed)

    async def go():
        try:
            return await evaluate(llm, card, files, Meter(), seed=seed, max_claims=max_claims, embed=embedder())
        finally:
            await llm.aclose()

    doc = asyncio.run(go())
    if as_json:
        print_json(doc)
        return
    from rich.table import Table
    table = Table("panelist", "agreement with the author", title=f"{card.name}: {doc['n']} held-out stances "
                  f"({doc['split']['mode']} split)")
    for label, key in (("clone", "agreement"), ("clone, other seed (self-consistency)", "self_consistency"),
                       ("same discipline, no corpus", "baseline_agreement"), ("generic panelist", "generic_agreement"),
                       (f"always '{doc['majority_stance']}'", "majority_agreement")):
        table.add_row(label, "-" if doc[key] is None else f"{doc[key]:.2f}")
    Console().print(table)
    sys.stdout.write(doc["verdict"] + f" — {doc['cost']['calls']} calls, {doc['cost']['wall_s']} s\n")
