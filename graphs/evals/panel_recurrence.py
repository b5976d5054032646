"""Recurrence across repeated runs: the same proposal, run again with another seed, draws sustained
critiques again; an objection that comes back in another seed's run is a reliable one, a one-off may be noise.

Two sustained critiques of one case from runs with different seeds *recur* when they matched the same known flaw
(no extra call), or when the panel evaluation's narrow judge says one states the other's objection (one yes/no
call per pair, pre-filtered by embedding similarity; graphs/evals/flaw_judge.py). Pure functions except
`recurrence`, which makes those calls.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

from gauntlet.agents.llm import LLM
from gauntlet.graphs.evals.flaw_judge import Similarity, candidate_pairs, critique_words, states
from gauntlet.graphs.evals.panel_cases import PanelCase

Key = tuple[int, str]  # (seed, critique id): one sustained critique of one run


def flaw_links(matches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pairs of flaw matches of one case, from different seeds, on the same known flaw: they recur."""
    by_flaw: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for m in matches:
        by_flaw.setdefault((m["case"], m["flaw_index"]), []).append(m)
    return [{"case": case, "a": [a["seed"], a["critique"]], "b": [b["seed"], b["critique"]],
             "via": f"known flaw {i}", "evidence": ""}
            for (case, i), ms in by_flaw.items() for a, b in combinations(ms, 2) if a["seed"] != b["seed"]]


def recurring_keys(links: list[dict[str, Any]]) -> set[Key]:
    return {(int(end[0]), str(end[1])) for link in links for end in (link["a"], link["b"])}


def judge_pairs(sustained: dict[int, list[dict[str, Any]]], known: set[Key],
                similarity: Similarity | None) -> list[tuple[int, int, int, int, float | None]]:
    """(seed s, index in s, seed t, index in t, similarity) for s < t: each critique of s's run against its most
    similar critiques in t's run (the flaw pre-filter), skipping pairs whose two critiques already recur."""
    out = []
    for s, t in combinations(sorted(sustained), 2):
        mine, theirs = sustained[s], sustained[t]
        for i, j, sim in candidate_pairs([critique_words(c) for c in mine], theirs, similarity):
            if (s, mine[i]["id"]) in known and (t, theirs[j]["id"]) in known:
                continue
            out.append((s, i, t, j, sim))
    return out


async def recurrence(llm: LLM, case: str, sustained: dict[int, list[dict[str, Any]]], matches: list[dict[str, Any]],
                     similarity: Similarity | None, seed: int) -> tuple[list[dict[str, Any]], int]:
    """The links between one case's sustained critiques across seeds, and the tokens the judge spent on them."""
    links = flaw_links([m for m in matches if m["case"] == case])
    known = recurring_keys(links)
    tokens = 0
    for s, i, t, j, sim in judge_pairs(sustained, known, similarity):
        a, b = sustained[s][i], sustained[t][j]
        if (s, a["id"]) in known and (t, b["id"]) in known:
            continue  # linked by an earlier answer in this loop
        fm, spent = await states(llm, critique_words(a), b, seed + 7919 * (s + 1) + 101 * i + 13 * t + j)
        tokens += spent
        if fm is not None and fm.states_flaw:
            links.append({"case": case, "a": [s, a["id"]], "b": [t, b["id"]], "via": "judge", "similarity": sim,
                          "evidence": fm.evidence[:200]})
            known |= {(s, a["id"]), (t, b["id"])}
    return links, tokens


def flaw_seeds(cases: list[PanelCase], seeds: list[int], matches: list[dict[str, Any]],
               recurring: set[Key]) -> list[dict[str, Any]]:
    """Per known flaw: the seeds whose run stated it (a sustained critique matched it), and whether a critique
    that recurs across seeds did."""
    out = []
    for c in cases:
        for i, flaw in enumerate(c.known_flaws):
            hits = [m for m in matches if m["case"] == c.id and m["flaw_index"] == i]
            out.append({"case": c.id, "flaw_index": i, "flaw": flaw,
                        "seeds": sorted({m["seed"] for m in hits}), "of_seeds": len(seeds),
                        "by_recurring": any((m["seed"], m["critique"]) in recurring for m in hits)})
    return out


def recurring_recall(cases: list[PanelCase], per_flaw: list[dict[str, Any]], n_seeds: int) -> float | None:
    """Share of the flawed cases' known flaws stated by a sustained critique that recurs in another seed's run;
    None with fewer than two seeds (nothing can recur)."""
    flawed = {c.id for c in cases if not c.sound}
    rows = [f for f in per_flaw if f["case"] in flawed]
    if n_seeds < 2 or not rows:
        return None
    return round(sum(f["by_recurring"] for f in rows) / len(rows), 3)
