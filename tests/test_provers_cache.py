"""Verdict cache: keyed by (formal text, prover, version), decisive verdicts only, in a file or the run store."""

from __future__ import annotations

from pathlib import Path

from gauntlet.graphs.store.store import Store
from gauntlet.provers import smt
from gauntlet.provers.cache import VerdictCache, cache_key
from gauntlet.provers.claim import Claim
from gauntlet.provers.router import Router

FALSE = "(declare-const x Real)(assert (not (>= (* x x) x)))"
TRUE = "(declare-const x Real)(assert (not (>= (* x x) 0.0)))"
HARD = ("(declare-const x Int)(declare-const y Int)(declare-const z Int)(assert (and (> x 0) (> y 0) (> z 0)))"
        "(assert (= (+ (* x x x) (* y y y)) (* z z z)))")


def test_key_depends_on_text_prover_and_version() -> None:
    keys = {cache_key(FALSE, "z3", "4.12"), cache_key(FALSE, "z3", "4.13"), cache_key(FALSE, "lean4", "4.12"),
            cache_key(TRUE, "z3", "4.12")}
    assert len(keys) == 4
    assert cache_key(FALSE, "z3", "4.12") == cache_key(FALSE, "z3", "4.12")


def test_second_check_is_a_cache_hit(tmp_path: Path) -> None:
    cache = VerdictCache(path=tmp_path / "c.sqlite")
    router = Router(timeout_s=10, cache=cache)
    first = router.check(Claim("x*x >= x", smtlib=FALSE))
    second = router.check(Claim("x*x >= x", smtlib=FALSE))
    assert first.verdict == second.verdict == "refuted"
    assert not first.cached and second.cached
    assert second.counterexample == first.counterexample
    assert cache.hits == 1 and cache.misses == 1
    # The hit survives a new process's view of the same file.
    assert VerdictCache(path=tmp_path / "c.sqlite").get(cache_key(FALSE, "z3", smt.version()))


def test_unknown_is_not_cached(tmp_path: Path) -> None:
    cache = VerdictCache(path=tmp_path / "c.sqlite")
    router = Router(timeout_s=0.5, cache=cache)
    assert router.check(Claim("fermat 3", smtlib=HARD)).verdict == "unknown"
    again = router.check(Claim("fermat 3", smtlib=HARD))
    assert again.verdict == "unknown" and not again.cached


def test_cache_lives_in_the_run_store(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "runs.sqlite"))
    router = Router(timeout_s=10, cache=VerdictCache(engine=store.engine))
    assert router.check(Claim("x*x >= 0", smtlib=TRUE)).verdict == "proved"
    from sqlmodel import Session, select

    from gauntlet.provers.cache import ProverResult
    with Session(store.engine) as s:
        rows = s.exec(select(ProverResult)).all()
    assert [(r.prover, r.verdict) for r in rows] == [("z3", "proved")]
