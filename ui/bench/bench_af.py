"""`gauntlet bench af`: Gauntlet's argumentation engine and clingo (ASPARTIX encodings) timed side by side on the
same generated .apx files, with the ratio and an agreement check per case.

Each case is written once as an ASPARTIX file; Gauntlet reads it with its strict reader and answers the task,
clingo loads the same file with the ASPARTIX encoding and answers the same task. Times are wall clock, in
process, reading included, median of --repeat runs. Agreement: the same set of extensions for EE, an answer that
is an extension of the other's enumeration (small cases) or of the same size class for SE.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import typer

from gauntlet.ui.user_errors import user_errors


def random_case(n: int, per_arg: float, seed: int) -> tuple[int, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    m = int(per_arg * n)
    return n, rng.integers(0, n, m), rng.integers(0, n, m)


def cycles_case(count: int, length: int) -> tuple[int, np.ndarray, np.ndarray]:
    """`count` disjoint directed cycles of `length` (even: 2^count preferred extensions; odd: only the empty one)."""
    base = np.arange(count * length).reshape(count, length)
    return count * length, base.ravel(), np.roll(base, -1, axis=1).ravel()


def chained_cycles_case(count: int, length: int) -> tuple[int, np.ndarray, np.ndarray]:
    """`count` directed cycles where the first argument of each attacks the first of the next."""
    n, src, dst = cycles_case(count, length)
    first = np.arange(count - 1) * length
    return n, np.concatenate((src, first)), np.concatenate((dst, first + length))


def even_pairs_case(count: int) -> tuple[int, np.ndarray, np.ndarray]:
    """`count` disjoint mutual attacks a <-> b."""
    a = np.arange(0, 2 * count, 2)
    return 2 * count, np.concatenate((a, a + 1)), np.concatenate((a + 1, a))


def self_attacker_case(victims: int) -> tuple[int, np.ndarray, np.ndarray]:
    """One self-attacking argument that attacks `victims` others."""
    return victims + 1, np.zeros(victims + 1, dtype=np.int64), np.arange(victims + 1)


def write_apx(path: Path, n: int, src: np.ndarray, dst: np.ndarray) -> None:
    text = "".join(f"arg(a{i}).\n" for i in range(n)) + "".join(
        f"att(a{a},a{b}).\n" for a, b in zip(src.tolist(), dst.tolist()))
    path.write_text(text, encoding="utf-8")


def gauntlet_task(path: Path, semantics: str, task: str, limit: int) -> list[list[str]]:
    from gauntlet.graphs.argument.af_formats import read_af
    from gauntlet.graphs.argument.iccma import run_task
    doc = run_task(read_af(path), semantics, task, None, limit, str(path))
    return doc["extensions"] if task == "EE" else [doc["extension"]]


def clingo_task(path: Path, semantics: str, task: str, limit: int) -> list[list[str]]:
    import clingo

    from gauntlet.graphs.argument.aspartix import ENCODINGS, _quiet
    opts = ["1" if task == "SE" else str(limit), "--warn=none"]
    if semantics == "preferred":
        opts += ["--heuristic=Domain", "--enum-mode=domRec"]
    if semantics == "grounded":
        opts = ["0", "--enum-mode=cautious", "--warn=none"]
    ctl = clingo.Control(opts, logger=_quiet)
    ctl.load(str(path))
    ctl.add("base", [], ENCODINGS[semantics] + "#show in/1.\n")
    ctl.ground([("base", [])])
    found: list[list[str]] = []
    ctl.solve(on_model=lambda m: found.append(sorted(str(s.arguments[0]) for s in m.symbols(shown=True))))
    return found[-1:] if semantics == "grounded" else found


def gauntlet_sceptical(path: Path, arg: str) -> tuple[bool, list[str] | None]:
    from gauntlet.graphs.argument.af_formats import read_af
    from gauntlet.graphs.argument.iccma import run_task
    doc = run_task(read_af(path), "preferred", "DS", arg, 1, str(path))
    return doc["accepted"], doc["counterexample"]


def clingo_sceptical(path: Path, arg: str) -> tuple[bool, list[str] | None]:
    """DS-PR by clingo: preferred extensions enumerated with ASPARTIX's domain heuristics (domRec), stopping at
    the first without arg (all of them when arg is sceptically accepted)."""
    import clingo

    from gauntlet.graphs.argument.aspartix import ENCODINGS, _quiet
    ctl = clingo.Control(["0", "--heuristic=Domain", "--enum-mode=domRec", "--warn=none"], logger=_quiet)
    ctl.load(str(path))
    ctl.add("base", [], ENCODINGS["preferred"] + "#show in/1.\n")
    ctl.ground([("base", [])])
    found: list[list[str]] = []

    def on_model(model) -> bool:
        ext = sorted(str(s.arguments[0]) for s in model.symbols(shown=True))
        if arg not in ext:
            found.append(ext)
            return False  # a counterexample: stop
        return True

    ctl.solve(on_model=on_model)
    return not found, (found[0] if found else None)


def run_sceptical_case(name: str, case: tuple, arg: str, tmp: Path, repeat: int) -> dict[str, Any]:
    """DS-PR of one argument: the same answer from both, and a counterexample clingo confirms as preferred."""
    n, src, dst = case
    path = tmp / f"{name}.apx"
    write_apx(path, n, src, dst)
    ours_s, (yes, counter) = _timed(lambda: gauntlet_sceptical(path, arg), repeat)
    ref_s, (ref_yes, _) = _timed(lambda: clingo_sceptical(path, arg), repeat)
    agree = yes == ref_yes and (yes or (arg not in counter and clingo_confirms(path, counter, "preferred")))
    return {"case": name, "args": n, "attacks": int(src.size), "semantics": "preferred", "task": "DS",
            "arg": arg, "accepted": yes, "gauntlet_s": round(ours_s, 4), "clingo_s": round(ref_s, 4),
            "ratio": round(ours_s / ref_s, 3) if ref_s > 0 else None, "extensions": None, "agree": agree}


def clingo_confirms(path: Path, ext: list[str], semantics: str) -> bool:
    """Is ext an extension by clingo's reckoning: complete (stable) and, for preferred, no complete extension
    strictly contains it."""
    import clingo

    from gauntlet.graphs.argument.aspartix import ENCODINGS, _quiet
    ours = "".join(f"ours({a}).\n" for a in ext)

    def satisfiable(extra: str) -> bool:
        ctl = clingo.Control(["1", "--warn=none"], logger=_quiet)
        ctl.load(str(path))
        ctl.add("base", [], ENCODINGS["stable" if semantics == "stable" else "complete"] + ours + extra)
        ctl.ground([("base", [])])
        return bool(ctl.solve().satisfiable)

    exact = satisfiable(":- in(X), not ours(X).\n:- ours(X), not in(X).\n")
    if semantics != "preferred":
        return exact
    return exact and not satisfiable(":- ours(X), not in(X).\nbigger :- in(X), not ours(X).\n:- not bigger.\n")


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def run_case(name: str, case: tuple, semantics: str, task: str, tmp: Path, repeat: int,
             limit: int = 100_000) -> dict[str, Any]:
    n, src, dst = case
    path = tmp / f"{name}.apx"
    write_apx(path, n, src, dst)
    ours_s, ours = _timed(lambda: gauntlet_task(path, semantics, task, limit), repeat)
    ref_s, ref = _timed(lambda: clingo_task(path, semantics, task, limit), repeat)
    if task == "EE" or semantics == "grounded":
        agree = sorted(map(sorted, ours)) == sorted(map(sorted, ref))
    else:  # SE: any extension is right; clingo checks that ours is complete and that none is strictly larger
        agree = (ours[0] is None) == (not ref) and (ours[0] is None or clingo_confirms(path, ours[0], semantics))
    return {"case": name, "args": n, "attacks": int(src.size), "semantics": semantics, "task": task,
            "gauntlet_s": round(ours_s, 4), "clingo_s": round(ref_s, 4),
            "ratio": round(ours_s / ref_s, 3) if ref_s > 0 else None,
            "extensions": len(ours) if task == "EE" else None, "agree": agree}


def grounded_end_to_end(n: int, tmp: Path, fmt: str = "af", repeat: int = 1) -> dict[str, Any]:
    """`gauntlet af FILE --json` as a subprocess on a random framework of n arguments and 3n attacks, median wall
    clock of `repeat` runs: ICCMA 2023 `.af` (numbered arguments) or `.apx` with string names a0 … a{n-1}."""
    _, src, dst = random_case(n, 3, seed=1)
    path = tmp / f"grounded_large.{fmt}"
    if fmt == "apx":
        write_apx(path, n, src, dst)
    else:
        with path.open("w", encoding="ascii") as f:
            f.write(f"p af {n}\n")
            f.write("".join(f"{a + 1} {b + 1}\n" for a, b in zip(src.tolist(), dst.tolist())))
    walls, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "af", str(path), "--json"],
                             capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
    doc = json.loads(out.stdout) if out.returncode == 0 else {}
    return {"case": f"grounded_end_to_end_{fmt}", "args": n, "attacks": int(src.size), "format": fmt,
            "gauntlet_s": round(statistics.median(walls), 3), "runs_s": [round(w, 3) for w in walls],
            "in": len(doc.get("in", [])), "undec": len(doc.get("undec", [])), "ok": out.returncode == 0}


def cases(quick: bool) -> list[tuple[str, tuple, str, str]]:
    sizes = (100, 1000) if quick else (100, 1000, 10_000)
    out = []
    for n in sizes:
        for per_arg in (1.0, 2.0, 3.0):
            out.append((f"random_n{n}_d{per_arg:g}", random_case(n, per_arg, seed=n + int(per_arg)),
                        "preferred", "SE"))
        out.append((f"random_n{n}_d3_grounded", random_case(n, 3.0, seed=n), "grounded", "SE"))
    if not quick:  # a harder draw of the same family: the first complete model is far from maximal
        out.append(("random_n10000_d3_seed13", random_case(10_000, 3.0, seed=13), "preferred", "SE"))
    out += [
        ("even_2cycles_x10", even_pairs_case(10), "preferred", "EE"),
        ("even_4cycles_x8", cycles_case(8, 4), "preferred", "EE"),
        ("even_2cycles_x1000", even_pairs_case(1000), "preferred", "SE"),
        ("odd_3cycles_x50", cycles_case(50, 3), "preferred", "EE"),
        ("odd_5cycles_x200", cycles_case(200, 5), "preferred", "EE"),
        ("self_attacker_23", self_attacker_case(23), "preferred", "EE"),
        ("self_attacker_10000", self_attacker_case(10_000), "preferred", "EE"),
        ("even_2cycles_x10_stable", even_pairs_case(10), "stable", "EE"),
        ("even_2cycles_x10_complete", even_pairs_case(10), "complete", "EE"),
        ("even_2cycles_x14", even_pairs_case(14), "preferred", "EE"),  # 16,384: SCC-recursive (disjoint)
        ("chained_2cycles_x14", chained_cycles_case(14, 2), "preferred", "EE"),  # 987: whole-core solver
    ]
    return out


def floating_case(cycles: int) -> tuple[int, np.ndarray, np.ndarray]:
    """Floating acceptance behind `cycles` independent 2-cycles: b <-> c both attack d, d attacks a, and one side
    of every cycle attacks d too; a is in every one of the 2^(cycles+1) preferred extensions (DS YES)."""
    a, b, c, d = 0, 1, 2, 3
    left = 4 + 2 * np.arange(cycles)
    src = np.concatenate(([b, c, b, c, d], left, left + 1, left))
    dst = np.concatenate(([c, b, d, d, a], left + 1, left, np.full(cycles, d)))
    return 4 + 2 * cycles, src, dst


def sceptical_cases(quick: bool) -> list[tuple[str, tuple, str]]:
    """DS-PR: the hard random draw (argument a100 took ~60 s before the CEGAR loop and blockwise growth) and a
    YES case with many preferred extensions."""
    out = [("floating_x12_DS", floating_case(12), "a0")]  # clingo enumerates all 8,192 to answer YES
    if not quick:
        out += [(f"random_n10000_d3_seed13_DS_{arg}", random_case(10_000, 3.0, seed=13), arg)
                for arg in ("a100", "a0")]
    return out


@user_errors
def af_bench(repeat: int = typer.Option(3, "--repeat", min=1, max=20, help="Runs to take the median of."),
             quick: bool = typer.Option(False, "--quick", help="Skip the 10,000-argument and 10^6 cases."),
             large: int = typer.Option(1_000_000, "--large", min=1000, max=20_000_000,
                                       help="Arguments in the end-to-end grounded case."),
             as_json: bool = typer.Option(True, "--json/--no-json", help="Print JSON (the only output format).")
             ) -> None:
    """Gauntlet vs clingo (ASPARTIX encodings) on the same generated files, with ratios; one JSON object.

    Example: gauntlet bench af --repeat 3
    """
    from gauntlet.graphs.argument.aspartix import _clingo
    _clingo()  # a clear one-line error when clingo is missing
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        run_case("warm_up", even_pairs_case(3), "preferred", "EE", Path(tmp), 1)  # imports and first solvers
        for name, case, semantics, task in cases(quick):
            print(f"bench af: {name}", file=sys.stderr, flush=True)
            rows.append(run_case(name, case, semantics, task, Path(tmp), repeat))
        for name, case, arg in sceptical_cases(quick):
            print(f"bench af: {name}", file=sys.stderr, flush=True)
            rows.append(run_sceptical_case(name, case, arg, Path(tmp), repeat))
        scale = None if quick else grounded_end_to_end(large, Path(tmp), "af", repeat)
        scale_apx = None if quick else grounded_end_to_end(large, Path(tmp), "apx", repeat)
    structured = [r for r in rows if not r["case"].startswith("random")]
    doc = {"bench": "af", "repeat": repeat, "cases": rows, "grounded_end_to_end": scale,
           "grounded_end_to_end_apx": scale_apx,
           "disagreements": sum(not r["agree"] for r in rows),
           "structured_within_target": all(r["gauntlet_s"] < 2.0 or (r["ratio"] or 0) <= 3 for r in structured),
           "median_ratio": round(statistics.median(r["ratio"] for r in rows if r["ratio"] is not None), 3)}
    sys.stdout.write(json.dumps(doc, sort_keys=True) + "\n")


def register(app: typer.Typer) -> None:
    from gauntlet.ui.bench.bench_af_large import af_large_bench
    app.command("af")(af_bench)
    app.command("af-large")(af_large_bench)
