"""Provers: formal claims → z3 / Lean 4 → verdicts (proved, refuted, unknown, error).

    from gauntlet.provers import Claim, Router
    Router(timeout_s=5).check(Claim("x*x >= x", smtlib="(declare-const x Real)(assert (not (>= (* x x) x)))"))

Imports are lazy: `python -m gauntlet.provers.smt` (the sandboxed z3 worker) must start without the LLM stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gauntlet.provers.cache import VerdictCache, cache_key
    from gauntlet.provers.claim import DECISIVE, VERDICTS, Claim, Verdict, VerdictKind
    from gauntlet.provers.pipeline import GateResult, GateSettings, run_gate
    from gauntlet.provers.pool import LocalPool, PoolError, ProverPool, RayPool
    from gauntlet.provers.router import Router
    from gauntlet.provers.screen import Screening, screen_lean, screen_smtlib

_EXPORTS = {
    "Claim": "gauntlet.provers.claim", "Verdict": "gauntlet.provers.claim", "VerdictKind": "gauntlet.provers.claim",
    "VERDICTS": "gauntlet.provers.claim", "DECISIVE": "gauntlet.provers.claim",
    "VerdictCache": "gauntlet.provers.cache", "cache_key": "gauntlet.provers.cache",
    "GateResult": "gauntlet.provers.pipeline", "GateSettings": "gauntlet.provers.pipeline",
    "run_gate": "gauntlet.provers.pipeline",
    "Router": "gauntlet.provers.router",
    "ProverPool": "gauntlet.provers.pool", "LocalPool": "gauntlet.provers.pool", "RayPool": "gauntlet.provers.pool", "PoolError": "gauntlet.provers.pool",
    "Screening": "gauntlet.provers.screen", "screen_lean": "gauntlet.provers.screen", "screen_smtlib": "gauntlet.provers.screen",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'provers' has no attribute {name!r}")
