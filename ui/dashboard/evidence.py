"""The evidence of one idea's verdict, gathered from a RunView: what attacks it and where, what each attack rests
on (flaw, severity, cited sources, rebuttal, the jury's probabilities against the threshold), the formal results on
its claims, and one plain sentence saying why it has its status. Pure functions; `evidence_panel` draws it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gauntlet.graphs.argument.anchors import locate
from gauntlet.ui.dashboard.data import RunView
from gauntlet.ui.dashboard.marks import describe, status_word

MAX_CRITIQUES = 20


@dataclass
class Vote:
    juror: str
    vote: str
    reason: str = ""
    p_sustained: float | None = None  # the calibrated probability that the critique holds (scored rulings)
    accepted: bool | None = None  # was p past the threshold (None: the ruling does not say)
    abstained: str = ""  # why this juror's vote did not count


@dataclass
class RulingEvidence:
    id: str
    outcome: str
    reason: str
    threshold: float | None
    calibration: str
    votes: list[Vote]


@dataclass
class CritiqueEvidence:
    number: int  # its mark in the highlighted text
    id: str
    persona: str
    text: str
    kind: str  # critique, or human_note for a human intervention
    critique_kind: str
    flaw_type: str
    severity: str
    anchor: str
    anchor_found: bool
    counted: bool  # does this attack count in the semantics (sustained, anchored, not minor)
    status: str  # the critique's own status
    cites: list[dict[str, Any]] = field(default_factory=list)
    rebuttals: list[dict[str, str]] = field(default_factory=list)
    ruling: RulingEvidence | None = None


@dataclass
class FormalEvidence:
    id: str
    claim_id: str
    claim_text: str
    verdict: str
    prover: str
    detail: str
    checks: list[dict[str, Any]]
    counterexample: Any
    smtlib: str
    lean: str


@dataclass
class IdeaEvidence:
    id: str
    title: str
    text: str
    status: str
    override: str | None
    segments: list[tuple[str, list[int]]]  # the idea's text in pieces, each with the critiques anchored on it
    critiques: list[CritiqueEvidence]
    formal: list[FormalEvidence]
    why: str


def _float(x: Any) -> float | None:
    try:
        return None if x is None or isinstance(x, bool) else float(x)
    except (TypeError, ValueError):
        return None


def _votes(data: dict[str, Any]) -> list[Vote]:
    out = []
    for raw, why_not in [(v, "") for v in data.get("votes") or []] + [
            (v, "abstained") for v in data.get("abstained") or []]:
        if not isinstance(raw, dict):
            continue
        accepted = raw.get("accepted")
        out.append(Vote(juror=str(raw.get("juror", "")), vote=str(raw.get("vote", "")),
                        reason=str(raw.get("reason", "")), p_sustained=_float(raw.get("p_sustained")),
                        accepted=accepted if isinstance(accepted, bool) else None,
                        abstained=str(raw.get("abstained") or why_not) if why_not or raw.get("abstained") else ""))
    return out


def latest_rulings(view: RunView) -> dict[str, dict[str, Any]]:
    """Each critique's latest ruling node (a re-ruling supersedes an earlier one), in one pass over the nodes."""
    out: dict[str, dict[str, Any]] = {}
    for n in view.nodes.values():
        c = n["data"].get("critique") if n["kind"] == "ruling" else None
        if c and (c not in out or n["seq"] > out[c]["seq"]):
            out[c] = n
    return out


def ruling_for(view: RunView, critique_id: str,
               latest: dict[str, dict[str, Any]] | None = None) -> RulingEvidence | None:
    r = (latest if latest is not None else latest_rulings(view)).get(critique_id)
    if r is None:
        return None
    d = r["data"]
    return RulingEvidence(id=r["id"], outcome=str(d.get("outcome", "")), reason=str(d.get("reason", "")),
                          threshold=_float(d.get("threshold")), calibration=str(d.get("calibration") or ""),
                          votes=_votes(d))


def rebuttals_by_target(view: RunView) -> dict[str, list[dict[str, str]]]:
    """Rebuttals grouped by the critique they answer (by their `target`, or an edge to it), in log order."""
    edge_targets: dict[str, set[str]] = {}
    for src, dst, _ in view.edges:
        edge_targets.setdefault(src, set()).add(dst)
    out: dict[str, list[dict[str, str]]] = {}
    for n in sorted((n for n in view.nodes.values() if n["kind"] == "rebuttal"), key=lambda n: n["seq"]):
        row = {"id": n["id"], "persona": n["persona"], "action": str(n["data"].get("action") or ""),
               "text": n["text"]}
        for target in {n["data"].get("target") or "", *edge_targets.get(n["id"], ())} - {""}:
            out.setdefault(target, []).append(row)
    return out


def _segments(text: str, spans: list[tuple[int, int, int]]) -> list[tuple[str, list[int]]]:
    """Cut `text` at every span boundary; each piece lists the numbers of the spans covering it."""
    cuts = sorted({0, len(text), *[s for s, _, _ in spans], *[e for _, e, _ in spans]})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        if a < b:
            out.append((text[a:b], sorted(k for s, e, k in spans if s <= a and b <= e)))
    return out


def formal_on(view: RunView, idea_id: str) -> list[FormalEvidence]:
    """Formal results on the idea's claims (claims support the idea; results formalise the claims)."""
    claims = [s for s, d, k in view.edges if d == idea_id and k == "supports" and view.nodes[s]["kind"] == "claim"]
    out = []
    for claim in claims:
        for n in sorted(view.nodes.values(), key=lambda n: n["seq"]):
            if n["kind"] != "formal_result" or n["data"].get("claim") != claim:
                continue
            d = n["data"]
            out.append(FormalEvidence(id=n["id"], claim_id=claim,
                                      claim_text=str(d.get("claim_text") or view.nodes[claim]["text"]),
                                      verdict=str(d.get("verdict", "unknown")), prover=str(d.get("prover", "")),
                                      detail=str(d.get("detail", "")),
                                      checks=[c for c in d.get("checks") or [] if isinstance(c, dict)],
                                      counterexample=d.get("counterexample"), smtlib=str(d.get("smtlib") or ""),
                                      lean=str(d.get("lean") or "")))
    return out


def idea_evidence(view: RunView, idea: dict[str, Any]) -> IdeaEvidence:
    node = view.nodes[idea["id"]]
    attackers = sorted({s for s, d, k in view.edges if d == idea["id"] and k == "attacks"
                        and view.nodes[s]["kind"] in ("critique", "human_note")},
                       key=lambda n: view.nodes[n]["seq"])[:MAX_CRITIQUES]
    critiques, spans = [], []
    latest, rebuttals = latest_rulings(view), rebuttals_by_target(view)
    for k, cid in enumerate(attackers, 1):
        c = view.nodes[cid]
        d = c["data"]
        anchor = str(d.get("anchor") or "")
        found = locate(anchor, node["text"]) if anchor else None
        hit = bool(found and found.match != "none")
        if hit:
            spans.append((found.start, found.end, k))
        critiques.append(CritiqueEvidence(
            number=k, id=cid, persona=c["persona"], text=c["text"], kind=c["kind"],
            critique_kind=str(d.get("critique_kind") or ""), flaw_type=str(d.get("flaw_type") or ""),
            severity=str(d.get("severity") or ""), anchor=anchor, anchor_found=hit,
            counted=(cid, idea["id"]) not in view.discounted, status=c["status"],
            cites=[x for x in d.get("cites") or [] if isinstance(x, dict)], rebuttals=rebuttals.get(cid, []),
            ruling=ruling_for(view, cid, latest)))
    ev = IdeaEvidence(id=idea["id"], title=node["title"], text=node["text"], status=idea["status"],
                      override=idea.get("override"), segments=_segments(node["text"], spans), critiques=critiques,
                      formal=formal_on(view, idea["id"]), why="")
    ev.why = why_status(view, idea, ev)
    return ev


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


_WHY_KIND = {"critique": "{critique}, anchored in its text and serious enough to count, that nothing defeats",
             "formal_result": "a machine-checked refutation of its claim",
             "human_note": "a human intervention that nothing answers"}


def _shot_down_by(view: RunView, attackers: list[str]) -> str:
    """'2 sustained critiques … (A; B) and a human intervention … (C)': attackers grouped by what they are."""
    groups: dict[str, list[str]] = {}
    for a in attackers:
        kind = view.nodes[a]["kind"]
        groups.setdefault(kind if kind in _WHY_KIND else "critique", []).append(a)
    phrases = []
    for kind, ids in groups.items():
        what = _WHY_KIND[kind].format(critique=f"{len(ids)} sustained critiques" if len(ids) > 1
                                      else "a sustained critique")
        phrases.append(f"{what} ({'; '.join(describe(view, i, 60) for i in ids[:3])}"
                       + (f"; and {len(ids) - 3} more" if len(ids) > 3 else "") + ")")
    return " and ".join(phrases)


def why_status(view: RunView, idea: dict[str, Any], ev: IdeaEvidence) -> str:
    """One plain sentence: the reason the semantics gave this idea its status."""
    if ev.override:
        return (f"A reviewer pinned this idea as {ev.override}, so it is {status_word(ev.status)} whatever the "
                "debate says.")
    counted = [c for c in ev.critiques if c.counted]
    live = [c for c in counted if c.status == "standing"]
    refuted = [f for f in ev.formal if f.verdict == "refuted"]
    if ev.status == "shot_down":
        by = idea.get("shot_down_by") or [c.id for c in live]
        if not by:
            return "Shot down: an attack on it stands" + (" and a claim of it was refuted" if refuted else "") + "."
        return "Shot down by " + _shot_down_by(view, by) + "."
    uncounted = len(ev.critiques) - len(counted)
    not_counted = (f" {_count(uncounted, 'other critique')} did not count (overruled, still pending or only minor)."
                   if uncounted else "")
    if ev.status == "standing":
        if not counted:
            base = ("Standing: nothing that counts attacks it." if ev.critiques else
                    "Standing: no critique attacks it.")
            if not idea.get("examined", True):
                base += " Too few critics examined it, so it stands by default."
            return base + not_counted
        return ("Standing: each counted attack on it (" + _count(len(counted), "critique")
                + ") is itself defeated by a ruling or a rebuttal." + not_counted)
    contested = [c for c in ev.critiques if c.ruling and c.ruling.outcome == "contested"]
    if contested:
        return ("Undecided: the jury could not settle " + _count(len(contested), "critique") + " against it ("
                + "; ".join(describe(view, c.id, 50) for c in contested[:2]) + "), so neither side wins."
                + not_counted)
    if counted:
        return ("Undecided: its attackers and their answers attack each other in a cycle, so the grounded "
                "semantics settles neither." + not_counted)
    return "Undecided: nothing decided it either way." + not_counted
