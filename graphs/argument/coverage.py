"""Was each idea examined? Critique coverage read from the argument graph, as pure functions.

An idea nobody critiqued stands by default in Dung semantics, which says nothing about its merit. So beside its
status every idea carries `critics` (the distinct personas whose critiques it received) and `examined` (it met the
run's coverage rule: `min_critics_per_idea` distinct critics, or fewer only when the panel without the idea's owner
is smaller). Where the run rules critiques, meeting the rule is not enough: every anchored critique of the
idea must also carry a ruling on which at least one juror cast a vote, because an unruled critique defeats nothing
and the idea would stand only for want of a verdict; `unruled` names those critiques. `show`, exports and the
dashboard mark an unexamined standing idea as such, and `summary` says why coverage is incomplete (a budget ended
first, the idea came after the last critique round, critics did not deliver, critiques not ruled).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from gauntlet.graphs.argument.analysis import owner
from gauntlet.graphs.argument.argument_graph import ArgumentGraph

DEFAULT_MIN_CRITICS = 2


@dataclass(frozen=True)
class CoverageRule:
    min_critics: int = DEFAULT_MIN_CRITICS
    critics: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> "CoverageRule":
        """The rule of a stored run's config (runs from before the rule existed get the default)."""
        config = config or {}
        panel = config.get("panel") or {}
        return cls(int(config.get("min_critics_per_idea") or DEFAULT_MIN_CRITICS), tuple(panel.get("critics") or ()))

    def required(self, owner: str) -> int:
        return min(self.min_critics, len(set(self.critics) - {owner}))


def critiques_by_idea(graph: ArgumentGraph) -> dict[str, list[str]]:
    """Idea id → the persona of every critique aimed at it, in the order they were made."""
    out: dict[str, list[str]] = {n.id: [] for n in graph.ideas()}
    for n in sorted(graph.nodes.values(), key=lambda n: (n.seq, n.id)):
        target = n.data.get("target")
        if n.kind == "critique" and target in out and n.persona:
            out[target].append(n.persona)
    return out


def anchored_critiques(graph: ArgumentGraph) -> dict[str, list[str]]:
    """Idea id → its anchored critiques: those written for rulings (they carry a `severity`) whose `attacks` edge
    reaches the idea they name as target (an unanchored one is a comment and needs no ruling)."""
    out: dict[str, list[str]] = {n.id: [] for n in graph.ideas()}
    for e in graph.edges:
        src = graph.nodes[e.src]
        if (e.kind == "attacks" and src.kind == "critique" and "severity" in src.data
                and src.data.get("target") == e.dst and e.dst in out):
            out[e.dst].append(src.id)
    return out


def rulings_apply(graph: ArgumentGraph) -> bool:
    """Whether the run rules critiques: it holds a ruling, or a critique written to be ruled (only protocols with
    a ruling step write `severity`). Runs without rulings (tournament, deconfusion, older runs) use coverage alone."""
    return any(n.kind == "ruling" or (n.kind == "critique" and "severity" in n.data) for n in graph.nodes.values())


def unruled_critiques(graph: ArgumentGraph) -> dict[str, list[str]]:
    """Idea id → its anchored critiques without a ruling on which some juror voted (no ruling yet, or every juror
    failed or only restated the critique: such a ruling is `contested` by default, not a verdict)."""
    ruled = {c for c, r in graph.rulings.items() if r.get("votes")}
    return {i: [c for c in cs if c not in ruled] for i, cs in anchored_critiques(graph).items()}


def is_examined(critics: int, required: int, unruled: int, rulings: bool) -> bool:
    """The coverage rule (at least one critic even when the panel has no one else), and, where the run rules
    critiques, no anchored critique left unruled."""
    return critics >= max(required, 1) and not (rulings and unruled)


def ideas_coverage(graph: ArgumentGraph, rule: CoverageRule) -> dict[str, dict[str, Any]]:
    """Per idea: `critics` (distinct, first-critique order), `critiques`, `required`, `unruled` (anchored critiques
    still awaiting a ruling; always empty in a run without rulings), `examined`, `defender`."""
    got = critiques_by_idea(graph)
    rulings = rulings_apply(graph)
    pending = unruled_critiques(graph) if rulings else {}
    out = {}
    for n in graph.ideas():
        critics = list(dict.fromkeys(got[n.id]))
        who = owner(n)
        need = rule.required(who)
        unruled = pending.get(n.id, [])
        out[n.id] = {"critics": critics, "critiques": len(got[n.id]), "required": need, "unruled": unruled,
                     "examined": is_examined(len(critics), need, len(unruled), rulings), "defender": who}
    return out


def summary(graph: ArgumentGraph, rule: CoverageRule, *, stopped_by: str | None = None) -> dict[str, Any]:
    """Coverage figures of a run: min/mean critics and critiques per idea, the share examined, and each unexamined
    idea with the reason."""
    per = ideas_coverage(graph, rule)
    last_critique = max((n.seq for n in graph.nodes.values() if n.kind == "critique"), default=0)
    unexamined = []
    for n in graph.ideas():
        c = per[n.id]
        if c["examined"]:
            continue
        short = len(c["critics"]) < max(c["required"], 1)
        if stopped_by:
            why = f"the budget ended ({stopped_by}) before its critiques" + ("" if short else " were ruled")
        elif short and n.seq > last_critique:
            why = "added after the last critique round (e.g. a final-round revision)"
        elif short:
            why = "its critics did not deliver the allocated critiques"
        else:
            why = "critiques not ruled: " + ", ".join(c["unruled"])
        unexamined.append({"id": n.id, "critics": len(c["critics"]), "required": c["required"],
                           "unruled": c["unruled"], "status": graph.status(n.id), "why": why})
    # Ideas on the table when critique work was last allocated: the ones the allocation is answerable for.
    allocated = [n.id for n in graph.ideas() if n.seq < last_critique]
    late = {u["id"] for u in unexamined if graph.nodes[u["id"]].seq > last_critique}
    counts = [len(c["critics"]) for c in per.values()]
    crits = [c["critiques"] for c in per.values()]
    n = len(per)
    # Met the coverage rule, whatever the rulings: beside `examined`, it tells a missing critic from a missing ruling.
    covered = sum(len(c["critics"]) >= max(c["required"], 1) for c in per.values())
    doc: dict[str, Any] = {
        "min_critics_per_idea": rule.min_critics, "rulings": rulings_apply(graph), "ideas": n,
        "examined": n - len(unexamined),
        "examined_share": round((n - len(unexamined)) / n, 4) if n else None,
        "covered": covered, "covered_share": round(covered / n, 4) if n else None,
        "critics_per_idea": {"min": min(counts, default=0), "mean": round(sum(counts) / n, 3) if n else None},
        "critiques_per_idea": {"min": min(crits, default=0), "mean": round(sum(crits) / n, 3) if n else None},
        "complete": not unexamined, "unexamined": unexamined,
        "allocated": {"ideas": len(allocated),
                      "examined_share": round(sum(per[i]["examined"] for i in allocated) / len(allocated), 4)
                      if allocated else None,
                      "min_critics": min((len(per[i]["critics"]) for i in allocated), default=0)},
        "added_after_last_critique": len(late)}
    if unexamined:
        want_ruling = sum(1 for u in unexamined if u["critics"] >= max(u["required"], 1))
        doc["note"] = (f"{len(unexamined)} of {n} ideas unexamined"
                       + (f": the budget ended ({stopped_by}) before coverage was met" if stopped_by else "")
                       + (f"; {want_ruling} of them met the coverage rule but have critiques no juror ruled on"
                          if want_ruling else ""))
    return doc


def critique_counts(graph: ArgumentGraph) -> dict[str, dict[str, Any]]:
    """Per persona: critiques given and received (on ideas it defends), each also broken down by idea."""
    out: dict[str, dict[str, Any]] = {}

    def row(p: str) -> dict[str, Any]:
        return out.setdefault(p, {"critiques_given": 0, "critiques_received": 0, "given_by_idea": {},
                                  "received_by_idea": {}})

    for idea_id, critics in critiques_by_idea(graph).items():
        idea = graph.nodes[idea_id]
        defender = owner(idea)
        for critic in critics:
            g = row(critic)
            g["critiques_given"] += 1
            g["given_by_idea"][idea_id] = g["given_by_idea"].get(idea_id, 0) + 1
            if defender:
                r = row(defender)
                r["critiques_received"] += 1
                r["received_by_idea"][idea_id] = r["received_by_idea"].get(idea_id, 0) + 1
    return out


def status_mark(status: str, examined: bool) -> str:
    """The words shown for an idea's status: a standing idea nobody examined is not a survivor."""
    return f"{status} (unexamined)" if status == "standing" and not examined else status
