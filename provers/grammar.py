"""Grammars built for one claim, so a formaliser cannot write a formula that does not parse or names what was
not declared.

`formula_grammar(symbols)` is a GBNF grammar (llama.cpp; vLLM and llama.cpp's server take it as `grammar`) for the
formaliser's second stage: `Assume:` lines and one `Show:` line, each a Boolean SMT-LIB term of the subset the
gate accepts, whose only identifiers are the symbols the first stage declared. Sorts are kept apart where a
context-free grammar can: Boolean terms vs numeric terms vs bit-vector terms of each declared width, `div`/`mod`
only on integer terms, bit-vector literals of exactly the width they stand in. Nesting is bounded (DEPTH levels),
so every sentence of the grammar is finite and short. Quantifiers are left out: the gate already reads every
free variable as universally quantified (it refutes by a model of hypotheses ∧ ¬conclusion).

`meaning_pattern(claim)` is the regular expression (JSON-schema `pattern`) a first-stage variable's `meaning`
must match: words of the claim (or words sharing their five-letter stem) and a few connectives, so a symbol can
only stand for the claim's own words.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Iterable

DEPTH = 5  # operator levels below a top-level Boolean term; level DEPTH holds atoms only
MAX_HYPOTHESES = 4
MAX_VARIABLES = 6  # three scores each for two models is six
NUMERIC = ("Int", "Real")
ARITH_CMP = ("<=", "<", ">=", ">", "=")
BV_CMP = ("bvule", "bvult", "bvuge", "bvugt", "bvsle", "bvslt", "bvsge", "bvsgt", "=")
BV_BINARY = ("bvadd", "bvsub", "bvmul", "bvudiv", "bvurem", "bvand", "bvor", "bvxor", "bvshl", "bvlshr")
BV_UNARY = ("bvneg", "bvnot")
# The operators and words a formula may contain besides the declared symbols (tests check sampled formulas
# against this list).
# SMT-LIB words that are not variables (a declared name may not shadow them).
RESERVED = frozenset("""and or not xor ite true false let forall exists distinct div mod abs to_real to_int is_int
    declare const assert check sat push pop pi e euler""".split())
KEYWORDS = frozenset({"and", "or", "not", "=>", "ite", "+", "-", "*", "/", "div", "mod", "abs", "_", *ARITH_CMP,
                      *BV_CMP, *BV_BINARY, *BV_UNARY})


def bv_width(sort: str) -> int | None:
    m = re.fullmatch(r"\(_ BitVec (\d+)\)", sort.strip())
    return int(m.group(1)) if m else None


def _lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _alts(parts: Iterable[str]) -> str:
    return " | ".join(parts)


def _call(op: str, *args: str) -> str:
    """`(op a b)` as a GBNF sequence: single spaces, no line breaks."""
    return " ".join([_lit(f"({op} ")] + [f'{a} " "' for a in args[:-1]] + [args[-1], _lit(")")])


def _variadic(op: str, arg: str, least: int, most: int) -> str:
    """`(op a1 … an)` with least ≤ n ≤ most."""
    optional = "".join(f' (" " {arg}' for _ in range(most - least)) + ")?" * (most - least)
    return " ".join([_lit(f"({op} ")] + [f'{arg} " "' for _ in range(least - 1)] + [arg]) + optional + ' ")"'


def formula_grammar(symbols: Iterable[tuple[str, str]], *, draft_chars: int = 0) -> str:
    """GBNF for the second stage of one claim. `symbols`: (name, sort) pairs, names already plain identifiers.

    Output shape: an optional `Plan:` line of free text (at most `draft_chars` characters; 0 = none), up to
    MAX_HYPOTHESES `Assume: <term>` lines, then `Show: <term>`."""
    by_sort: dict[str, list[str]] = {}
    for name, sort in symbols:
        by_sort.setdefault(sort, []).append(name)
    has_int, has_real = "Int" in by_sort, "Real" in by_sort
    widths = sorted({w for s in by_sort if (w := bv_width(s))})
    rules: dict[str, str] = {}

    def var(sort: str) -> list[str]:
        return [_lit(n) for n in sorted(by_sort.get(sort, []))]

    rules["nat"] = '"0" | [1-9] ' + " ".join(["[0-9]?"] * 5)
    rules["dec"] = 'nat "." [0-9] ' + " ".join(["[0-9]?"] * 3)
    for w in widths:
        rules[f"hex{w}"] = _lit("#x") + " " + " ".join(["[0-9a-f]"] * (w // 4))
        rules[f"upto{w}"] = upto((1 << w) - 1)  # z3 would silently wrap (_ bv300 8) to 44
    for d in range(DEPTH, -1, -1):
        leaf, nxt = d == DEPTH, d + 1
        # integer terms: Int symbols, numerals, and the integer operators
        if has_int:
            alts = var("Int") + ["nat"]
            if not leaf:
                i = f"int{nxt}"
                alts += [_variadic("+", i, 2, 4), _variadic("-", i, 1, 2), _variadic("*", i, 2, 3),
                         _call("div", i, i), _call("mod", i, i), _call("abs", i), _call("ite", f"bool{nxt}", i, i)]
            rules[f"int{d}"] = _alts(alts)
        # real terms: Real symbols, decimals; integer terms mix in (z3 reads an Int among Reals as a real)
        if has_real:
            alts = var("Real") + ["dec"] + ([] if has_int else ["nat"])  # with Int, a numeral comes by int
            if not leaf:
                n = f"num{nxt}"
                alts += [_variadic("+", n, 2, 4), _variadic("-", n, 1, 2), _variadic("*", n, 2, 3),
                         _call("/", n, n), _call("abs", n), _call("ite", f"bool{nxt}", f"real{nxt}", f"real{nxt}")]
            rules[f"real{d}"] = _alts(alts)
            rules[f"num{d}"] = f"real{d} | int{d}" if has_int else f"real{d}"
        elif has_int:
            rules[f"num{d}"] = f"int{d}"
        for w in widths:
            alts = var(f"(_ BitVec {w})") + [f"hex{w}", _lit("(_ bv") + f' upto{w} {_lit(f" {w})")}']
            if not leaf:
                b = f"bv{w}x{nxt}"
                alts += [_call(op, b, b) for op in BV_BINARY] + [_call(op, b) for op in BV_UNARY]
                alts.append(_call("ite", f"bool{nxt}", b, b))
            rules[f"bv{w}x{d}"] = _alts(alts)
        # Boolean terms: Bool symbols, comparisons of same-sort terms, connectives
        alts = var("Bool")
        if not leaf:
            b = f"bool{nxt}"
            if has_int or has_real:
                alts += [_call(op, f"num{nxt}", f"num{nxt}") for op in ARITH_CMP]
            for w in widths:
                alts += [_call(op, f"bv{w}x{nxt}", f"bv{w}x{nxt}") for op in BV_CMP]
            if nxt < DEPTH or var("Bool"):  # a connective needs Boolean terms one level down
                alts += [_variadic("and", b, 2, 4), _variadic("or", b, 2, 4), _call("not", b), _call("=>", b, b)]
        if alts:
            rules[f"bool{d}"] = _alts(alts)
    head = ""
    if draft_chars > 0:
        rules["draft"] = " ".join(['"Plan: " [^\\n]'] + ["[^\\n]?"] * (draft_chars - 1)) + ' "\\n"'
        head = "draft "
    rules["hyp"] = '"Assume: " bool0 "\\n"'
    rules["root"] = head + "".join("hyp? " for _ in range(MAX_HYPOTHESES)) + '"Show: " bool0'
    rules = _prune(rules)
    order = ["root", "hyp"] + [r for r in rules if r not in ("root", "hyp")]
    return "\n".join(f"{name} ::= {rules[name]}" for name in order) + "\n"


def upto(n: int) -> str:
    """GBNF for the decimal numerals 0..n without leading zeros."""
    digits = str(n)
    alts = ['"0"'] + [" ".join(["[1-9]"] + ["[0-9]"] * (k - 1)) for k in range(1, len(digits))]
    for i, d in enumerate(digits):  # same prefix as n up to i, a smaller digit at i, then anything
        low = 1 if i == 0 else 0
        if int(d) > low:
            alts.append(" ".join([_lit(digits[:i])] * (i > 0) + [f"[{low}-{int(d) - 1}]"] + ["[0-9]"] * (len(digits) - i - 1)))
    alts.append(_lit(digits) if n > 0 else '"0"')
    return _alts(dict.fromkeys(alts))


_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"|\[[^\]]*\]')
_RULE_REF = re.compile(r"[a-z][a-z0-9]*")


def _refs(alternative: str) -> set[str]:
    return set(_RULE_REF.findall(_QUOTED.sub(" ", alternative)))


def _prune(rules: dict[str, str]) -> dict[str, str]:
    """Drop every alternative that refers to a rule with no alternatives left (an `ite` over Booleans when the
    level below has none, say), until nothing changes: each remaining rule derives at least one string."""
    alts = {name: body.split(" | ") for name, body in rules.items()}
    changed = True
    while changed:
        changed = False
        for name in list(alts):
            keep = [a for a in alts[name] if _refs(a) <= set(alts)]
            if len(keep) != len(alts[name]):
                alts[name], changed = keep, True
            if not keep:
                del alts[name]
                changed = True
    if "root" not in alts:
        raise ValueError("no Boolean term can be built from these symbols")
    return {name: " | ".join(a) for name, a in alts.items()}


# --- the first stage: what a symbol may stand for ------------------------------------------------------------
CONNECTIVES = ("the", "a", "an", "of", "for", "in", "on", "to", "by", "with", "and", "or", "first", "second",
               "third", "other", "each", "one", "two", "number", "value", "that", "its", "per", "all")
_CLAIM_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def claim_words(claim: str) -> list[str]:
    """The claim's words, lower-cased, in order of first appearance (hyphenated words kept whole)."""
    seen: dict[str, None] = {}
    for w in _CLAIM_WORD.findall(claim.lower()):
        seen.setdefault(w, None)
    return list(seen)


def meaning_pattern(claim: str, *, max_words: int = 10) -> str:
    """A regular expression for a meaning made of the claim's words: each word exactly, or for a word of five or
    more letters its five-letter stem with any ending ("catch" → "catches"), plus CONNECTIVES; 1..max_words
    words separated by single spaces."""
    alts: dict[str, None] = {}
    for w in claim_words(claim) + list(CONNECTIVES):
        alts.setdefault(f"{w[:5]}[a-z]*" if len(w) >= 5 and w.isalpha() else re.escape(w), None)
    word = "(" + "|".join(alts) + ")"
    return f"^{word}( {word}){{0,{max_words - 1}}}$"


_CLAIM_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(\s*%)?(?![\w.]*\d)")


def claim_numbers(text: str) -> set[Fraction]:
    """The numbers a claim states (30% counts as 0.3 or 30): each must reappear in a faithful formula."""
    out: set[Fraction] = set()
    for m in _CLAIM_NUMBER.finditer(text):
        value = Fraction(m.group(1))
        out.add(value / 100 if m.group(2) else value)
    return out


def numbers_line(text: str) -> str:
    """The claim's numbers as written, for the formula prompt ("" when it states none)."""
    found = list(dict.fromkeys(m.group(0).replace(" ", "") for m in _CLAIM_NUMBER.finditer(text)
                               if not re.match(r"-?\s?bits?\b", text[m.end():])))  # 8-bit is the sort's width
    return "Numbers the formula must use: " + ", ".join(found) if found else ""
