"""Provers from the command line: `prove` a formal file, `formalise` a sentence through the faithfulness gate.

`formalise` runs provers.pipeline on a model: the embedded one by default, or an OpenAI-compatible server with
`--base-url URL --model NAME`. Progress goes to stderr; `--json` prints one document on stdout.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from gauntlet.errors import InputError
from gauntlet.ui.cli.options import JsonOpt, SeedOpt, model_config, open_llm, print_json
from gauntlet.ui.user_errors import user_errors

app = typer.Typer()

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


def gate_model(base_url: str | None, model: str) -> Any:
    """The formaliser's model: --base-url/--model, else the embedded model sampling at temperature 0.5 (the k
    candidates must differ)."""
    return model_config(base_url, model, field="--base-url", temperature=0.5)


def gate_settings(k: int, repairs: int, min_agree: int, no_back: bool, no_unanimity: bool = False,
                  no_witness: bool = False) -> Any:
    from gauntlet.provers.pipeline import GateSettings
    if min_agree > k:
        raise InputError(f"--min-agree {min_agree} is more than --k {k}", field="--min-agree",
                         fix="use --min-agree <= --k")
    return GateSettings(k=k, repairs=repairs, min_agree=min_agree, back_translate=not no_back,
                        unanimous=not no_unanimity, witness=not no_witness)


@app.command()
@user_errors
def prove(file: Path = typer.Argument(..., help="An SMT-LIB file (.smt2) asserting the NEGATION of a claim, "
                                                "or a Lean 4 file (.lean) with a theorem and its proof."),
          timeout: Optional[float] = typer.Option(None, "--timeout", help="Seconds per check (default 5 for z3, "
                                                                          "60 for Lean)."),
          no_cache: bool = typer.Option(False, "--no-cache", help="Ignore and do not fill the verdict cache."),
          as_json: bool = JsonOpt) -> None:
    """Check a formal claim: proved (unsat), refuted (with a counterexample), unknown, or error.

    Example: gauntlet prove provers/examples/square_ge_self.smt2 --json
    """
    from gauntlet.provers.router import prove_file
    verdict = prove_file(file, timeout, use_cache=not no_cache)
    if as_json:
        doc = verdict.as_json()
        print_json({k: doc[k] for k in ("verdict", "prover", "counterexample", "detail", "elapsed_s", "cached")})
        return
    sys.stdout.write(f"{verdict.verdict} ({verdict.prover}): {verdict.detail}\n")


@app.command("formalise")
@user_errors
def formalise(text: str = typer.Argument(..., help="The claim in words."),
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
    settings = gate_settings(k, repairs, min_agree, no_back, no_unanimity, no_witness)
    llm = open_llm(gate_model(base_url, model))

    async def go() -> Any:
        try:
            return await run_gate(llm, text.strip(), context=context.strip(), settings=settings, seed=seed)
        finally:
            await llm.aclose()
    result = asyncio.run(go())
    if as_json:
        print_json(result.as_json())
        return
    sys.stdout.write(f"{result.verdict}: {result.reason}\n")
    if result.stopped_by:
        sys.stdout.write(f"  stopped by: {result.stopped_by}\n")
    for c in result.checks:
        sys.stdout.write(f"  {'pass' if c.passed else 'FAIL'} {c.check}: {c.reason}\n")
    if result.formal:
        sys.stdout.write(result.formal + "\n")
