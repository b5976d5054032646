"""Prover checks on a Ray pool: same verdicts as local checks, cache and screening stay on the driver, a dead worker
is an `error` verdict (never a crash, never cached), and a debate with `provers.pool: ray` refutes its false claim."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from gauntlet.config import ProverConfig

from gauntlet.graphs.run.loading import parse_config
from gauntlet.errors import InputError
from gauntlet.provers.cache import VerdictCache
from gauntlet.provers.claim import Claim
from gauntlet.provers.pool import LocalPool, PoolError, RayPool, check_pool
from gauntlet.provers.router import Router

pytest.importorskip("ray", reason="the Ray prover pool needs Ray: pip install -e .[cluster]")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "provers/examples").glob("*.smt2"))
HOSTILE_LEAN = (ROOT / "provers/examples/hostile.lean").read_text()


@pytest.fixture(scope="module")
def ray_pool() -> Iterator[RayPool]:
    import ray
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        yield RayPool()
    finally:
        ray.shutdown()


class CountingPool:
    """Test double around a real pool: counts what is sent to it, and delegates."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.sent = inner, inner.name, 0

    @property
    def capacity(self) -> int:
        return self.inner.capacity

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.sent += 1
        return self.inner.run(fn, *args, **kwargs)


def _expected(path: Path) -> str:
    m = re.search(r"expected: (\w+)", path.read_text())
    assert m, f"{path.name} must state its expected verdict"
    return m.group(1)


def test_ray_workers_decide_every_example_like_local_z3(ray_pool: RayPool) -> None:
    assert ray_pool.capacity == 2
    for path in EXAMPLES:
        text = path.read_text()
        remote = Router(pool=ray_pool, timeout_s=10).check_smtlib(text)
        local = Router(pool=LocalPool(), timeout_s=10).check_smtlib(text)
        assert remote.verdict == local.verdict == _expected(path), path.name
        assert remote.counterexample == local.counterexample
        if remote.verdict == "refuted":
            assert remote.counterexample, f"{path.name}: a refutation carries its counterexample"


def test_cache_and_screening_stay_on_the_driver(ray_pool: RayPool, tmp_path: Path) -> None:
    counting = CountingPool(ray_pool)
    router = Router(pool=counting, timeout_s=10, lean=True, cache=VerdictCache(path=tmp_path / "cache.sqlite"))
    claim = Claim("x*x >= x", smtlib="(declare-const x Real)(assert (not (>= (* x x) x)))")
    first = router.check(claim)
    sent = counting.sent  # the z3 version (once) and the check
    assert first.verdict == "refuted" and not first.cached and sent == 2
    again = router.check(claim)
    assert again.verdict == "refuted" and again.cached and counting.sent == sent  # a hit costs no task
    refused = router.check_lean(HOSTILE_LEAN)
    assert refused.verdict == "error" and "refused" in refused.detail
    assert counting.sent == sent  # hostile Lean never leaves the driver


def test_a_dead_worker_is_an_error_verdict_and_is_not_cached(ray_pool: RayPool, tmp_path: Path) -> None:
    with pytest.raises(PoolError, match="ray task failed"):
        ray_pool.run(os._exit, 3)  # the worker process dies (and its one retry too)

    class DyingPool(CountingPool):
        """Test double: a real Ray pool whose checks land on a worker that dies."""

        def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            self.sent += 1
            return self.inner.run(os._exit, 3) if fn.__name__ == "check" else self.inner.run(fn, *args, **kwargs)

    cache = VerdictCache(path=tmp_path / "cache.sqlite")
    router = Router(pool=DyingPool(ray_pool), timeout_s=10, cache=cache)
    v = router.check_smtlib("(declare-const x Int)(assert (> x x))")
    assert v.verdict == "error" and v.detail.startswith("ray pool: ray task failed")
    assert Router(pool=ray_pool, timeout_s=10, cache=cache).check_smtlib(
        "(declare-const x Int)(assert (> x x))").cached is False  # the failure was not cached


def test_pool_settings_are_validated() -> None:
    base = "topic: t\npanel: {proposers: [ml-empiricist], critics: [security-engineer]}\n"
    cfg = parse_config(base + "provers: {pool: ray, ray_address: 'ray://head.example:10001'}\n", "p.yaml",
                       ROOT / "runs/configs")
    assert cfg.config.provers.pool == "ray" and cfg.config.provers.ray_address == "ray://head.example:10001"
    for bad, field in (("{pool: spark}", "provers.pool"), ("{ray_address: auto}", "provers"),
                       ("{pool: ray, ray_address: 'http://x; rm -rf /'}", "provers.ray_address")):
        with pytest.raises(InputError) as exc:
            parse_config(base + f"provers: {bad}\n", "p.yaml", ROOT / "runs/configs")
        assert field in exc.value.one_line() and "\n" not in exc.value.one_line()
    with pytest.raises(InputError, match="cannot reach Ray at ray://127.0.0.1:1") as exc:
        check_pool(ProverConfig(pool="ray", ray_address="ray://127.0.0.1:1"), config_file="p.yaml")
    assert "provers.ray_address" in exc.value.one_line()


def test_debate_with_a_ray_prover_pool_refutes_the_false_claim(tmp_path: Path, synthetic_url: str) -> None:
    config = (ROOT / "runs/configs/false_claim.yaml").read_text()
    config = config.replace("  backend: embedded\n", f"  backend: openai\n  base_url: {synthetic_url}\n"
                                                      "  name: synthetic\n")
    config = config.replace("  timeout_s: 5\n", "  timeout_s: 10\n  pool: ray\n")
    path = tmp_path / "ray_pool.yaml"
    path.write_text(config)
    db = tmp_path / "runs.sqlite"
    env = {**os.environ, "GAUNTLET_PROVER_CACHE": str(tmp_path / "cache.sqlite")}
    out = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "run", str(path), "--db", str(db), "--quiet", "--json"],
                         capture_output=True, text=True, timeout=600, env=env, cwd=ROOT / "runs/configs")
    assert out.returncode == 0, out.stderr[-1500:]
    run_id = json.loads(out.stdout)["run_id"]
    exported = tmp_path / "run.json"
    done = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "export", run_id, "--db", str(db), "--format", "json",
                           "--out", str(exported)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-1500:]
    doc = json.loads(exported.read_text())
    formal = next(n for n in doc["nodes"] if n["id"] == "seed-1-claim1-formal")
    assert formal["kind"] == "formal_result" and formal["data"]["verdict"] == "refuted"
    assert formal["data"]["counterexample"] == {"e": "1/2"} and formal["data"]["checked_on"] == "ray"
    assert {"src": "seed-1-claim1-formal", "dst": "seed-1", "kind": "attacks"}.items() <= next(
        e for e in doc["edges"] if e["src"] == "seed-1-claim1-formal" and e["dst"] == "seed-1").items()
    assert next(n for n in doc["nodes"] if n["id"] == "seed-1")["status"] == "shot_down"
