"""Recurring critiques across sibling runs, as pure functions: the same proposal debated again with
another seed draws sustained critiques again, and an objection that comes back is a more reliable one.

Two sustained critiques recur when they attack the same words of the same text (their verbatim anchors overlap
in a target whose text is identical after normalising whitespace and case) and name the same flaw type. No model
call: a person can check it by reading the two anchors. (`gauntlet eval panel --seeds` matches more finely, with
its narrow yes/no judge; graphs/evals/panel_recurrence.py.)
"""

from __future__ import annotations

from typing import Any

from gauntlet.graphs.argument.anchors import locate
from gauntlet.graphs.argument.rulings import attack_fields


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def sustained(graph: Any) -> list[dict[str, Any]]:
    """The run's sustained critiques whose attack counts: id, persona, flaw type, anchor and the target's text."""
    out = []
    for e in graph.edges:
        src = graph.nodes[e.src]
        if e.kind != "attacks" or src.kind != "critique":
            continue
        f = attack_fields(src, e.dst, graph.rulings)
        if f.get("ruling") == "sustained" and f.get("counts"):
            out.append({"id": src.id, "persona": src.persona, "flaw_type": f["flaw_type"], "anchor": f["anchor"],
                        "target_text": graph.nodes[e.dst].text})
    return out


def same_objection(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Same target text, same flaw type, overlapping anchors."""
    if a["flaw_type"] != b["flaw_type"] or _norm(a["target_text"]) != _norm(b["target_text"]):
        return False
    x, y = locate(a["anchor"], a["target_text"]), locate(b["anchor"], a["target_text"])
    return x.match != "none" and y.match != "none" and max(x.start, y.start) < min(x.end, y.end)


def recurs_in(mine: list[dict[str, Any]], siblings: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    """critique id → the sibling runs with a sustained critique making the same objection (recurring ones only)."""
    out: dict[str, list[str]] = {}
    for c in mine:
        runs = [run for run, theirs in siblings.items() if any(same_objection(c, t) for t in theirs)]
        if runs:
            out[c["id"]] = runs
    return out
