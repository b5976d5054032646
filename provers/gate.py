"""The faithfulness gate's cheap, deterministic checks on one candidate formalisation, each recorded.

Order matters for cost: names and the copy guard need no solver; the symbol table needs only the claim's words
and the variables z3 saw in the formula; parse and vacuity come from one sandboxed z3 call (provers.gate_z3).
Only a candidate that passes all of them reaches the LLM checks (back-translation and judge, provers.pipeline).

Check names (stable: critiques and reviewers refer to them): `triage`, `symbols` (the formaliser's first stage
gave no valid answer), `names`, `copy_guard`, `parse`,
`symbol_table`, `vacuity`, `generality`, `unanimity`, `agreement`, `back_translation`, `witness` (the last four
are decided across candidates or by the model: provers.consensus, provers.pipeline, provers.witness).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

from gauntlet.provers import gate_z3
from gauntlet.provers.fewshot import EXAMPLES
from gauntlet.provers.formalise import Candidate
from gauntlet.provers.grammar import RESERVED, STOP_WORDS, claim_constants, claim_numbers

CHECKS = ("triage", "symbols", "names", "copy_guard", "parse", "symbol_table", "vacuity", "generality", "unanimity",
          "agreement", "back_translation", "witness")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,23}$")
_TOKEN = re.compile(r"[()]|[^\s()]+")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = STOP_WORDS


@dataclass
class Check:
    check: str
    passed: bool
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Screened:
    """A candidate after the deterministic checks: their records, and z3's facts when it got that far."""

    checks: list[Check] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> Check | None:
        return next((c for c in self.checks if not c.passed), None)

    @property
    def verdict(self) -> str:
        """z3's answer on hypotheses ∧ ¬conclusion, for a candidate that passed: proved / refuted / unknown."""
        return {"unsat": "proved", "sat": "refuted"}.get(self.facts.get("negation", ""), "unknown")


def stems(text: str) -> set[str]:
    """Content words, cut to five letters so "votes"/"voters"/"voting" and "probability"/"probabilities" meet."""
    return {w[:5] for w in _WORD.findall(text.lower()) if w not in _STOP}  # single letters too: "x", "n voters"


def check_names(c: Candidate) -> Check:
    names = [v.name for v in c.variables]
    bad = [n for n in names if not _NAME.match(n) or n.lower() in RESERVED]
    if bad:
        return Check("names", False, f"variable name {bad[0]!r} is not a plain identifier")
    if len(set(names)) != len(names):
        return Check("names", False, "a variable is declared twice")
    if not names:
        return Check("names", False, "no variables: a claim about quantities needs at least one")
    if not c.conclusion.strip():
        return Check("names", False, "empty conclusion")
    return Check("names", True)


def normal_form(c: Candidate | dict[str, Any]) -> tuple[str, str]:
    """(whole candidate, conclusion) with variables renamed by declaration order and sort, whitespace collapsed."""
    c = c if isinstance(c, Candidate) else Candidate.model_validate(c)
    rename = {v.name: f"v{i}:{v.sort}" for i, v in enumerate(c.variables)}
    whole = " | ".join(sorted(substitute(h, rename) for h in c.hypotheses)) + " |- " + substitute(c.conclusion, rename)
    return whole, substitute(c.conclusion, rename)


def substitute(term: str, rename: dict[str, str]) -> str:
    """`term` with its names replaced all at once (so swapping two names is safe), whitespace collapsed."""
    return " ".join(rename.get(t, t) for t in _TOKEN.findall(term))


_EXAMPLE_FORMS = [(ex.claim, normal_form(ex.answer)) for ex in EXAMPLES if ex.answer.get("formalisable")]


def copy_guard(c: Candidate, claim_text: str) -> Check:
    """Reject a candidate that is a worked example with the names changed (the weak model's favourite failure).
    A conclusion alone that has the example's form is a copy unless the claim licenses its constants: at least
    one of them is a number the claim states and none is foreign to it ("more than half of n" may rightly end in
    the voting example's `v >= n div 2 + 1`). The whole candidate copied is always a copy."""
    whole, concl = normal_form(c)
    for ex_claim, (ex_whole, ex_concl) in _EXAMPLE_FORMS:
        if claim_text.strip() == ex_claim:
            continue  # formalising the example's own sentence may rightly give the example's answer
        if whole == ex_whole or (concl == ex_concl and not licensed(c.conclusion, claim_text)):
            part = "the whole candidate" if whole == ex_whole else "its conclusion"
            return Check("copy_guard", False, f"{part} copies the worked example for {ex_claim[:60]!r}")
    return Check("copy_guard", True)


def licensed(term: str, claim_text: str) -> bool:
    """Every constant of `term` is one the claim allows (claim_constants) and one at least is a number it states
    beyond 0 and 1."""
    found = literals(term)
    allowed = claim_constants(claim_text)
    return found <= allowed and bool(found & (allowed - {Fraction(0), Fraction(1)} | claim_numbers(claim_text)))


def symbol_table(c: Candidate, claim_text: str, facts: dict[str, Any], quantities: list[str] | None) -> Check:
    """Every variable stands for words of the claim and is used; every quantity the author named has a variable."""
    claim = stems(claim_text)
    for v in c.variables:
        words = stems(v.meaning)
        if not words or 2 * len(words & claim) < len(words):
            return Check("symbol_table", False, f"variable {v.name} ({v.meaning!r}) is not a phrase of the claim")
    unused = sorted({v.name for v in c.variables} - set(facts.get("used_vars", [])))
    if unused:
        return Check("symbol_table", False, f"variable {unused[0]} is declared but the formula never uses it")
    meanings = [stems(v.meaning) for v in c.variables]
    for q in quantities or []:
        if stems(q) and not any(stems(q) & m for m in meanings):
            return Check("symbol_table", False, f"the claim's quantity {q!r} has no variable")
    missing = sorted(claim_numbers(claim_text) - formula_numbers(c), key=float)
    if missing:
        return Check("symbol_table", False, f"the claim's number {_show(missing[0])} is not in the formula")
    return Check("symbol_table", True)


_LITERAL = re.compile(r"#x[0-9a-fA-F]+|#b[01]+|\(_\s+bv(\d+)\s+\d+\)|(?<![\w.])\d+(?:\.\d+)?")
_RATIO = re.compile(r"\(\s*/\s+(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)\s*\)")


def literals(text: str) -> set[Fraction]:
    """The numeric literals of SMT-LIB text: decimals, #x, #b, (_ bvN w)."""
    out: set[Fraction] = set()
    for m in _LITERAL.finditer(text):
        lit = m.group(0)
        out.add(Fraction(int(lit[2:], 16 if lit[1] == "x" else 2)) if lit.startswith("#") else
                Fraction(m.group(1)) if m.group(1) else Fraction(lit))
    return out


def formula_numbers(c: Candidate) -> set[Fraction]:
    """Numeric literals of the formula (decimal, #x, #b, (_ bvN w), (/ a b)), the bit widths of its sorts, and a
    percentage's whole-number form, so `8-bit` and `30%` in the claim are found."""
    text = " ".join([*c.hypotheses, c.conclusion])
    out = literals(text)
    out |= {Fraction(a) / Fraction(b) for a, b in _RATIO.findall(text) if Fraction(b)}
    out |= {Fraction(w) for v in c.variables for w in re.findall(r"BitVec (\d+)", v.sort)}
    return out | {x * 100 for x in out if x < 1}


def _show(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{float(x):g}"


def vacuity(c: Candidate, facts: dict[str, Any]) -> Check:
    if facts.get("hypotheses_sat") != "sat":
        how = "contradict each other" if facts.get("hypotheses_sat") == "unsat" else "could not be shown satisfiable"
        return Check("vacuity", False, f"the hypotheses {how}: a proof from them would prove nothing")
    if not facts.get("conclusion_vars"):
        return Check("vacuity", False, "the conclusion mentions none of the variables")
    if c.hypotheses and facts.get("conclusion_valid_alone"):
        return Check("vacuity", False, "the conclusion holds without the hypotheses: it does not state the claim")
    if facts.get("negation") == "sat" and not facts.get("counterexample"):
        return Check("vacuity", False, "z3 found the negation satisfiable but gave no model to show")
    return Check("vacuity", True)


_UNIVERSAL = re.compile(r"\b(every|all|any|always|never|whenever|each|no)\b", re.IGNORECASE)


def generality(c: Candidate, claim_text: str, facts: dict[str, Any]) -> Check:
    """A verdict quantifies over the variables. A claim that says "for every …" may leave them free; otherwise a
    conclusion variable no hypothesis constrains is a quantity to measure (an accuracy, a likelihood), and
    "refuting" it for all values says nothing about the claim."""
    if _UNIVERSAL.search(claim_text):
        return Check("generality", True)
    free = sorted(set(facts.get("conclusion_vars", [])) - set(facts.get("hypothesis_vars", [])))
    if free:
        return Check("generality", False, f"the claim does not say 'for every', yet {free[0]} is constrained by no "
                                          "hypothesis: its value is a fact to measure, not a variable to quantify")
    return Check("generality", True)


def screen(c: Candidate, claim_text: str, *, quantities: list[str] | None = None,
           timeout_s: float = 5.0) -> Screened:
    """All deterministic checks, cheapest first; stops at the first failure (later checks would be noise)."""
    out = Screened()
    for check in (lambda: check_names(c), lambda: copy_guard(c, claim_text)):
        out.checks.append(check())
        if not out.passed:
            return out
    out.facts = gate_z3.facts(c.decls(), list(c.hypotheses), c.conclusion, timeout_s=timeout_s)
    if out.facts.get("error") or out.facts.get("parse_error"):
        where = out.facts.get("part", "")
        out.checks.append(Check("parse", False, (f"{where}: " if where else "") +
                                (out.facts.get("parse_error") or out.facts.get("error", ""))))
        return out
    out.checks.append(Check("parse", True))
    for check in (lambda: symbol_table(c, claim_text, out.facts, quantities), lambda: vacuity(c, out.facts),
                  lambda: generality(c, claim_text, out.facts)):
        out.checks.append(check())
        if not out.passed:
            return out
    return out


def check_lines(data: dict[str, Any]) -> list[str]:
    """A formal result's gate record as plain lines (exports, the dashboard inspector): each check, then each
    candidate that did not pass with its reason — why the machine gave, or withheld, a verdict."""
    lines = [f"{'pass' if c.get('passed') else 'FAIL'} {c.get('check', '?')}" + (f": {c['reason']}" if c.get(
        "reason") else "") for c in data.get("checks") or [] if isinstance(c, dict)]
    for cand in data.get("candidates") or []:
        if isinstance(cand, dict) and cand.get("status") != "passed":
            lines.append(f"candidate {cand.get('index', '?')} {cand.get('status', '?')}: {cand.get('reason', '')}")
    return lines
