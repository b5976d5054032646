"""`gauntlet bench af-large`: grounded semantics on 10⁵ … 2·10⁷ arguments, `gauntlet af FILE --json` end to end
(a fresh process: start, read, solve, write the answer) beside clingo with ASPARTIX's grounded encoding.

Two families: the header-only file of the issue (`p af N` and one attack `1 2`: every argument but 2 is
unattacked, so IN) and a random sparse one (N attacks). Gauntlet reads the ICCMA 2023 `.af` file; clingo reads
the same framework as facts (`arg(1..N).` and one `att(i,j).` per attack) and grounds the least model of
ASPARTIX's grounded encoding, a positive program, so no search. Each clingo run is its own process with a
time and memory limit; where it cannot finish, its figure is null and the row says why. Times are medians
of --repeat wall-clock runs, beside the median CPU seconds of the same processes (steadier on a shared machine). Agreement: the same number of IN arguments (and the same IN set below 10⁶).
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import typer

from gauntlet.ui.user_errors import user_errors

# ASPARTIX's grounded encoding (ground.dl): an argument is in when every attacker is defeated.
GROUNDED_ASP = "in(X) :- arg(X), defeated(Y) : att(Y,X).\ndefeated(X) :- in(Y), att(Y,X).\n#show in/1.\n"
_CLINGO_CHILD = """
import sys, clingo
ctl = clingo.Control(["--warn=none"])
ctl.load(sys.argv[1])
ctl.add("base", [], sys.argv[2])
ctl.ground([("base", [])])
found = []
ctl.solve(on_model=lambda m: found.append(sorted(s.arguments[0].number for s in m.symbols(shown=True))))
ins = found[-1] if found else []
print(len(ins), hash(tuple(ins)) if len(ins) < 1_000_000 else 0)
"""


def header_only(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.array([1]), np.array([2])


def random_sparse(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(n)
    return rng.integers(1, n + 1, n), rng.integers(1, n + 1, n)


FAMILIES = {"header_only": header_only, "random_d1": random_sparse}


def write_files(tmp: Path, name: str, n: int, src: np.ndarray, dst: np.ndarray) -> tuple[Path, Path]:
    af, lp = tmp / f"{name}.af", tmp / f"{name}.lp"
    pairs = np.stack((src, dst), axis=1)
    with af.open("w", encoding="ascii") as f:
        f.write(f"p af {n}\n")
        np.savetxt(f, pairs, fmt="%d")
    with lp.open("w", encoding="ascii") as f:
        f.write(f"arg(1..{n}).\n")
        np.savetxt(f, pairs, fmt="att(%d,%d).")
    return af, lp


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def gauntlet_run(path: Path) -> tuple[float, dict[str, Any]]:
    """Wall clock and the process's CPU seconds (a shared machine stretches the first, hardly the second)."""
    t0, cpu0 = time.perf_counter(), _children_cpu()
    out = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "af", str(path), "--json"], capture_output=True)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if out.returncode != 0:
        return wall, {"refused": out.stderr.decode(errors="replace").strip()[:300], "cpu_s": round(cpu, 3)}
    doc = json.loads(out.stdout)
    ins = [int(x) for x in doc["in"]] if len(doc["in"]) < 1_000_000 else []
    return wall, {"in": len(doc["in"]), "digest": hash(tuple(ins)) if ins else 0, "cpu_s": round(cpu, 3)}


def clingo_run(path: Path, timeout: float, memory_gb: float) -> tuple[float | None, dict[str, Any]]:
    def limit() -> None:
        cap = int(memory_gb * 1024**3)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    t0, cpu0 = time.perf_counter(), _children_cpu()
    try:
        out = subprocess.run([sys.executable, "-c", _CLINGO_CHILD, str(path), GROUNDED_ASP], capture_output=True,
                             timeout=timeout, preexec_fn=limit)
    except subprocess.TimeoutExpired:
        return None, {"failed": f"over {timeout:g} s"}
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        tail = out.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["exit " + str(out.returncode)]
        return None, {"failed": f"{tail[0][:200]} (memory cap {memory_gb:g} GB)"}
    count, digest = out.stdout.split()
    return wall, {"in": int(count), "digest": int(digest), "cpu_s": round(_children_cpu() - cpu0, 3)}


def run_row(tmp: Path, family: str, n: int, repeat: int, clingo_timeout: float, memory_gb: float,
            clingo_up_to: int) -> dict[str, Any]:
    src, dst = FAMILIES[family](n)
    af, lp = write_files(tmp, f"{family}_{n}", n, src, dst)
    ours = [gauntlet_run(af) for _ in range(repeat)]
    row: dict[str, Any] = {"case": family, "args": n, "attacks": int(src.size), "file_mb": round(
        af.stat().st_size / 1e6, 1), "gauntlet_s": round(statistics.median(w for w, _ in ours), 3),
        "gauntlet_runs_s": [round(w, 3) for w, _ in ours], "gauntlet": ours[-1][1],
        "gauntlet_cpu_s": round(statistics.median(r["cpu_s"] for _, r in ours), 3)}
    ref: list[tuple[float | None, dict[str, Any]]] = []
    if n <= clingo_up_to:
        for _ in range(repeat):
            ref.append(clingo_run(lp, clingo_timeout, memory_gb))
            if ref[-1][0] is None:
                break  # it could not: no point in timing the failure again
    times = [w for w, _ in ref if w is not None]
    row["clingo_s"] = round(statistics.median(times), 3) if times and len(times) == len(ref) else None
    row["clingo"] = ref[-1][1] if ref else {"failed": f"not run above {clingo_up_to} arguments (--clingo-up-to)"}
    row["clingo_cpu_s"] = (round(statistics.median(r["cpu_s"] for _, r in ref), 3)
                           if row["clingo_s"] is not None else None)
    row["ratio"] = round(row["gauntlet_s"] / row["clingo_s"], 3) if row["clingo_s"] else None
    if "in" in row["clingo"] and "in" in row["gauntlet"]:
        row["agree"] = row["clingo"]["in"] == row["gauntlet"]["in"] and row["clingo"]["digest"] == row[
            "gauntlet"]["digest"]
    else:
        row["agree"] = None
    return row


@user_errors
def af_large_bench(repeat: int = typer.Option(3, "--repeat", min=1, max=20, help="Runs to take the median of."),
                   sizes: str = typer.Option("100000,1000000,10000000,20000000", "--sizes",
                                             help="Comma-separated argument counts."),
                   clingo_timeout: float = typer.Option(120, "--clingo-timeout", min=1,
                                                        help="Seconds one clingo run may take."),
                   clingo_memory: float = typer.Option(14, "--clingo-memory", min=0.5,
                                                       help="GB of address space one clingo run may use."),
                   clingo_up_to: int = typer.Option(10_000_000, "--clingo-up-to", min=1,
                                                    help="Largest framework clingo is run on.")) -> None:
    """Grounded semantics end to end on large frameworks, Gauntlet beside clingo; one JSON object.

    Example: gauntlet bench af-large --repeat 3 --sizes 1000000,10000000
    """
    from gauntlet.errors import InputError
    try:
        counts = [int(x) for x in sizes.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"--sizes {sizes!r} is not a list of numbers", field="--sizes",
                         fix="write e.g. 100000,1000000") from None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for family in FAMILIES:
            for n in counts:
                print(f"bench af-large: {family} {n}", file=sys.stderr, flush=True)
                rows.append(run_row(Path(tmp), family, n, repeat, clingo_timeout, clingo_memory, clingo_up_to))
    doc = {"bench": "af-large", "repeat": repeat, "semantics": "grounded", "cases": rows,
           "disagreements": sum(r["agree"] is False for r in rows)}
    sys.stdout.write(json.dumps(doc, sort_keys=True) + "\n")
