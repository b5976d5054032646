"""What goes into a prover and what comes out: a claim with its formalisations, and a verdict."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Literal

VerdictKind = Literal["proved", "refuted", "unknown", "error"]
VERDICTS: tuple[VerdictKind, ...] = ("proved", "refuted", "unknown", "error")
# Only these survive a longer timeout or another machine unchanged, so only these are cached and pinned.
DECISIVE: tuple[VerdictKind, ...] = ("proved", "refuted")


@dataclass(frozen=True)
class Claim:
    """A natural-language claim kept together with its formal texts and the formaliser's assumptions.

    The pairing matters: an unfaithful formalisation proves the wrong thing, so whoever reviews a verdict must
    be able to read the claim and the formal text side by side.
    """

    text: str
    smtlib: str | None = None  # SMT-LIB 2 asserting the *negation* of the claim (unsat = proved)
    lean_statement: str | None = None  # e.g. `theorem t (x : ℝ) : x * x ≥ 0`
    lean_proof: str | None = None  # e.g. `by nlinarith [sq_nonneg x]`
    assumptions: tuple[str, ...] = ()
    id: str = ""

    def lean_text(self) -> str | None:
        """The Lean declaration to check: statement and proof as one command."""
        if not self.lean_statement:
            return None
        if not self.lean_proof:  # a full declaration given as one text (as seed configs do)
            return self.lean_statement.strip()
        proof = self.lean_proof.strip()
        joiner = " " if proof.startswith(":=") else " := "
        return self.lean_statement.strip() + joiner + proof


@dataclass(frozen=True)
class Verdict:
    """A prover's answer. `counterexample` maps each free symbol to a readable value (refuted only)."""

    verdict: VerdictKind
    prover: str
    detail: str = ""
    counterexample: dict[str, Any] | None = None
    elapsed_s: float = 0.0
    cached: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def decisive(self) -> bool:
        return self.verdict in DECISIVE

    def as_json(self) -> dict[str, Any]:
        """The `gauntlet prove --json` document (docs/contracts.md) plus timing."""
        return {"verdict": self.verdict, "prover": self.prover, "counterexample": self.counterexample,
                "detail": self.detail, "elapsed_s": round(self.elapsed_s, 4), "cached": self.cached}

    def with_(self, **changes: Any) -> "Verdict":
        return replace(self, **changes)

    def to_row(self) -> dict[str, Any]:
        return {"prover": self.prover, "verdict": self.verdict, "detail": self.detail,
                "counterexample_json": None if self.counterexample is None else json.dumps(self.counterexample,
                                                                                          sort_keys=True)}


def error(prover: str, detail: str) -> Verdict:
    return Verdict("error", prover, " ".join(detail.split()))


def unknown(prover: str, detail: str, elapsed_s: float = 0.0) -> Verdict:
    return Verdict("unknown", prover, " ".join(detail.split()), elapsed_s=elapsed_s)
