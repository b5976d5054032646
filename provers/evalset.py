"""The formalisation eval set (runs/evals/formalise.yaml): loading it strictly, scoring one verdict, summing up.

Scoring (the figures `gauntlet eval formalise` prints): `right` = proved on a true claim, refuted on a false
one, any abstention on a non-math sentence; `wrong` = the opposite verdict on a math claim, or any proved /
refuted on a non-math sentence; everything else `abstained`. `coverage` = right math cases / math cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from gauntlet.errors import InputError

DEFAULT_SET = Path(__file__).resolve().parent.parent / "runs" / "evals" / "formalise.yaml"
EXPECT = ("true", "false", "not_math")
_KEYS = {"id", "text", "expect", "source", "quantities"}


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    expect: Literal["true", "false", "not_math"]
    quantities: list[str] | None = None
    source: str = ""


def load_cases(path: Path) -> list[Case]:
    """Strict: an unknown key, a missing field or a bad `expect` names the case and the fix (InputError)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("file not found", file=str(path), fix="give a YAML eval set, e.g. runs/evals/formalise.yaml")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read ({exc})", file=str(path), fix="give a UTF-8 YAML file") from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML ({str(exc).splitlines()[0]})", file=str(path),
                         fix="a YAML list of {id, text, expect}") from None
    if not isinstance(raw, list) or not raw:
        raise InputError("expected a non-empty YAML list of cases", file=str(path),
                         fix="write `- {id: c1, text: ..., expect: true}` items")
    cases, seen = [], set()
    for i, item in enumerate(raw, 1):
        where = f"case {i}"
        if not isinstance(item, dict):
            raise InputError(f"{where} is not a mapping", file=str(path), fix="each case is {id, text, expect}")
        extra = sorted(set(map(str, item)) - _KEYS)
        if extra:
            raise InputError(f"{where} has unknown key {extra[0]!r}", file=str(path), field=extra[0],
                             fix="use id, text, expect, source, quantities")
        cid, text = str(item.get("id") or f"case-{i}"), item.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{where} ({cid}) needs `text`", file=str(path), field="text", fix="the claim in words")
        expect = item.get("expect")
        expect = {True: "true", False: "false"}.get(expect, expect) if isinstance(expect, bool) else expect
        if expect not in EXPECT:
            raise InputError(f"{where} ({cid}) has expect {item.get('expect')!r}", file=str(path), field="expect",
                             fix="use true, false or not_math")
        if cid in seen:
            raise InputError(f"duplicate id {cid!r}", file=str(path), field="id", fix="give each case its own id")
        seen.add(cid)
        q = item.get("quantities")
        if q is not None and not (isinstance(q, list) and all(isinstance(x, str) for x in q)):
            raise InputError(f"{where} ({cid}) has bad quantities", file=str(path), field="quantities",
                             fix="a list of strings, e.g. [detection probability p]")
        cases.append(Case(cid, text.strip(), expect, q, str(item.get("source") or "")))
    return cases


def score(expect: str, verdict: str) -> Literal["right", "wrong", "abstained"]:
    decisive = {"proved": "true", "refuted": "false"}.get(verdict)
    if expect == "not_math":
        return "wrong" if decisive else "right"
    if decisive is None:
        return "abstained"
    return "right" if decisive == expect else "wrong"


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """rows: {expect, verdict, outcome, …} per case → the eval's figures."""
    math = [r for r in rows if r["expect"] != "not_math"]
    count = {k: sum(r["outcome"] == k for r in rows) for k in ("right", "wrong", "abstained")}
    math_right = sum(r["outcome"] == "right" for r in math)
    by_expect = {e: {k: sum(r["outcome"] == k for r in rows if r["expect"] == e) for k in ("right", "wrong",
                                                                                          "abstained")}
                 for e in EXPECT}
    return {"cases": len(rows), **count, "coverage": round(math_right / len(math), 4) if math else None,
            "math_cases": len(math), "not_math_cases": len(rows) - len(math), "by_expect": by_expect}
