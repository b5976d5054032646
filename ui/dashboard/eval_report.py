"""An evaluation report (`gauntlet eval NAME --json` / `--out DIR`) read for the Evaluations page: pure functions.

Every report is meant to carry right / wrong / abstained, coverage, the risk-coverage curve, the 95% upper bound on
the error of accepted verdicts and baselines from the same run. Reports written before those keys existed lack
some of them; here whatever can be computed from the per-case rows is computed (and said so), and what cannot is
left empty rather than guessed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gauntlet.errors import InputError
from gauntlet.metrics import aurc, error_upper_95, risk_coverage

OUTCOMES = ("right", "wrong", "abstained")
ROOT = Path(__file__).resolve().parents[2]  # the repository (editable install)


def reports_dir() -> Path:
    """Where the page lists reports: $GAUNTLET_EVALS_DIR, else the repository's runs/evals/results."""
    return Path(os.environ.get("GAUNTLET_EVALS_DIR") or ROOT / "runs" / "evals" / "results")


def report_files(folder: Path | None = None) -> list[Path]:
    folder = folder or reports_dir()
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def parse(raw: bytes | str, name: str) -> dict[str, Any]:
    """A report's JSON object; a file that is not one is an InputError naming it."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{name}: not JSON ({exc})", field="report", fix="pick the .json a `gauntlet eval … --out "
                         "DIR` wrote") from None
    if not isinstance(doc, dict):
        raise InputError(f"{name}: a report is a JSON object, this is a {type(doc).__name__}", field="report",
                         fix="pick the .json a `gauntlet eval … --out DIR` wrote")
    return doc


@dataclass
class Summary:
    name: str
    eval: str
    model: str
    cases: int
    right: int | None
    wrong: int | None
    abstained: int | None
    coverage: float | None
    error_upper_95: float | None
    aurc: float | None
    curve: list[dict[str, float]]  # risk-coverage points {threshold, coverage, risk, accepted, wrong}
    curve_source: str  # "report", "computed from per-case confidences", "one operating point", or ""
    baselines: list[dict[str, Any]]  # {name, right, wrong, abstained, coverage, error_upper_95, note}
    per_case: list[dict[str, Any]]
    figures: dict[str, Any]  # the eval's own scalar figures
    notes: list[str] = field(default_factory=list)  # what was computed here, what is missing

    @property
    def answered(self) -> int | None:
        return None if self.right is None or self.wrong is None else self.right + self.wrong


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def _int(x: Any) -> int | None:
    return int(x) if isinstance(x, int) and not isinstance(x, bool) else None


def _baselines(doc: dict[str, Any]) -> list[dict[str, Any]]:
    raw = doc.get("baselines")
    if not isinstance(raw, dict) and isinstance(doc.get("baseline"), dict):
        raw = {"baseline": doc["baseline"]}  # reports from before `baselines`: one unnamed baseline
    out = []
    for name, b in (raw or {}).items():
        if isinstance(b, dict):
            out.append({"name": str(name), **{k: _int(b.get(k)) for k in OUTCOMES},
                        "coverage": _num(b.get("coverage")), "error_upper_95": _num(b.get("error_upper_95")),
                        "note": str(b.get("note") or ""),
                        "figures": {k: v for k, v in b.items() if _num(v) is not None and k not in (
                            *OUTCOMES, "coverage", "error_upper_95")}})
    return out


def _curve(doc: dict[str, Any], rows: list[dict[str, Any]], cases: int, notes: list[str]) -> tuple[list, str]:
    pts = doc.get("risk_coverage")
    if isinstance(pts, list) and pts and all(isinstance(p, dict) and _num(p.get("coverage")) is not None
                                             and _num(p.get("risk")) is not None for p in pts):
        return pts, "report"
    scored = [r for r in rows if r.get("outcome") in ("right", "wrong") and _num(r.get("confidence")) is not None]
    if scored:
        pts = risk_coverage([float(r["confidence"]) for r in scored], [r["outcome"] == "right" for r in scored])
        share = len(scored) / cases if cases else 1.0  # coverage over every case, abstentions included
        notes.append("risk-coverage computed here from the per-case confidences of answered cases")
        return [{**p, "coverage": p["coverage"] * share} for p in pts], "computed from per-case confidences"
    return [], ""


def summarise(doc: dict[str, Any], name: str) -> Summary:
    notes: list[str] = []
    rows = doc.get("per_case")
    if not isinstance(rows, list) and isinstance(doc.get("cases"), list):
        rows = doc["cases"]  # older panel reports kept their per-case rows under `cases`
        notes.append("per-case rows read from `cases` (an older report)")
    rows = [r for r in rows or [] if isinstance(r, dict)]
    counted = {o: sum(1 for r in rows if r.get("outcome") == o) for o in OUTCOMES}
    have_outcomes = any(counted.values())
    cases = _int(doc.get("cases")) or (sum(counted.values()) if have_outcomes else len(rows))
    right, wrong, abstained = (_int(doc.get(k)) for k in OUTCOMES)
    if right is None and have_outcomes:
        right, wrong, abstained = counted["right"], counted["wrong"], counted["abstained"]
        notes.append("right / wrong / abstained counted here from the per-case outcomes")
    coverage = _num(doc.get("coverage"))
    if coverage is None and right is not None and wrong is not None and cases:
        coverage = (right + wrong) / cases
        notes.append("coverage computed here: answered / cases")
    bound = _num(doc.get("error_upper_95"))
    if bound is None and right is not None and wrong is not None and right + wrong:
        bound = error_upper_95(wrong, right + wrong)
        notes.append("95% error bound computed here (Clopper-Pearson on the answered cases)")
    curve, source = _curve(doc, rows, cases, notes)
    area = _num(doc.get("aurc"))
    if area is None and source == "computed from per-case confidences":
        scored = [r for r in rows if r.get("outcome") in ("right", "wrong") and _num(r.get("confidence")) is not None]
        area = aurc([float(r["confidence"]) for r in scored], [r["outcome"] == "right" for r in scored])
    if not curve and right is not None and wrong is not None and right + wrong and cases:
        curve = [{"threshold": 0.0, "coverage": (right + wrong) / cases, "risk": wrong / (right + wrong),
                  "accepted": right + wrong, "wrong": wrong}]
        source = "one operating point"
        notes.append("no confidences in this report: the curve is its one operating point")
    if not curve:
        notes.append("no risk-coverage curve: the report has neither confidences nor right/wrong counts")
    if not doc.get("baselines") and not doc.get("baseline"):
        notes.append("no baselines in this report")
    skip = {"eval", "model", "cases", "per_case", "risk_coverage", "baselines", "baseline", *OUTCOMES, "coverage",
            "error_upper_95", "aurc"}
    figures = {k: v for k, v in doc.items() if k not in skip and (
        _num(v) is not None or isinstance(v, str) or v is None)}
    return Summary(name=name, eval=str(doc.get("eval") or _guess_eval(name)), model=str(doc.get("model") or "?"),
                   cases=cases, right=right, wrong=wrong, abstained=abstained, coverage=coverage,
                   error_upper_95=bound, aurc=area, curve=curve, curve_source=source, baselines=_baselines(doc),
                   per_case=rows, figures=figures, notes=notes)


def _guess_eval(name: str) -> str:
    return name.split("-")[0] if "-" in name else name.removesuffix(".json")


def outcome_bars(s: Summary) -> list[dict[str, Any]]:
    """Long-form rows for the right/wrong/abstained bars: the evaluated system first, then each baseline."""
    systems = [{"name": f"{s.eval} (this run)", "right": s.right, "wrong": s.wrong, "abstained": s.abstained}]
    systems += [b for b in s.baselines if any(b.get(k) is not None for k in OUTCOMES)]
    return [{"system": sys_["name"], "outcome": o, "cases": sys_.get(o) or 0, "order": k}
            for sys_ in systems for k, o in enumerate(OUTCOMES) if sys_.get(o) is not None]


def operating_point(s: Summary) -> dict[str, float] | None:
    """Where the report's own threshold sits on the curve: its coverage and the error of what it accepted."""
    if s.right is None or s.wrong is None or not s.cases or not (s.right + s.wrong):
        return None
    return {"coverage": (s.right + s.wrong) / s.cases, "risk": s.wrong / (s.right + s.wrong)}


def case_rows(s: Summary, show: str = "all") -> list[dict[str, Any]]:
    """Per-case rows, filtered: all, wrong, abstained, or wrong or abstained. Nested values become JSON text."""
    keep = {"all": None, "wrong": {"wrong"}, "abstained": {"abstained"},
            "wrong or abstained": {"wrong", "abstained"}}[show]
    out = []
    for r in s.per_case:
        if keep is None or r.get("outcome") in keep:
            out.append({k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
                        for k, v in r.items()})
    return out
