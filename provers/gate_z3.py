"""z3 facts about one structured candidate (variables, hypotheses, conclusion), computed in a sandboxed child.

The gate needs more than a verdict: does each part parse (and if not, z3's message, fed back for repair); are
the hypotheses satisfiable (else a proof is vacuous); is the conclusion valid on its own; which variables does
each part mention; and the verdict of hypotheses ∧ ¬conclusion with its model. One child process answers all of
it, under the same limits as `provers.smt` (the parent never parses untrusted text itself).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from gauntlet.provers.sandbox import Limits, run_limited
from gauntlet.provers.screen import screen_smtlib
from gauntlet.provers.smt import _child_env, _readable, _value

_RESULT = "@@gauntlet-gate@@"
_STARTUP_S = 3.0


def script(decls: list[tuple[str, str]], hypotheses: list[str], conclusion: str) -> str:
    """The SMT-LIB 2 text a reviewer (or `gauntlet prove`) can run: it asserts the NEGATION of the claim."""
    lines = [f"(declare-const {n} {s})" for n, s in decls]
    lines += [f"(assert {h})" for h in hypotheses]
    lines += [f"(assert (not {conclusion}))", "(check-sat)"]
    return "\n".join(lines)


def facts(decls: list[tuple[str, str]], hypotheses: list[str], conclusion: str, *,
          timeout_s: float = 5.0, memory_mb: int = 2048) -> dict[str, Any]:
    """Screen, then ask the child. Returns {"error": …} when the text is refused or z3 fails outright."""
    screening = screen_smtlib(script(decls, hypotheses, conclusion))
    if not screening.ok:
        return {"parse_error": "refused by the screen: " + screening.summary(), "part": "screen"}
    request = json.dumps({"decls": decls, "hypotheses": hypotheses, "conclusion": conclusion,
                          "timeout_ms": max(1, int(timeout_s * 1000))})
    # Up to four solver calls share the budget, each with its own z3 timeout.
    limits = Limits(wall_s=4 * timeout_s + _STARTUP_S, cpu_s=int(4 * timeout_s) + 3, memory_mb=memory_mb)
    doc, why = _ask_child(request, limits)
    return doc if doc is not None else {"error": f"z3 worker failed: {why}"}


def _ask_child(request: str, limits: Limits) -> tuple[dict[str, Any] | None, str]:
    """Run this module as a sandboxed child on `request`; its result document, or None and why not."""
    with tempfile.TemporaryDirectory(prefix="gauntlet-gate-") as scratch:
        out = run_limited([sys.executable, "-m", "gauntlet.provers.gate_z3"], limits, stdin=request,
                          cwd=Path(scratch), env=_child_env())
    line = next((ln for ln in reversed(out.stdout.splitlines()) if ln.startswith(_RESULT)), None)
    if line is None:
        return None, "timeout" if out.timed_out else (out.stderr.strip().splitlines() or ["no output"])[-1][:200]
    return json.loads(line[len(_RESULT):]), ""


# --- the child process ----------------------------------------------------------------------------------
def _parse(z3: Any, head: str, term: str) -> Any:
    parsed = z3.parse_smt2_string(head + f"(assert {term})")
    if len(parsed) != 1:
        raise ValueError("the term must be exactly one Boolean expression")
    expr = parsed[0]
    if not z3.is_bool(expr):
        raise z3.Z3Exception("not a Boolean term")
    return expr


def _mentions(z3: Any, expr: Any, names: set[str]) -> set[str]:
    found: set[str] = set()
    todo, seen = [expr], set()
    while todo:
        e = todo.pop()
        if e.get_id() in seen:
            continue
        seen.add(e.get_id())
        if z3.is_const(e) and e.decl().name() in names and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            found.add(e.decl().name())
        todo.extend(e.children())
    return found


def _solve(z3: Any, exprs: list[Any], timeout_ms: int) -> tuple[str, Any]:
    s = z3.Solver()
    s.set("timeout", timeout_ms)
    s.add(exprs)
    r = s.check()
    return ("sat", s.model()) if r == z3.sat else ("unsat" if r == z3.unsat else "unknown", None)


def decide(req: dict[str, Any]) -> dict[str, Any]:
    import z3
    decls = [(str(n), str(s)) for n, s in req["decls"]]
    names = {n for n, _ in decls}
    head = "".join(f"(declare-const {n} {s})" for n, s in decls)
    parts = [(f"hypothesis {i + 1}", h) for i, h in enumerate(req["hypotheses"])] + [("conclusion",
                                                                                     req["conclusion"])]
    exprs = []
    for label, term in parts:
        try:
            exprs.append(_parse(z3, head, term))
        except (z3.Z3Exception, ValueError) as exc:  # ValueError: the term held zero or several assertions
            msg = exc.value.decode() if isinstance(getattr(exc, "value", None), bytes) else str(
                getattr(exc, "value", exc))
            return {"parse_error": " ".join(msg.split())[:300] or "does not parse", "part": label}
    hyps, concl = exprs[:-1], exprs[-1]
    t = int(req["timeout_ms"])
    out: dict[str, Any] = {"parse_error": None,
                           "conclusion_vars": sorted(_mentions(z3, concl, names)),
                           "used_vars": sorted(set().union(*(_mentions(z3, e, names) for e in exprs))),
                           "hypothesis_vars": sorted(set().union(set(), *(_mentions(z3, e, names)
                                                                         for e in exprs[:-1])))}
    out["hypotheses_sat"] = _solve(z3, hyps, t)[0] if hyps else "sat"
    out["conclusion_valid_alone"] = _solve(z3, [z3.Not(concl)], t)[0] == "unsat"
    status, model = _solve(z3, hyps + [z3.Not(concl)], t)
    out["negation"] = status
    if model is not None:
        out["counterexample"], out["counterexample_text"] = _assignment(z3, model, names)
        # For the witness check's control: a point meeting the hypotheses where the conclusion DOES hold.
        _, holding = _solve(z3, hyps + [concl], t)
        out["example"] = _assignment(z3, holding, names)[0] if holding is not None else None
    return out


def _assignment(z3: Any, model: Any, names: set[str]) -> tuple[dict[str, Any], str]:
    values, lines = {}, []
    for d in sorted(model.decls(), key=lambda d: d.name()):
        if d.name() in names and d.arity() == 0:
            values[d.name()] = _value(model[d])
            lines.append(_readable(d.name(), model[d], values[d.name()]))
    return values, ", ".join(lines)


def equivalent(a: dict[str, Any], b: dict[str, Any], timeout_ms: int) -> str:
    """'yes' / 'no' / 'unknown': do a and b assume the same (their hypotheses are equivalent) and conclude the same
    (their conclusions are equivalent), over the same variables? Part by part, because whole implications would
    make any two proved candidates "equivalent" (both are valid) however different their statements."""
    import z3

    def parts(c: dict[str, Any]) -> tuple[Any, Any]:
        head = "".join(f"(declare-const {n} {s})" for n, s in c["decls"])
        return z3.And([_parse(z3, head, h) for h in c["hypotheses"]]), _parse(z3, head, c["conclusion"])
    (ha, ca), (hb, cb) = parts(a), parts(b)
    answers = [_solve(z3, [x != y], timeout_ms)[0] for x, y in ((ha, hb), (ca, cb))]
    if "sat" in answers:
        return "no"
    return "yes" if answers == ["unsat", "unsat"] else "unknown"


def equivalence(a: dict[str, Any], b: dict[str, Any], *, timeout_s: float = 5.0) -> str:
    """`equivalent` in the sandboxed child; both candidates were screened when their facts were computed."""
    request = json.dumps({"equivalence": [a, b], "timeout_ms": max(1, int(timeout_s * 1000))})
    doc, _ = _ask_child(request, Limits(wall_s=2 * timeout_s + _STARTUP_S))
    return doc["equivalent"] if doc else "unknown"


def hypotheses_sat(text: str, *, timeout_s: float = 5.0) -> str:
    """For a whole SMT-LIB script (an author's own formalisation): are all assertions but the last satisfiable?
    'sat' / 'unsat' / 'unknown'. The last assertion is taken as the negated conclusion."""
    if not screen_smtlib(text).ok:
        return "unknown"
    request = json.dumps({"script": text, "timeout_ms": max(1, int(timeout_s * 1000))})
    doc, _ = _ask_child(request, Limits(wall_s=timeout_s + _STARTUP_S))
    return doc["hypotheses_sat"] if doc else "unknown"


def _script_hypotheses(text: str, timeout_ms: int) -> str:
    import z3
    try:
        assertions = list(z3.parse_smt2_string(text))
    except z3.Z3Exception:
        return "unknown"
    return _solve(z3, assertions[:-1], timeout_ms)[0] if len(assertions) > 1 else "sat"


def _main() -> None:
    req = json.loads(sys.stdin.read())
    if "script" in req:
        doc: dict[str, Any] = {"hypotheses_sat": _script_hypotheses(req["script"], int(req["timeout_ms"]))}
    elif "equivalence" in req:
        a, b = req["equivalence"]
        doc = {"equivalent": equivalent(a, b, int(req["timeout_ms"]))}
    else:
        doc = decide(req)
    sys.stdout.write("\n" + _RESULT + json.dumps(doc, sort_keys=True) + "\n")


if __name__ == "__main__":
    _main()
