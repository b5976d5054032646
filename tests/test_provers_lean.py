"""The real Lean 4 path (lean-interact REPL with a warm Mathlib header). Runs only where Lean is installed."""

from __future__ import annotations

import shutil

import pytest

from gauntlet.provers import lean
from gauntlet.provers.claim import Claim
from gauntlet.provers.router import Router

needs_lean = pytest.mark.skipif(
    shutil.which("lake") is None,
    reason="Lean 4 not installed: install elan (https://github.com/leanprover/elan), then `pip install -e .[lean]`; "
           "the test then runs the lean-interact REPL")

pytestmark = [pytest.mark.lean, needs_lean]


def test_repl_proves_a_true_statement() -> None:
    v = lean.check("theorem t (a b : ℝ) : 2 * a * b ≤ a ^ 2 + b ^ 2 := by nlinarith [sq_nonneg (a - b)]", 600)
    assert v.verdict == "proved", v.detail


def test_warm_environment_is_reused() -> None:
    lean.check("theorem w0 : (1 : ℕ) + 1 = 2 := by norm_num", 600)  # pays the Mathlib import once
    v = lean.check("theorem w1 : (2 : ℕ) + 2 = 4 := by norm_num", 60)
    assert v.verdict == "proved" and v.elapsed_s < 30, (v.detail, v.elapsed_s)


def test_sorry_is_not_a_proof() -> None:
    v = lean.check("theorem s (x : ℝ) : x ≤ x ^ 2 := by sorry", 600)
    assert v.verdict == "unknown" and "sorry" in v.detail


def test_wrong_proof_is_unknown_not_refuted() -> None:
    v = lean.check("theorem f (x : ℝ) : x ≤ x ^ 2 := by nlinarith", 600)
    assert v.verdict == "unknown"


def test_router_falls_back_to_lean_when_z3_cannot_decide() -> None:
    claim = Claim("no positive cubes sum to a cube (n = 3) is hard; 1 + 1 = 2 is not",
                  smtlib="(declare-const x Int)(declare-const y Int)(declare-const z Int)"
                         "(assert (and (> x 0) (> y 0) (> z 0)))"
                         "(assert (= (+ (* x x x) (* y y y)) (* z z z)))",
                  lean_statement="theorem easy : (1 : ℕ) + 1 = 2", lean_proof="by norm_num")
    v = Router(z3=True, lean=True, timeout_s=1, lean_timeout_s=600).check(claim)
    assert v.verdict == "proved" and v.prover == "lean4"
