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


def formula_grammar(symbols: Iterable[tuple[str, str]], *, draft_chars: int = 0,
                    numbers: Iterable[Fraction] | None = None) -> str:
    """GBNF for the second stage of one claim. `symbols`: (name, sort) pairs, names already plain identifiers.
    `numbers`: the only constants a formula may write (claim_constants: the claim's numbers, 0 and 1); None
    lets it write any numeral.

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

    allowed = None if numbers is None else sorted(set(numbers) | {Fraction(0), Fraction(1)})
    if allowed is None:
        rules["nat"] = '"0" | [1-9] ' + " ".join(["[0-9]?"] * 5)
        rules["dec"] = 'nat "." [0-9] ' + " ".join(["[0-9]?"] * 3)
    else:  # a constant the claim does not state cannot be written, nor a stated one replaced by another
        whole = [int(x) for x in allowed if x >= 0 and x.denominator == 1]
        rules["nat"] = _alts(_lit(str(i)) for i in whole)
        rules["dec"] = _alts(dict.fromkeys(_lit(d) for x in allowed if x >= 0 and (d := decimal(x))))
    for w in widths:
        if allowed is None:
            rules[f"hex{w}"] = _lit("#x") + " " + " ".join(["[0-9a-f]"] * (w // 4))
            rules[f"upto{w}"] = upto((1 << w) - 1)  # z3 would silently wrap (_ bv300 8) to 44
        else:
            fits = [i for i in whole if i < 1 << w]
            rules[f"hex{w}"] = _alts(_lit(f"#x{i:0{w // 4}x}") for i in fits)
            rules[f"upto{w}"] = _alts(_lit(str(i)) for i in fits)
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


def decimal(x: Fraction) -> str | None:
    """`x` as an SMT-LIB decimal (`0.25`, `3.0`), or None when it has no finite one (1/3)."""
    d = x.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d != 1:
        return None
    places = next(n for n in range(0, 40) if (x * 10 ** n).denominator == 1)
    text = f"{x.numerator * 10 ** places // x.denominator:0{places + 1}d}"
    return f"{text[:-places]}.{text[-places:]}" if places else f"{text}.0"


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
# Words that name no quantity: a meaning made only of these maps to nothing in the claim (provers.gate's symbol
# table ignores them when it compares a meaning with the claim).
STOP_WORDS = frozenset("""the a an of to in on for and or is are be at by with from that this than then its it
    their each every any all as not no number value amount some there which who whose when if one two""".split())
CONNECTIVES = ("the", "a", "an", "of", "for", "in", "on", "to", "by", "with", "and", "or", "first", "second",
               "third", "other", "each", "one", "two", "number", "value", "that", "its", "per", "all")
_CLAIM_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def claim_words(claim: str) -> list[str]:
    """The claim's words, lower-cased, in order of first appearance (hyphenated words kept whole)."""
    seen: dict[str, None] = {}
    for w in _CLAIM_WORD.findall(claim.lower()):
        seen.setdefault(w, None)
    return list(seen)


def _word_alt(w: str) -> str:
    """A claim word, or for a word of five letters or more any word on its five-letter stem, unless that would
    let a stop word through ("values" → "value" names nothing): then the word itself."""
    if len(w) >= 5 and w.isalpha() and not any(s.startswith(w[:5]) for s in STOP_WORDS):
        return f"{w[:5]}[a-z]*"
    return re.escape(w)


def meaning_pattern(claim: str, *, tail: int = 8) -> str:
    """A regular expression for a meaning made of the claim's words: each word exactly, or for a word of five or
    more letters its five-letter stem with any ending ("catch" → "catches"), plus CONNECTIVES, separated by single
    spaces. It is the symbol table's rule written as a pattern: at least one content word of the claim, and at
    most one connective that is a content word itself ("first", "other"), so a meaning the pattern lets through
    has at least half its content words from the claim ("the first value" cannot be written; "the first counter"
    can). At most 3 + 1 + 2 + 1 + `tail` words: a meaning is a phrase, not a run-on."""
    content = [w for w in claim_words(claim) if w not in STOP_WORDS]
    stop = [w for w in [*claim_words(claim), *CONNECTIVES] if w in STOP_WORDS]
    extra = [w for w in CONNECTIVES if w not in STOP_WORDS and w not in content]
    c = "(" + "|".join(dict.fromkeys(map(_word_alt, content or ["x"]))) + ")"
    s = "(" + "|".join(dict.fromkeys(map(re.escape, stop))) + ")"
    n = "(" + "|".join(map(re.escape, extra)) + ")"
    def rest(most: int) -> str:
        return f"( ({c}|{s})){{0,{most}}}"
    first = (f"({n} ({s} ){{0,2}}{c}{rest(tail)}|{c}{rest(3)} {n}{rest(tail - 3)}|{c}{rest(tail)})" if extra
             else f"{c}{rest(tail)}")
    return f"^({s} ){{0,3}}{first}$"


# A number the claim states; an exponent (`p^2`) is not one: a formula writes it as a product, `(* p p)`.
_CLAIM_NUMBER = re.compile(r"(?<![\w.^])(\d+(?:\.\d+)?)(\s*%)?(?![\w.]*\d)")
_EXPONENT = re.compile(r"\^(\d+)")


def claim_numbers(text: str) -> set[Fraction]:
    """The numbers a claim states (30% counts as 0.3 or 30): each must reappear in a faithful formula."""
    out: set[Fraction] = set()
    for m in _CLAIM_NUMBER.finditer(text):
        value = Fraction(m.group(1))
        out.add(value / 100 if m.group(2) else value)
    return out



# Number words and what they let a formula write: "two thirds" → 2, 3; "more than half" → 2 (or 0.5).
NUMBER_WORDS = {"zero": (0,), "one": (1,), "two": (2,), "three": (3,), "four": (4,), "five": (5,), "six": (6,),
                "seven": (7,), "eight": (8,), "nine": (9,), "ten": (10,), "eleven": (11,), "twelve": (12,),
                "hundred": (100,), "thousand": (1000,), "half": (2, Fraction(1, 2)), "halves": (2, Fraction(1, 2)),
                "twice": (2,), "double": (2,), "doubled": (2,), "doubles": (2,), "squared": (2,), "majority": (2,),
                "third": (3,), "thirds": (3,), "triple": (3,), "quarter": (4, Fraction(1, 4)),
                "quarters": (4, Fraction(1, 4)), "percent": (100, Fraction(1, 100))}
_BIT_WIDTH = re.compile(r"(\d+)\s*-?\s*bits?\b")


def claim_constants(text: str) -> set[Fraction]:
    """The constants a faithful formula of this claim may write: the numbers it states (30% as 0.3 and 30), its
    number words, for an n-bit claim the bounds 2^n - 1, 2^n, 2^(n-1) - 1 and 2^(n-1), and 0 and 1."""
    out = {Fraction(0), Fraction(1)}
    for m in _CLAIM_NUMBER.finditer(text):
        value = Fraction(m.group(1))
        out |= {value, value / 100} if m.group(2) else {value}
    out |= {Fraction(e) for e in _EXPONENT.findall(text)}
    for w in _CLAIM_WORD.findall(text.lower()):
        out |= {Fraction(x) for x in NUMBER_WORDS.get(w, ())}
    for m in _BIT_WIDTH.finditer(text.lower()):
        n = int(m.group(1))
        if 1 <= n <= 64:
            out |= {Fraction(2 ** n - 1), Fraction(2 ** n), Fraction(2 ** (n - 1) - 1), Fraction(2 ** (n - 1))}
    return out


def numbers_line(text: str) -> str:
    """The claim's numbers as written, for the formula prompt ("" when it states none)."""
    found = list(dict.fromkeys(m.group(0).replace(" ", "") for m in _CLAIM_NUMBER.finditer(text)
                               if not re.match(r"-?\s?bits?\b", text[m.end():])))  # 8-bit is the sort's width
    return "Numbers the formula must use: " + ", ".join(found) if found else ""
