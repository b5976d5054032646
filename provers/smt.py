"""The z3 backend: SMT-LIB 2 text that asserts the *negation* of a claim → proved / refuted / unknown.

z3 runs in a child process (`python -m provers.smt`) under the sandbox's CPU, memory and wall limits: z3's own
timeout does not cover parsing or every tactic, and a crash or a runaway allocation in z3 must not take the
debate with it. The parent screens the text first (provers.screen) and never parses it itself.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from gauntlet.provers.claim import Verdict, error, unknown
from gauntlet.provers.sandbox import Limits, run_limited
from gauntlet.provers.screen import screen_smtlib

PROVER = "z3"
_RESULT = "@@gauntlet-z3@@"  # marks our result line, so nothing z3 prints can pass for it
_STARTUP_S = 3.0  # interpreter + z3 import before the solver's own clock starts
# z3's model may contain interpretations it made up for partial operators (division by zero …).
_INTERNAL = frozenset({"/0", "div0", "mod0", "rem0", "/", "div", "mod", "rem"})


@lru_cache(maxsize=1)
def version() -> str:
    import z3
    return z3.get_version_string()


def check(text: str, timeout_s: float = 5.0, *, memory_mb: int = 2048) -> Verdict:
    """Decide the SMT-LIB `text` (which asserts the claim's negation): unsat → proved, sat → refuted."""
    t0 = time.perf_counter()
    screening = screen_smtlib(text)
    if not screening.ok:
        return error(PROVER, screening.summary())
    limits = Limits(wall_s=timeout_s + _STARTUP_S, cpu_s=int(timeout_s) + 3, memory_mb=memory_mb)
    request = json.dumps({"text": text, "timeout_ms": max(1, int(timeout_s * 1000))})
    # An empty scratch directory as cwd: relative paths z3 might be talked into writing land nowhere useful.
    with tempfile.TemporaryDirectory(prefix="gauntlet-z3-") as scratch:
        out = run_limited([sys.executable, "-m", "gauntlet.provers.smt"], limits, stdin=request, cwd=Path(scratch),
                          env=_child_env())
    elapsed = time.perf_counter() - t0
    if out.timed_out:
        return unknown(PROVER, f"timeout: no answer within {timeout_s:g} s", elapsed)
    line = next((ln for ln in reversed(out.stdout.splitlines()) if ln.startswith(_RESULT)), None)
    if line is None:
        if out.killed_by_limit:
            return unknown(PROVER, f"z3 stopped by a resource limit (signal {-out.returncode}; CPU "
                                   f"{limits.cpu()} s, memory {memory_mb} MB)", elapsed)
        tail = (out.stderr.strip().splitlines() or ["no output"])[-1][:300]
        return error(PROVER, f"z3 worker failed: {tail}").with_(elapsed_s=elapsed)
    doc = json.loads(line[len(_RESULT):])
    return Verdict(doc["verdict"], PROVER, doc["detail"], doc.get("counterexample"), elapsed_s=elapsed,
                   extra={"z3_version": doc.get("version", "")})


def _child_env() -> dict[str, str]:
    import os
    keep = ("PATH", "PYTHONPATH", "VIRTUAL_ENV", "LANG", "LC_ALL", "HOME", "SYSTEMROOT")
    # The child imports gauntlet.provers.smt from the installed package (an editable install maps the folders).
    return {k: v for k, v in os.environ.items() if k in keep}


# --- the child process ----------------------------------------------------------------------------------
def _value(v: Any) -> Any:
    """A model value as JSON: exact where JSON can be exact, else z3's own rendering."""
    import z3
    if z3.is_true(v):
        return True
    if z3.is_false(v):
        return False
    if z3.is_int_value(v) or z3.is_bv_value(v):
        return v.as_long()
    if z3.is_rational_value(v):
        num, den = v.numerator_as_long(), v.denominator_as_long()
        return num if den == 1 else f"{num}/{den}"
    if z3.is_algebraic_value(v):
        return v.as_decimal(12)  # z3 marks the approximation with a trailing '?'
    return str(v)[:500]


def _readable(name: str, v: Any, value: Any) -> str:
    import z3
    if z3.is_bv_value(v):
        bits = v.size()
        signed = value - (1 << bits) if value >= 1 << (bits - 1) else value
        return f"{name} = {value} (#x{value:0{(bits + 3) // 4}x}, signed {signed}, {bits}-bit)"
    return f"{name} = {value}"


def decide(text: str, timeout_ms: int) -> dict[str, Any]:
    """Parse and solve in this process. Only the sandboxed child calls this on untrusted text."""
    import z3
    try:
        assertions = z3.parse_smt2_string(text)
    except z3.Z3Exception as exc:
        msg = exc.value.decode() if isinstance(exc.value, bytes) else str(exc.value)
        return {"verdict": "error", "detail": "SMT-LIB does not parse: " + " ".join(msg.split())[:400]}
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    solver.add(assertions)
    result = solver.check()
    if result == z3.unsat:
        return {"verdict": "proved", "detail": "unsat: the negation has no model, so the claim holds"}
    if result == z3.unknown:
        reason = solver.reason_unknown()
        if reason in ("timeout", "canceled"):
            return {"verdict": "unknown", "detail": f"timeout: no answer within {timeout_ms / 1000:g} s"}
        return {"verdict": "unknown", "detail": f"z3 gave up: {reason}"}
    model = solver.model()
    counterexample, lines = {}, []
    for d in sorted(model.decls(), key=lambda d: d.name()):
        if d.name() in _INTERNAL:
            continue
        v = model[d]
        value = _value(v) if d.arity() == 0 else str(v)[:500]
        counterexample[d.name()] = value
        lines.append(_readable(d.name(), v, value) if d.arity() == 0 else f"{d.name()} = {value}")
    detail = "sat: counterexample " + (", ".join(lines) if lines else "(any values)")
    return {"verdict": "refuted", "detail": detail, "counterexample": counterexample}


def _main() -> None:
    import z3
    request = json.loads(sys.stdin.read())
    doc = decide(request["text"], int(request["timeout_ms"]))
    doc["version"] = z3.get_version_string()
    sys.stdout.write("\n" + _RESULT + json.dumps(doc, sort_keys=True) + "\n")


if __name__ == "__main__":
    _main()
