"""`gauntlet formalise TEXT` and `gauntlet eval formalise [FILE]`: the faithfulness gate from the command line.

Both run provers.pipeline on a model: the embedded one by default, or an OpenAI-compatible server with
`--base-url URL --model NAME`. Progress goes to stderr; `--json` prints one document on stdout.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any, Optional

import typer

from gauntlet.errors import InputError
from gauntlet.ui.user_errors import user_errors

BaseUrlOpt = typer.Option(None, "--base-url", help="An OpenAI-compatible server (vLLM, llama.cpp, Ollama), e.g. "
                                                   "http://127.0.0.1:8000/v1; default: the embedded model.")
ModelOpt = typer.Option("", "--model", help="Model name sent to --base-url.")
KOpt = typer.Option(3, "--k", min=1, max=16, help="Candidate formalisations sampled per claim.")
RepairsOpt = typer.Option(1, "--repairs", min=0, max=5, help="Repair calls per candidate z3 cannot parse.")
AgreeOpt = typer.Option(2, "--min-agree", min=1, max=16, help="Surviving candidates that must agree (only with "
                                                               "--no-unanimity).")
NoBackOpt = typer.Option(False, "--no-back-translation", help="Skip the back-translation + judge calls "
                                                              "(cheaper, less safe).")
NoUnanimityOpt = typer.Option(False, "--no-unanimity", help="Accept a verdict from --min-agree of --k candidates "
                                                            "instead of all k (less safe).")
NoWitnessOpt = typer.Option(False, "--no-witness", help="Skip the witness check of a refutation's counterexample "
                                                        "(2 calls; less safe).")
SeedOpt = typer.Option(0, "--seed", help="Seed: the same seed and model give the same answers.")
JsonOpt = typer.Option(False, "--json", help="Print machine-readable JSON.")


def _llm(base_url: str | None, model: str) -> Any:
    from gauntlet.agents.backends import check_reachable, make_llm
    from gauntlet.config import ModelConfig
    try:
        cfg = ModelConfig(backend="openai", base_url=base_url, name=model or "default") if base_url else \
            ModelConfig(temperature=0.5)
    except ValueError as exc:
        raise InputError(f"bad model options ({str(exc).splitlines()[-1]})", field="--base-url",
                         fix="give http(s)://HOST:PORT/v1") from None
    check_reachable(cfg)
    return make_llm(cfg), cfg


def _settings(k: int, repairs: int, min_agree: int, no_back: bool, no_unanimity: bool = False,
              no_witness: bool = False) -> Any:
    from gauntlet.provers.pipeline import GateSettings
    if min_agree > k:
        raise InputError(f"--min-agree {min_agree} is more than --k {k}", field="--min-agree",
                         fix="use --min-agree <= --k")
    return GateSettings(k=k, repairs=repairs, min_agree=min_agree, back_translate=not no_back,
                        unanimous=not no_unanimity, witness=not no_witness)


def _print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")


@user_errors
def formalise_command(text: str = typer.Argument(..., help="The claim in words."),
                      context: str = typer.Option("", "--context", help="The idea the claim supports (helps the "
                                                                        "formaliser read it; never formalised)."),
                      base_url: Optional[str] = BaseUrlOpt, model: str = ModelOpt, k: int = KOpt,
                      repairs: int = RepairsOpt, min_agree: int = AgreeOpt, no_back: bool = NoBackOpt,
                      no_unanimity: bool = NoUnanimityOpt, no_witness: bool = NoWitnessOpt,
                      seed: int = SeedOpt, as_json: bool = JsonOpt) -> None:
    """Formalise one sentence through the faithfulness gate: proved / refuted only from a formalisation that
    passed every check (parse, copy guard, symbol table, vacuity, generality, unanimity of all k candidates,
    agreement, back-translation, and for a refutation the witness); otherwise not_formalisable / rejected with
    the reason.

    Example: gauntlet formalise "For every real x, x squared is at least x." --json
    """
    from gauntlet.provers.pipeline import run_gate
    if not text.strip() or len(text) > 2000:
        raise InputError("the claim must be 1-2000 characters", field="TEXT", fix="give one sentence")
    settings = _settings(k, repairs, min_agree, no_back, no_unanimity, no_witness)
    llm, _ = _llm(base_url, model)

    async def go() -> Any:
        try:
            return await run_gate(llm, text.strip(), context=context.strip(), settings=settings, seed=seed)
        finally:
            await llm.aclose()
    result = asyncio.run(go())
    if as_json:
        _print_json(result.as_json())
        return
    sys.stdout.write(f"{result.verdict}: {result.reason}\n")
    for c in result.checks:
        sys.stdout.write(f"  {'pass' if c.passed else 'FAIL'} {c.check}: {c.reason}\n")
    if result.formal:
        sys.stdout.write(result.formal + "\n")


@user_errors
def eval_formalise_command(file: Optional[Path] = typer.Argument(None, help="Eval set (YAML list of {id, text, "
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
    settings = _settings(k, repairs, min_agree, no_back, no_unanimity, no_witness)
    llm, cfg = _llm(base_url, model)
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
        _print_json(doc)
        return
    sys.stdout.write(f"cases {doc['cases']}  right {doc['right']}  abstained {doc['abstained']}  wrong "
                     f"{doc['wrong']}  coverage {doc['coverage']}\n")
    for r in rows if per_case else []:
        sys.stdout.write(f"  {r['outcome']:9} {r['id']}: {r['verdict']} ({r['reason'][:100]})\n")
