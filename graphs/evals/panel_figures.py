"""The panel eval's configuration and figures (pure): each case's run config and defender, the sustained
critiques a run ended with, and the figures over the runs: flaw recall over the flawed cases, false shoot-down rate
over the sound ones, unmatched sustained critiques, and with several seeds the recall of recurring critiques
(graphs/evals/panel_recurrence.py). The runs themselves are made by graphs/evals/panel.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from gauntlet.config import RunConfig, SeedProposal
from gauntlet.graphs.argument.rulings import attack_fields
from gauntlet.graphs.evals import panel_recurrence as recur
from gauntlet.graphs.evals.panel_cases import PanelCase
from gauntlet.graphs.store.store import Store


@dataclass
class RunResult:
    """One run of one case (one seed, one arm)."""
    case: str
    run_id: str
    shot_down: bool
    sustained: list[dict[str, Any]]
    stats: dict[str, Any] = field(default_factory=dict)
    status: str = ""  # standing | shot_down | undecided (an abstention: e.g. every ruling contested)


def defender(base: RunConfig) -> str | None:
    """Who defends each case: the champion the config's seed proposal names, else (with no proposers) its last
    critic. Fixed per evaluation so that every arm and seed has the same defender, and never the baseline's critic
    (a critic who defends an idea does not critique it); None leaves it to the protocol (proposers defend)."""
    named = base.seed_proposals[0].champion if base.seed_proposals else None
    if named:
        return named
    return None if base.panel.proposers else base.panel.critics[-1]


def baseline_critics(base: RunConfig) -> list[str]:
    """The single-critic arm: the first critic who is not the defender (the defender stays on the panel to
    defend, and critiques nothing: its only idea is the case it defends)."""
    who = defender(base)
    first = next(c for c in base.panel.critics if c != who)
    return [first] + ([who] if who in base.panel.critics else [])


def case_config(base: RunConfig, case: PanelCase, critics: list[str] | None = None,
                seed: int | None = None) -> RunConfig:
    """The configured run with the case as its one seed proposal, defended by `defender(base)` (for the
    baseline, fewer critics; for a repeat, another run seed)."""
    proposal = SeedProposal(title=case.title or case.id, claim=case.proposal, champion=defender(base))
    panel = base.panel.model_copy(update={"critics": critics or list(base.panel.critics)})
    return base.model_copy(update={"seed_proposals": [proposal], "panel": panel,
                                   "seed": base.seed if seed is None else seed})


def sustained_critiques(graph: Any) -> list[dict[str, Any]]:
    """Critiques whose attack counts and was sustained, with what a reader needs to judge them."""
    out = []
    for e in graph.edges:
        if e.kind != "attacks":
            continue
        n = graph.nodes[e.src]
        f = attack_fields(n, e.dst, graph.rulings)
        if n.kind == "critique" and f.get("ruling") == "sustained" and f.get("counts"):
            out.append({"id": n.id, "persona": n.persona, "target": e.dst, "text": n.text, **f})
    return out


def score(cases: list[PanelCase], results: dict[str, RunResult],
          matches: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures: flaw recall over the flawed cases, false shoot-down rate over the sound ones, the sustained
    critiques that match no known flaw, and for each found flaw how many critics stated it (recurring)."""
    flawed = [c for c in cases if not c.sound]
    sound = [c for c in cases if c.sound]
    total = sum(len(c.known_flaws) for c in flawed)
    found: dict[tuple[str, int], set[str]] = {}
    for m in matches:
        found.setdefault((m["case"], m["flaw_index"]), set()).add(m["persona"])
    matched_ids = {(m["case"], m["critique"]) for m in matches}
    return {
        "flaw_recall": round(sum(1 for c in flawed for i in range(len(c.known_flaws)) if (c.id, i) in found)
                             / total, 3) if total else None,
        "flaws": total,
        "flaws_found": len([k for k in found if k[0] in {c.id for c in flawed}]),
        "false_shootdown_rate": round(sum(results[c.id].shot_down for c in sound) / len(sound), 3)
                                if sound else None,
        "shot_down_flawed": sum(results[c.id].shot_down for c in flawed),
        "unmatched_sustained": [{"case": r.case, **{k: s[k] for k in ("id", "persona", "anchor", "flaw_type",
                                                                       "severity", "text")}}
                                for r in results.values() for s in r.sustained if (r.case, s["id"]) not in matched_ids],
        "recurring_flaws": [{"case": case, "flaw_index": i, "critics": sorted(who)}
                            for (case, i), who in found.items() if len(who) > 1],
    }


def run_cost(store: Store, run_id: str) -> dict[str, Any]:
    calls = [json.loads(e.payload) for e in store.events(run_id, kinds=("llm_call",))]
    rule = [c for c in calls if c["phase"] == "rule"]
    return {"calls": len(calls), "tokens": sum(c["prompt_tokens"] + c["completion_tokens"] for c in calls),
            "ruling_calls": len(rule), "ruling_tokens": sum(c["prompt_tokens"] + c["completion_tokens"] for c in rule),
            "ruling_s": round(sum(c["latency_s"] for c in rule), 2)}


def pooled(cases: list[PanelCase], seeds: list[int], runs: dict[int, dict[str, RunResult]],
           matches: list[dict[str, Any]], recurring: set[recur.Key]) -> dict[str, Any]:
    """The figures over every (case, seed) run: with one seed exactly `score`'s; with several, flaws and
    flaws_found count (known flaw, seed) pairs, and each match and unmatched critique says whether it recurs."""
    per_seed = {s: score(cases, runs[s], [m for m in matches if m["seed"] == s]) for s in seeds}
    flawed = [c for c in cases if not c.sound]
    sound_runs = [runs[s][c.id].shot_down for s in seeds for c in cases if c.sound]
    total = sum(p["flaws"] for p in per_seed.values())
    found = sum(p["flaws_found"] for p in per_seed.values())
    per_flaw = recur.flaw_seeds(flawed, seeds, matches, recurring)
    return {
        "flaw_recall": round(found / total, 3) if total else None,
        "flaws": total, "flaws_found": found,
        "flaw_recall_any_seed": (round(sum(bool(f["seeds"]) for f in per_flaw) / len(per_flaw), 3)
                                 if per_flaw else None),
        "recurring_flaw_recall": recur.recurring_recall(cases, per_flaw, len(seeds)),
        "false_shootdown_rate": round(sum(sound_runs) / len(sound_runs), 3) if sound_runs else None,
        "shot_down_flawed": sum(runs[s][c.id].shot_down for s in seeds for c in flawed),
        # Abstentions: runs whose case ended undecided (a contested ruling left it open), flawed and sound.
        "undecided_flawed": sum(runs[s][c.id].status == "undecided" for s in seeds for c in flawed),
        "undecided_sound": sum(runs[s][c.id].status == "undecided" for s in seeds for c in cases if c.sound),
        "unmatched_sustained": [{**u, "seed": s, "recurring": (s, u["id"]) in recurring}
                                for s in seeds for u in per_seed[s]["unmatched_sustained"]],
        "recurring_flaws": [{**r, "seed": s} for s in seeds for r in per_seed[s]["recurring_flaws"]],
        "flaw_seeds": per_flaw,
        "per_seed": [{"seed": s, **{k: per_seed[s][k] for k in ("flaw_recall", "flaws_found",
                                                                  "false_shootdown_rate", "shot_down_flawed")}}
                     for s in seeds],
    }
