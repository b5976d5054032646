"""Do the candidate formalisations of one claim agree? The `unanimity` and `agreement` checks.

A weak model that misreads a claim tends to misread it differently each time it is sampled; a strong model that
reads it right gives the same formula each time. So a verdict needs every one of the k candidates to survive the
deterministic checks (`unanimity`: one failure among k is a sign the claim is not being read reliably), and the
survivors to be the same formula (`agreement`: one verdict, and z3 finds no point where two of them differ once
their variables are lined up by sort and meaning). With `unanimous` off the older rule applies: `min_agree`
survivors of k, pairs with different variables compared by verdict only.
"""

from __future__ import annotations

from typing import Any

from gauntlet.provers import gate_z3
from gauntlet.provers.formalise import Candidate
from gauntlet.provers.gate import Check, Screened, stems, substitute


def unanimity(k: int, survivors: int, first_failure: str = "") -> Check:
    """All k candidates passed every deterministic check, and there were at least two of them to compare."""
    if k < 2:
        return Check("unanimity", False, "one candidate cannot be unanimous: a verdict needs k >= 2 independent "
                                         "formalisations")
    if survivors < k:
        why = f"; {first_failure}" if first_failure else ""
        return Check("unanimity", False, f"{survivors} of {k} candidates passed the checks; all {k} must{why}")
    return Check("unanimity", True, f"all {k} candidates passed every check")


def align(first: Candidate, other: Candidate) -> dict[str, str] | None:
    """Rename `other`'s variables to `first`'s: each to the unused variable of the same sort whose meaning shares
    the most content words with it (ties: declaration order). None when the sorts do not match one to one."""
    if sorted(v.sort for v in first.variables) != sorted(v.sort for v in other.variables):
        return None
    free = list(first.variables)
    rename: dict[str, str] = {}
    for v in other.variables:
        same_sort = [f for f in free if f.sort == v.sort]
        best = max(same_sort, key=lambda f: (len(stems(f.meaning) & stems(v.meaning)), -free.index(f)))
        rename[v.name] = best.name
        free.remove(best)
    return rename


def renamed(c: Candidate, rename: dict[str, str]) -> dict[str, Any]:
    """`c` as a plain formula with its variables renamed."""
    return {"decls": [(rename.get(n, n), s) for n, s in c.decls()],
            "hypotheses": [substitute(h, rename) for h in c.hypotheses], "conclusion": substitute(c.conclusion, rename)}


def plain(c: Candidate) -> dict[str, Any]:
    return {"decls": c.decls(), "hypotheses": list(c.hypotheses), "conclusion": c.conclusion}


def agreement(survivors: list[tuple[Candidate, Screened]], *, k: int, min_agree: int, unanimous: bool,
              timeout_s: float) -> Check:
    """One verdict among the survivors, and no pair that z3 shows (or, when unanimous, cannot show) to be the
    same formula."""
    need = k if unanimous else min_agree
    if len(survivors) < max(need, 1):
        return Check("agreement", False, f"{len(survivors)} of {k} candidates passed the checks; "
                                         f"{need} must agree")
    verdicts = sorted({sc.verdict for _, sc in survivors})
    if len(verdicts) > 1:
        return Check("agreement", False, "the surviving candidates disagree: " + " vs ".join(verdicts))
    first = survivors[0][0]
    compared = 0
    for i, (other, _) in enumerate(survivors[1:], 2):
        rename = align(first, other)
        if rename is None:
            if unanimous:
                return Check("agreement", False, f"candidate {i} uses different variables (sorts) from candidate 1: "
                                                 "z3 cannot show they state the same thing")
            continue  # the older rule: different names or sorts, the verdicts still agree
        same = gate_z3.equivalence(plain(first), renamed(other, rename), timeout_s=timeout_s)
        compared += 1
        if same == "no":
            return Check("agreement", False, f"candidates 1 and {i} are different formulas (z3 finds a point "
                                             "where they differ)")
        if same != "yes" and unanimous:
            return Check("agreement", False, f"z3 could not show candidates 1 and {i} equivalent in time")
    how = f"; {compared} pair(s) z3-equivalent" if compared else ""
    return Check("agreement", True, f"{len(survivors)} candidates agree: {verdicts[0]}{how}")
