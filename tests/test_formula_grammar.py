"""The formaliser's grammars: every sentence of a claim's formula grammar parses in z3 as Boolean terms over only
the declared symbols (checked on many random sentences of the GBNF text itself), llama.cpp compiles the grammar,
and a symbol's meaning can only be made of the claim's words."""

from __future__ import annotations

import random
import re
import pytest
import z3

from gauntlet.provers import gate_z3
from gauntlet.provers.fewshot import EXAMPLES
from gauntlet.provers.formalise import (FormulaTextError, Variable, formula_text, parse_formula_text, plain_names,
                                        symbols_schema)
from gauntlet.provers.grammar import KEYWORDS, claim_numbers, formula_grammar, meaning_pattern, numbers_line, upto
from tests.gbnf_sample import parse, sample

SYMBOL_SETS = {
    "reals": [("p", "Real"), ("q", "Real")],
    "ints": [("n", "Int"), ("v", "Int")],
    "mixed": [("n", "Int"), ("p", "Real"), ("ok", "Bool")],
    "bv8": [("a", "(_ BitVec 8)"), ("b", "(_ BitVec 8)")],
    "bv-widths": [("a", "(_ BitVec 8)"), ("w", "(_ BitVec 16)"), ("big", "(_ BitVec 64)")],
    "bool-only": [("fires", "Bool"), ("safe", "Bool")],
    "everything": [("a1", "Real"), ("k", "Int"), ("c", "(_ BitVec 32)"), ("f", "Bool"), ("r_2", "Real")],
}
_ATOM = re.compile(r"[()]|[^\s()]+")
_NUMERAL = re.compile(r"\d+(\.\d+)?|#x[0-9a-f]+|bv\d+")


def _identifiers(term: str) -> set[str]:
    return {t for t in _ATOM.findall(term) if t not in "()" and t not in KEYWORDS and not _NUMERAL.fullmatch(t)}


@pytest.mark.parametrize("name", sorted(SYMBOL_SETS))
def test_every_sampled_sentence_parses_in_z3_and_names_only_declared_symbols(name: str) -> None:
    symbols = SYMBOL_SETS[name]
    declared = {n for n, _ in symbols}
    rules = parse(formula_grammar(symbols, draft_chars=12))
    rng = random.Random(name)
    head = "".join(f"(declare-const {n} {s})" for n, s in symbols)
    seen_terms = 0
    for _ in range(150):
        formula, plan = parse_formula_text(sample(rules, rng))
        assert plan and "\n" not in plan
        for term in [*formula.hypotheses, formula.conclusion]:
            assert _identifiers(term) <= declared, term
            parsed = z3.parse_smt2_string(head + f"(assert {term})")  # raises on any sort or syntax error
            assert len(parsed) == 1 and z3.is_bool(parsed[0])
            seen_terms += 1
        # The whole candidate through the gate's own sandboxed parse as well, now and then (it is slower).
        if seen_terms % 40 < 3:
            facts = gate_z3.facts(symbols, list(formula.hypotheses), formula.conclusion, timeout_s=2)
            assert facts.get("parse_error") is None and not facts.get("error"), facts
    assert seen_terms >= 150


def test_the_grammar_compiles_in_llama_cpp() -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    for symbols in SYMBOL_SETS.values():
        assert llama_cpp.LlamaGrammar.from_string(formula_grammar(symbols, draft_chars=40), verbose=False)


def test_the_grammar_lists_only_the_declared_symbols_and_keeps_sorts_apart() -> None:
    g = formula_grammar([("p", "Real")])
    assert '"p"' in g and "div" not in g and "bv" not in g  # no Int: no div/mod; no bit-vectors: none of theirs
    g = formula_grammar([("a", "(_ BitVec 8)")])
    assert "#x" in g and "(_ BitVec 16)" not in g and "hex16" not in g and '"(<= "' not in g
    with pytest.raises(ValueError):
        formula_grammar([])


def test_bit_vector_numerals_stay_in_their_width() -> None:
    """z3 silently wraps (_ bv300 8) to 44; the grammar only offers 0..255 for 8 bits."""
    rules = parse("root ::= " + upto(255) + "\n")
    rng = random.Random(0)
    values = {int(sample(rules, rng)) for _ in range(3000)}
    assert max(values) == 255 and min(values) == 0 and len(values) > 200
    for n in (0, 9, 10, 100, 65535):
        assert {int(sample(parse("root ::= " + upto(n) + "\n"), rng)) for _ in range(500)} <= set(range(n + 1))


def test_formula_text_round_trips_and_rejects_other_shapes() -> None:
    text = formula_text(["(>= p 0.9)", "(<= p 1.0)"], "(>= (* p p) 0.8)")
    formula, plan = parse_formula_text("Plan: square it\n" + text)
    assert formula.hypotheses == ["(>= p 0.9)", "(<= p 1.0)"] and formula.conclusion == "(>= (* p p) 0.8)"
    assert plan == "square it"
    assert parse_formula_text('{"hypotheses": [], "conclusion": "(> p 0)"}')[0].conclusion == "(> p 0)"
    for bad in ("(> p 0)", "Assume: (> p 0)", "Show: (> p 0)\nAssume: (> q 0)", '{"conclusion": 3}'):
        with pytest.raises(FormulaTextError):
            parse_formula_text(bad)


def test_a_meaning_is_made_of_the_claims_words() -> None:
    claim = "If two independent checks each catch a flaw with probability at least 0.9, both catch it."
    pat = meaning_pattern(claim)
    assert re.fullmatch(pat, "probability the first check catches the flaw")
    for invented in ("GPU temperature", "probability of rain", "Probability", "probability  the flaw", ""):
        assert not re.fullmatch(pat, invented), invented
    for ex in EXAMPLES:  # the worked examples obey the rule they teach
        for v in ex.answer["variables"]:
            assert re.fullmatch(meaning_pattern(ex.claim), v["meaning"]), v
    schema = symbols_schema(claim)
    var = schema["properties"]["variables"]["items"]
    var = schema["$defs"]["Variable"] if "$ref" in var else var
    assert var["properties"]["meaning"]["pattern"] == pat


def test_the_symbols_schema_compiles_to_a_llama_cpp_grammar() -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    from llama_cpp.llama_grammar import json_schema_to_gbnf
    gbnf = json_schema_to_gbnf(__import__("json").dumps(symbols_schema(EXAMPLES[0].claim)))
    assert llama_cpp.LlamaGrammar.from_string(gbnf, verbose=False)


def test_names_are_made_plain_before_the_grammar_lists_them() -> None:
    rows = [Variable(name=n, sort="Real", meaning="x") for n in ("p", "div", "p", "Bad Name", "q")]
    assert [v.name for v in plain_names(rows)] == ["p", "v2", "v3", "v4", "q"]


def test_the_claims_numbers_are_named_for_the_formula_but_not_bit_widths() -> None:
    text = "Adding two 8-bit values each at most 100 never overflows 8 bits; 30% of 0.5 is 0.15."
    assert numbers_line(text) == "Numbers the formula must use: 100, 30%, 0.5, 0.15"
    assert numbers_line("Every voter has a say.") == ""
    assert {str(x) for x in claim_numbers(text)} >= {"100", "3/10", "1/2"}


def test_with_the_claims_constants_a_formula_can_write_no_other_number() -> None:
    """The numerals of a claim's grammar are the numbers it states (and 0, 1): none can be dropped for another or
    invented; every sentence still parses in z3."""
    from fractions import Fraction
    from gauntlet.provers.gate import literals
    from gauntlet.provers.grammar import claim_constants
    claim = "If two 8-bit counters each hold at most 100, and 30% of 0.5 is 0.15, their sum fits in 8 bits."
    allowed = claim_constants(claim)
    assert {Fraction(100), Fraction(3, 10), Fraction(30), Fraction(1, 2), Fraction(3, 20), Fraction(255),
            Fraction(128), Fraction(0), Fraction(1), Fraction(2)} <= allowed
    assert Fraction(7) not in allowed
    for symbols in (SYMBOL_SETS["mixed"], SYMBOL_SETS["bv-widths"], SYMBOL_SETS["reals"]):
        rules = parse(formula_grammar(symbols, numbers=allowed))
        head = "".join(f"(declare-const {n} {s})" for n, s in symbols)
        rng = random.Random(str(symbols))
        seen: set[Fraction] = set()
        for _ in range(120):
            formula, _ = parse_formula_text(sample(rules, rng))
            for term in [*formula.hypotheses, formula.conclusion]:
                found = literals(term)
                assert found <= allowed, (term, found - allowed)
                seen |= found
                assert z3.is_bool(z3.parse_smt2_string(head + f"(assert {term})")[0])
        assert len(seen) > 3  # the grammar offers the claim's numbers, not only 0 and 1


def test_numbers_the_claim_states_in_words_and_exponents() -> None:
    from fractions import Fraction
    from gauntlet.provers.grammar import claim_constants, decimal
    c = claim_constants("Approved by more than two thirds of n voters, it has a majority.")
    assert {Fraction(2), Fraction(3), Fraction(0), Fraction(1)} <= c
    t = "the probability 3p^2 - 2p^3 is at least p"  # 3 and 2 are coefficients; ^2, ^3 are exponents
    assert claim_numbers(t) == {Fraction(3), Fraction(2)}
    assert Fraction(3) in claim_constants(t) and Fraction(2) in claim_constants(t)
    assert claim_numbers("x^4 is at least x") == set() and Fraction(4) in claim_constants("x^4 is at least x")
    assert [decimal(Fraction(x)) for x in ("1/25", "25/2", "3", "1/3", "0")] == ["0.04", "12.5", "3.0", None, "0.0"]


def test_a_meaning_the_pattern_admits_passes_the_symbol_tables_rule() -> None:
    """The first stage's pattern is the symbol table's rule in advance: every meaning it lets through has at
    least half its content words from the claim (sampled over each dev-set claim's own vocabulary)."""
    import yaml
    from gauntlet.provers.gate import stems
    from gauntlet.provers.grammar import CONNECTIVES, claim_words
    from gauntlet.provers.evalset import DEFAULT_SET
    rng = random.Random(7)
    admitted = 0
    for case in yaml.safe_load(DEFAULT_SET.read_text()):
        text = case["text"]
        pat, claim = re.compile(meaning_pattern(text)), stems(text)
        vocab = claim_words(text) + list(CONNECTIVES)
        for _ in range(400):
            words = rng.sample(vocab, rng.randint(1, min(6, len(vocab))))
            if len({w[:5] for w in words}) < len(words):
                continue  # "rating" and "ratings" are one stem: the pattern counts words, the table stems
            meaning = " ".join(words)
            if pat.fullmatch(meaning):
                admitted += 1
                found = stems(meaning)
                assert found and 2 * len(found & claim) >= len(found), (meaning, text)
    assert admitted > 200
    pat = meaning_pattern("For 8-bit unsigned values a and b, (a + b) / 2 is at least the smaller of a and b.")
    assert not re.fullmatch(pat, "the first value") and re.fullmatch(pat, "the first unsigned value a")
