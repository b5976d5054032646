"""Route a claim to the provers: z3 first (it finds counterexamples fast), Lean for proofs; cache verdicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from gauntlet.provers import lean, smt
from gauntlet.provers.cache import VerdictCache, cache_key
from gauntlet.provers.claim import Claim, Verdict, error, unknown
from gauntlet.provers.pool import LocalPool, PoolError, ProverPool, pool_for
from gauntlet.provers.screen import screen_lean

LEAN_MIN_TIMEOUT_S = 60.0  # a Lean check includes elaborating against Mathlib; seconds are not enough


@dataclass
class Router:
    z3: bool = True
    lean: bool = False
    timeout_s: float = 5.0
    lean_timeout_s: float | None = None
    cache: VerdictCache | None = None
    lean_project: Path | None = None
    memory_mb: int = 2048
    pool: ProverPool = field(default_factory=LocalPool)  # where uncached checks run (provers.pool)
    _versions: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def from_config(cls, cfg: Any, cache: VerdictCache | None = None) -> "Router":
        """From a gauntlet.config.ProverConfig (or anything with z3, lean, timeout_s, pool, ray_address)."""
        return cls(z3=cfg.z3, lean=cfg.lean, timeout_s=cfg.timeout_s, cache=cache,
                   pool=pool_for(cfg.pool, cfg.ray_address))

    def check(self, claim: Claim) -> Verdict:
        """The first decisive verdict; otherwise the most informative non-decisive one."""
        tried: list[Verdict] = []
        if self.z3 and claim.smtlib:
            v = self.check_smtlib(claim.smtlib)
            if v.decisive:
                return v
            tried.append(v)
        lean_text = claim.lean_text()
        if self.lean and lean_text:
            v = self.check_lean(lean_text)
            if v.decisive:
                return v
            tried.append(v)
        if not tried:
            have = [k for k, t in (("SMT-LIB", claim.smtlib), ("Lean", lean_text)) if t]
            on = [k for k, b in (("z3", self.z3), ("lean", self.lean)) if b]
            return unknown("router", f"no prover could take this claim (formalisations: {', '.join(have) or 'none'};"
                                     f" provers enabled: {', '.join(on) or 'none'})")
        # `unknown` (a timeout, a failed proof) says more about the claim than a backend `error`.
        best = next((v for v in tried if v.verdict == "unknown"), tried[0])
        if len(tried) > 1:
            best = best.with_(detail=" / ".join(f"{v.prover}: {v.verdict}: {v.detail}" for v in tried))
        return best

    def check_smtlib(self, text: str) -> Verdict:
        return self._cached(text, smt.PROVER, smt.version, smt.check, self.timeout_s, memory_mb=self.memory_mb)

    def check_lean(self, text: str) -> Verdict:
        screening = screen_lean(text)
        if not screening.ok:  # before anything touches a Lean binary, even `lean --version` for the cache key
            return error(lean.PROVER, screening.summary())
        timeout = self.lean_timeout_s or max(self.timeout_s, LEAN_MIN_TIMEOUT_S)
        return self._cached(text, lean.PROVER, lean.version, lean.check, timeout, project=self.lean_project,
                            memory_mb=max(self.memory_mb, 4096))

    def _cached(self, text: str, prover: str, version: Callable[[], str], check: Callable[..., Verdict],
                *args: Any, **kwargs: Any) -> Verdict:
        """`check(text, *args, **kwargs)` in the pool unless the cache has it.

        The version comes from where the check runs: on a cluster, the workers' Lean, not the driver's.
        """
        try:
            key = cache_key(text, prover, self._versions.get(prover) or self._version(prover, version))
            if self.cache is not None:
                hit = self.cache.get(key)
                if hit is not None:
                    return hit
            verdict = self.pool.run(check, text, *args, **kwargs)
        except PoolError as exc:  # the pool failed, not the claim: say so, and cache nothing
            return error(prover, f"{self.pool.name} pool: {exc}")
        if self.cache is not None:
            self.cache.put(key, verdict)
        return verdict

    def _version(self, prover: str, version: Callable[[], str]) -> str:
        self._versions[prover] = self.pool.run(version)
        return self._versions[prover]


SMT_SUFFIXES = (".smt2", ".smt")
LEAN_SUFFIXES = (".lean",)
_MAX_FILE_BYTES = 1_000_000


def prove_file(path: Path, timeout_s: float | None = None, *, use_cache: bool = True) -> Verdict:
    """`gauntlet prove FILE`: an .smt2 file asserting a claim's negation, or a .lean theorem with its proof.

    Bad input (missing file, wrong suffix, binary, bad timeout) raises InputError; a file a prover refuses or
    cannot parse is not bad input but a verdict (`error` with the reason).
    """
    from gauntlet.errors import InputError
    from gauntlet.user_files import read_user_text
    suffix = path.suffix.lower()
    if suffix not in SMT_SUFFIXES + LEAN_SUFFIXES:
        raise InputError(f"unknown file type {suffix or '(none)'!r}", file=str(path),
                         fix="give an SMT-LIB .smt2 file (asserting the negation of the claim) or a .lean file")
    if timeout_s is not None and not 0 < timeout_s <= 600:
        raise InputError(f"timeout {timeout_s:g} s is out of range", field="--timeout", fix="use 0 < S <= 600")
    text = read_user_text(path, max_bytes=_MAX_FILE_BYTES, kind="claim file",
                          too_big_fix="a claim is a short text file")
    if not text.strip():
        raise InputError("file is empty", file=str(path), fix="assert the negation of the claim, "
                                                             "e.g. (assert (not (>= (* x x) 0)))")
    is_smt = suffix in SMT_SUFFIXES
    router = Router(z3=is_smt, lean=not is_smt, timeout_s=timeout_s or 5.0, lean_timeout_s=timeout_s,
                    cache=VerdictCache() if use_cache else None)
    return router.check_smtlib(text) if is_smt else router.check_lean(text)
