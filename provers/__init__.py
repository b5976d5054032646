"""Provers: formal claims → z3 / Lean 4 → verdicts (proved, refuted, unknown, error).

    from provers import Claim, Router
    Router(timeout_s=5).check(Claim("x*x >= x", smtlib="(declare-const x Real)(assert (not (>= (* x x) x)))"))

Imports are lazy: `python -m provers.smt` (the sandboxed z3 worker) must start without the LLM stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provers.cache import VerdictCache, cache_key
    from provers.claim import DECISIVE, VERDICTS, Claim, Verdict, VerdictKind
    from provers.formalise import Formalisation, formalise_claim
    from provers.pool import LocalPool, PoolError, ProverPool, RayPool
    from provers.router import Router
    from provers.screen import Screening, screen_lean, screen_smtlib

_EXPORTS = {
    "Claim": "provers.claim", "Verdict": "provers.claim", "VerdictKind": "provers.claim",
    "VERDICTS": "provers.claim", "DECISIVE": "provers.claim",
    "VerdictCache": "provers.cache", "cache_key": "provers.cache",
    "Formalisation": "provers.formalise", "formalise_claim": "provers.formalise",
    "Router": "provers.router",
    "ProverPool": "provers.pool", "LocalPool": "provers.pool", "RayPool": "provers.pool", "PoolError": "provers.pool",
    "Screening": "provers.screen", "screen_lean": "provers.screen", "screen_smtlib": "provers.screen",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'provers' has no attribute {name!r}")
