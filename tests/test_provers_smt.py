"""The z3 backend on real z3: claims of known status, counterexamples that really refute, limits, refusals,
and the `gauntlet prove` CLI contract."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest

from gauntlet.provers import smt
from gauntlet.provers.sandbox import Limits, run_limited

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "provers" / "examples").glob("*.smt2"))


def expected(path: Path) -> str:
    m = re.search(r"expected: (proved|refuted|unknown)", path.read_text())
    assert m, f"{path.name} states no expected verdict"
    return m.group(1)


def gauntlet(*args: str, env_extra: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    import os
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-c", "from ui.cli import main; main()", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_examples_cover_true_false_nonlinear_and_bitvectors() -> None:
    statuses = {p.name: expected(p) for p in EXAMPLES}
    assert {"proved", "refuted", "unknown"} <= set(statuses.values())
    texts = " ".join(p.read_text() for p in EXAMPLES)
    assert "QF_NRA" in texts and "QF_BV" in texts


@pytest.mark.parametrize("path", [p for p in EXAMPLES if expected(p) != "unknown"], ids=lambda p: p.stem)
def test_cli_decides_each_example(path: Path, tmp_path: Path) -> None:
    out = gauntlet("prove", str(path), "--json", "--timeout", "10",
                   env_extra={"GAUNTLET_PROVER_CACHE": str(tmp_path / "cache.sqlite")})
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc) >= {"verdict", "prover", "counterexample", "detail"}
    assert doc["verdict"] == expected(path), doc["detail"]
    assert doc["prover"] == "z3"
    if doc["verdict"] == "refuted":
        assert doc["counterexample"], "a refutation must come with a counterexample"
    else:
        assert doc["counterexample"] is None


def _num(v: object) -> Fraction:
    return Fraction(str(v))


def test_real_counterexample_really_violates_the_claim() -> None:
    v = smt.check((ROOT / "provers/examples/square_ge_self.smt2").read_text(), 10)
    x = _num(v.counterexample["x"])
    assert v.verdict == "refuted" and not x * x >= x, v.counterexample


def test_bitvector_overflow_counterexample_wraps() -> None:
    v = smt.check((ROOT / "provers/examples/bv8_signed_add_positive.smt2").read_text(), 10)
    x, y = v.counterexample["x"], v.counterexample["y"]
    signed = lambda n: n - 256 if n >= 128 else n  # noqa: E731
    assert v.verdict == "refuted"
    assert 0 < signed(x) and 0 < signed(y) and signed((x + y) % 256) <= 0, v.counterexample
    assert "signed" in v.detail  # the readable form shows the two's-complement reading


def test_irrational_counterexample_is_readable() -> None:
    text = "(declare-const x Real)(assert (= (* x x) 2.0))(assert (> x 0.0))"
    v = smt.check(text, 10)
    assert v.verdict == "refuted"
    assert v.counterexample["x"].startswith("1.41421356")


def test_timeout_gives_unknown_within_budget() -> None:
    t0 = time.perf_counter()
    v = smt.check((ROOT / "provers/examples/fermat_cubes.smt2").read_text(), 1.0)
    assert v.verdict == "unknown" and "timeout" in v.detail
    assert time.perf_counter() - t0 < 1.0 + 5.0  # solver timeout plus child start-up, never unbounded


def test_sandbox_kills_a_runaway_child() -> None:
    t0 = time.perf_counter()
    out = run_limited([sys.executable, "-c", "while True: pass"], Limits(wall_s=1.0, cpu_s=30))
    assert out.timed_out and time.perf_counter() - t0 < 5


def test_sandbox_memory_limit_stops_an_allocation() -> None:
    out = run_limited([sys.executable, "-c", "b = bytearray(3 * 1024**3)"], Limits(wall_s=20, memory_mb=512))
    assert out.returncode != 0 and "MemoryError" in out.stderr


def test_output_channel_option_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "written.txt"
    text = f'(set-option :regular-output-channel "{target}")(declare-const x Int)(assert (> x 0))'
    v = smt.check(text, 5)
    assert v.verdict == "error" and "regular-output-channel" in v.detail
    assert not target.exists()


@pytest.mark.parametrize("text, fragment", [
    ("(declare-const x Int)(assert (> y 0))", "does not parse"),
    ("(declare-const x Int)", "nothing is asserted"),
    ("(declare-const x Int)(assert (> x 0)", "unbalanced"),
    ('(echo "hi")(declare-const x Int)(assert (> x 0))', "echo"),
    ("(declare-const x Int) x (assert (> x 0))", "outside a command"),
    ("(assert true)" + " " * (300 * 1024), "KB"),
])
def test_bad_smtlib_is_an_error_verdict(text: str, fragment: str) -> None:
    v = smt.check(text, 5)
    assert v.verdict == "error" and fragment in v.detail, v.detail


@pytest.mark.parametrize("args, fragment", [
    (["prove", "nope.smt2"], "file not found"),
    (["prove", "pyproject.toml"], "unknown file type"),
    (["prove", "provers/examples/square_nonneg.smt2", "--timeout", "0"], "--timeout"),
])
def test_cli_bad_input_is_one_line_exit_2(args: list[str], fragment: str) -> None:
    out = gauntlet(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in out.stderr
