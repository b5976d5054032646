"""The reference solver: clingo (Potassco) with ASPARTIX's guess-and-check encodings, for the cross-check in the
tests and `gauntlet bench af`. Gauntlet's own engine is sat_engine; this module only runs where clingo is
installed (the `test` extra) and is never on a verdict's path.

Encodings follow ASPARTIX (Egly, Gaggl, Woltran 2010; Dvořák et al. 2020): guess in/out per argument, forbid
conflicts, and check defence; preferred is complete plus domain heuristics that make clingo enumerate the
subset-maximal in-sets (`--heuristic=Domain --enum-mode=domRec`), ASPARTIX's encoding for clingo ≥ 4.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from gauntlet.errors import InputError

_GUESS = """
in(X) :- not out(X), arg(X).
out(X) :- not in(X), arg(X).
:- in(X), in(Y), att(X,Y).
defeated(X) :- in(Y), att(Y,X).
"""
_COMPLETE = _GUESS + """
not_defended(X) :- att(Y,X), not defeated(Y).
:- in(X), not_defended(X).
:- out(X), not defeated(X), not not_defended(X).
"""
ENCODINGS = {
    "complete": _COMPLETE,
    "stable": _GUESS + ":- out(X), not defeated(X).\n",
    "preferred": _COMPLETE + "#heuristic in(X) : arg(X). [1,true]\n",
    "grounded": _COMPLETE,  # the grounded extension is the least complete one: brave/cautious below
}


def _clingo():
    try:
        import clingo
    except ImportError:
        raise InputError("clingo is not installed", field="bench af",
                         fix="pip install 'gauntlet-workbench[test]' (clingo is a test and benchmark dependency)") \
            from None
    return clingo


def _quiet(code, message) -> None:
    """clingo's notes (e.g. "domRec ignored" when every argument is decided while grounding) are not errors."""


def facts(n: int, src: np.ndarray, dst: np.ndarray) -> str:
    args = "".join(f"arg({i}).\n" for i in range(n))
    return args + "".join(f"att({a},{b}).\n" for a, b in zip(src.tolist(), dst.tolist()))


def extensions(n: int, src: np.ndarray, dst: np.ndarray, semantics: str, limit: int = 0) -> list[list[int]]:
    """Extensions as sorted lists of positions (all of them when limit is 0)."""
    clingo = _clingo()
    if semantics == "grounded":
        return [_cautious(n, src, dst)]
    opts = [str(limit)]
    if semantics == "preferred":
        opts += ["--heuristic=Domain", "--enum-mode=domRec"]
    ctl = clingo.Control(opts + ["--warn=none"], logger=_quiet)
    ctl.add("base", [], facts(n, src, dst) + ENCODINGS[semantics] + "#show in/1.\n")
    ctl.ground([("base", [])])
    found: list[list[int]] = []
    ctl.solve(on_model=lambda m: found.append(sorted(s.arguments[0].number for s in m.symbols(shown=True))))
    return found


def _cautious(n: int, src: np.ndarray, dst: np.ndarray) -> list[int]:
    """The grounded extension: the intersection of all complete extensions (cautious consequences)."""
    clingo = _clingo()
    ctl = clingo.Control(["0", "--enum-mode=cautious", "--warn=none"], logger=_quiet)
    ctl.add("base", [], facts(n, src, dst) + _COMPLETE + "#show in/1.\n")
    ctl.ground([("base", [])])
    last: list[list[int]] = []
    ctl.solve(on_model=lambda m: last.append(sorted(s.arguments[0].number for s in m.symbols(shown=True))))
    return last[-1] if last else []


def accepted(n: int, src: np.ndarray, dst: np.ndarray, semantics: str, arg: int, mode: str) -> bool:
    """DC (mode 'credulous') or DS ('sceptical') acceptance of one argument, from the enumeration."""
    exts = extensions(n, src, dst, semantics)
    test: Iterable[bool] = (arg in e for e in exts)
    return any(test) if mode == "credulous" else all(test)
