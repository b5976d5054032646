"""Analysis of a finished argument graph, as pure functions: Elo ranking, cruxes, per-persona stats, the panel's
aggregate verdict and the diversity of the panel's ideas. `gauntlet show --json` prints `summary()`.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from gauntlet.graphs.argument.argument_graph import ArgumentGraph, ArgNode
from gauntlet.graphs.argument.cruxes import flips
from gauntlet.graphs.argument.framework import AF
from gauntlet.graphs.argument.semantics import IN, OUT, UNDEC

ELO_START = 1500.0
ELO_K = 32.0
Embed = Callable[[Sequence[str]], np.ndarray]
_STATUS = {"in": "standing", "out": "shot_down", "undec": "undecided"}


def owner(n: ArgNode) -> str:
    return n.data.get("champion") or n.persona


def top_ideas(graph: ArgumentGraph) -> list[ArgNode]:
    """Ideas still on the table: not replaced by a revision."""
    revised = {e.dst for e in graph.edges if e.kind == "refines"}
    return [n for n in graph.ideas() if n.id not in revised]


# --- tournament ranking ---------------------------------------------------------------------------------------
def matches(graph: ArgumentGraph) -> list[dict[str, Any]]:
    """Match decisions (tournament judgement nodes) in the order they count for Elo."""
    found = [dict(n.data["match"], node=n.id, seq=n.seq) for n in graph.nodes.values()
             if n.kind == "judgement" and isinstance(n.data.get("match"), dict)]
    found = [m for m in found if m.get("winner") in graph.nodes and m.get("loser") in graph.nodes]
    return sorted(found, key=lambda m: (m.get("round", 0), m.get("index", 0), m["node"]))


def elo_update(ra: float, rb: float, score_a: float, k: float = ELO_K) -> tuple[float, float]:
    """Standard Elo: expected score from the rating gap on a 400-point logistic scale, then a K-step."""
    expected_a = 1.0 / (1.0 + 10 ** ((rb - ra) / 400.0))
    delta = k * (score_a - expected_a)
    return ra + delta, rb - delta


def elo(graph: ArgumentGraph, k: float = ELO_K, start: float = ELO_START) -> dict[str, float]:
    """Ratings after replaying every match in order (ideas that never played are absent)."""
    ratings: dict[str, float] = {}
    for m in matches(graph):
        w, lo = m["winner"], m["loser"]
        ratings.setdefault(w, start)
        ratings.setdefault(lo, start)
        # A tie (the judge's answers disagreed when the match was asked in both orders) scores half each.
        ratings[w], ratings[lo] = elo_update(ratings[w], ratings[lo], 0.5 if m.get("tie") else 1.0, k)
    return ratings


def ranking(graph: ArgumentGraph) -> list[dict[str, Any]]:
    """Ideas best first: by Elo where a tournament ran, else by the judge's latest score."""
    ratings = elo(graph)
    record: dict[str, list[int]] = {}
    ties: dict[str, int] = {}
    for m in matches(graph):
        if m.get("tie"):  # neither a win nor a loss
            for x in (m["winner"], m["loser"]):
                ties[x] = ties.get(x, 0) + 1
            continue
        record.setdefault(m["winner"], [0, 0])[0] += 1
        record.setdefault(m["loser"], [0, 0])[1] += 1
    scores = graph.scores()
    rows = []
    for n in top_ideas(graph):
        wins, losses = record.get(n.id, [0, 0])
        rows.append({"id": n.id, "title": n.title, "persona": owner(n), "status": graph.status(n.id),
                     "elo": round(ratings[n.id], 1) if n.id in ratings else None, "wins": wins, "losses": losses,
                     "ties": ties.get(n.id, 0),
                     "score": scores.get(n.id)})

    def key(r: dict[str, Any]) -> tuple:
        return (-(r["elo"] if r["elo"] is not None else -1e9), -(r["score"] or 0), r["id"])

    rows.sort(key=key)
    for i, r in enumerate(rows, 1):
        r["rank"] = i
    return rows


# --- cruxes ---------------------------------------------------------------------------------------------------
def cruxes(graph: ArgumentGraph, limit: int = 50) -> list[dict[str, Any]]:
    """Nodes whose label, if flipped (accepted → rejected, or rejected/undecided → accepted, by pinning it in the
    grounded semantics), would change the status of a top-level idea. Each candidate is decided on the part of
    the graph it reaches (cruxes.py), not by a full recomputation."""
    ideas = [n.id for n in top_ideas(graph)]
    if not ideas:
        return []
    af = AF.from_pairs(list(graph.nodes), graph.attacks)
    pin_in, pin_out = af.pin_indices(graph.fixed())
    found = flips(af.n, af.src, af.dst, pin_in, pin_out, [af.index_of(i) for i in ideas])
    base = graph.labelling
    label_name = {IN: "in", OUT: "out", UNDEC: "undec"}
    out = []
    for x, (flipped, changed) in found.items():
        nid = af.name(x)
        n = graph.nodes[nid]
        flip_rows = [{"idea": af.name(i), "from": _STATUS[base.label(af.name(i))], "to": _STATUS[label_name[lab]]}
                     for i, lab in changed.items()]
        flip_rows.sort(key=lambda f: ideas.index(f["idea"]))
        out.append({"id": nid, "kind": n.kind, "persona": n.persona, "title": n.title, "text": n.text,
                    "status": _STATUS[base.label(nid)], "if": "accepted" if flipped == IN else "rejected",
                    "flips": flip_rows})
    out.sort(key=lambda c: (-len(c["flips"]), graph.nodes[c["id"]].seq, c["id"]))
    return out[:limit]


# --- per-persona stats ---------------------------------------------------------------------------------------
def persona_stats(graph: ArgumentGraph) -> list[dict[str, Any]]:
    """Per persona: ideas owned, ideas still standing, attacks made and landed (the attacker is accepted, so its
    target is rejected), supports given, and passages cited."""
    lab = graph.labelling
    live = {n.id for n in top_ideas(graph)}
    stats: dict[str, dict[str, Any]] = {}

    def row(p: str) -> dict[str, Any]:
        return stats.setdefault(p, {"persona": p, "ideas": 0, "ideas_standing": 0, "attacks": 0,
                                    "attacks_landed": 0, "supports": 0, "citations": 0, "stances_cited": 0})

    for n in graph.nodes.values():
        if n.kind == "idea":
            r = row(owner(n))
            r["ideas"] += 1
            if n.id in live and lab.label(n.id) == "in":
                r["ideas_standing"] += 1
        elif n.persona and n.persona != "seed":
            r = row(n.persona)
            r["citations"] += len(n.data.get("citations") or [])
            r["stances_cited"] += len(n.data.get("stances_cited") or [])  # a clone citing its own positions
    for e in graph.edges:
        src = graph.nodes[e.src]
        if not src.persona or src.persona == "seed" or src.kind == "idea":
            continue
        r = row(src.persona)
        if e.kind == "attacks":
            r["attacks"] += 1
            if lab.label(e.src) == "in":
                r["attacks_landed"] += 1
        elif e.kind == "supports":
            r["supports"] += 1
    return sorted((s for s in stats.values() if s["persona"]), key=lambda s: s["persona"])


# --- aggregate verdict ---------------------------------------------------------------------------------------
def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _stances(graph: ArgumentGraph, idea: str) -> dict[str, list[int]]:
    """Each panellist's [supports, attacks] on an idea, its math claims and its defenders' rebuttals."""
    about = {idea} | {e.src for e in graph.edges if e.dst == idea and e.kind == "supports"
                      and graph.nodes[e.src].kind in ("claim", "rebuttal")}
    out: dict[str, list[int]] = {}
    for e in graph.edges:
        src = graph.nodes[e.src]
        if e.dst in about and e.kind in ("supports", "attacks") and src.kind == "critique" and src.persona:
            out.setdefault(src.persona, [0, 0])[0 if e.kind == "supports" else 1] += 1
    for m in matches(graph):
        if idea in (m["winner"], m["loser"]) and not m.get("tie"):
            judge = graph.nodes[m["node"]].persona
            out.setdefault(judge, [0, 0])[0 if m["winner"] == idea else 1] += 1
    return out


def aggregate(graph: ArgumentGraph) -> list[dict[str, Any]]:
    """The panel's verdict on each idea beside the single judge's.

    Each panellist's evidence becomes a probability that the idea is sound: the judge's latest score s (1–10) as
    (s − 0.5)/10, and every other panellist's supports/attacks on it (and match decisions) by Laplace's rule
    (supports + 1)/(n + 2), which never says 0 or 1 from a few votes. Authors do not vote on their own ideas.
    The probabilities are pooled by averaging log-odds (the geometric mean of odds): logarithmic pooling is
    externally Bayesian and, unlike averaging probabilities, does not drag confident agreement toward 0.5. We do
    not extremise the pool, because the panellists all read the same debate: their evidence overlaps, and
    extremising is only calibrated for forecasters with independent information.
    """
    scores = {}
    judge_of: dict[str, str] = {}
    for n in sorted(graph.nodes.values(), key=lambda n: n.seq):
        if n.kind == "judgement":
            for s in n.data.get("scores", []):
                scores[s.get("target")] = float(s.get("score", 0))
                judge_of[s.get("target")] = n.persona
    out = []
    for idea in top_ideas(graph):
        votes: dict[str, float] = {}
        for who, (sup, att) in _stances(graph, idea.id).items():
            if who != owner(idea):
                votes[who] = (sup + 1) / (sup + att + 2)
        judge_p = None
        if idea.id in scores:
            judge_p = min(max((scores[idea.id] - 0.5) / 10, 0.01), 0.99)
            votes[judge_of[idea.id] or "judge"] = judge_p
        pooled = None
        if votes:
            pooled = 1 / (1 + math.exp(-sum(_logit(p) for p in votes.values()) / len(votes)))
        out.append({"id": idea.id, "title": idea.title, "status": graph.status(idea.id),
                    "judge": None if judge_p is None else {"score": scores[idea.id], "p": round(judge_p, 3)},
                    "panel": None if pooled is None else {"p": round(pooled, 3), "voters": len(votes),
                                                          "verdict": "sound" if pooled >= 0.5 else "unsound"},
                    "votes": {k: round(v, 3) for k, v in sorted(votes.items())}})
    return out


# --- diversity ------------------------------------------------------------------------------------------------
def diversity(graph: ArgumentGraph, embed: Embed) -> dict[str, Any]:
    """Mean pairwise cosine distance between the embeddings of the panel's ideas (title + claim). Seed proposals
    count only when the panel proposed fewer than two ideas of its own; `scope` says which were used."""
    panel = [n for n in graph.ideas() if n.persona != "seed"]
    scope, ideas = ("panel", panel) if len(panel) >= 2 else ("all", graph.ideas())
    if len(ideas) < 2:
        return {"mean_cosine_distance": None, "ideas": len(ideas), "scope": scope}
    return {**_pairwise(ideas, [f"{n.title}. {n.text}" for n in ideas], embed), "ideas": len(ideas), "scope": scope}


def critique_diversity(graph: ArgumentGraph, embed: Embed) -> dict[str, Any]:
    """The same distance over the critiques' texts: for a panel of many clones (of several researchers, or of
    one at several seeds) critiques are where the clones differ, so this says how much they do."""
    crits = [n for n in graph.nodes.values() if n.kind == "critique" and n.text]
    if len(crits) < 2:
        return {"mean_cosine_distance": None, "critiques": len(crits)}
    return {**_pairwise(crits, [n.text for n in crits], embed), "critiques": len(crits)}


def _pairwise(nodes: list[ArgNode], texts: list[str], embed: Embed) -> dict[str, Any]:
    vecs = np.asarray(embed(texts), dtype=np.float64)
    vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
    sims = vecs @ vecs.T
    iu = np.triu_indices(len(nodes), k=1)
    dist = 1.0 - sims[iu]
    by_persona: dict[str, list[float]] = {}
    for (i, j), d in zip(zip(*iu), dist):
        for k in (i, j):
            by_persona.setdefault(owner(nodes[k]), []).append(float(d))
    return {"mean_cosine_distance": round(float(dist.mean()), 4), "min": round(float(dist.min()), 4),
            "by_persona": {p: round(sum(v) / len(v), 4) for p, v in sorted(by_persona.items())}}


def summary(graph: ArgumentGraph, embed: Embed | None) -> dict[str, Any]:
    """The analysis block of `gauntlet show --json`."""
    if embed is None:
        div: dict[str, Any] = {"mean_cosine_distance": None, "error": "local embedding model not installed"}
    else:
        div = {**diversity(graph, embed), "critiques": critique_diversity(graph, embed)}
    return {"ranking": ranking(graph), "cruxes": cruxes(graph), "diversity": div,
            "persona_stats": persona_stats(graph), "aggregate": aggregate(graph)}
