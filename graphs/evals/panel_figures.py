"""`gauntlet eval panel` (issue 13): run the configured protocol on proposals with literature flaws and measure
whether the panel's *sustained* critiques state those flaws, and whether sound controls survive.

Per case: one run with the seed proposal set to the case; the sustained critiques (ruled sustained, anchored,
fatal or major) are matched against the known flaws by a narrow yes/no model call, with embedding similarity as
a pre-filter (only the most similar critiques of each flaw are asked about). The same cases run again with only
the first critic (the single-critic baseline), so the panel's gain is measured, not assumed.

With several seeds each case runs once per seed (each arm); the figures pool the runs, each known flaw lists the
seeds whose run stated it, and sustained critiques whose objection comes back in another seed's run are marked
`recurring` (graphs/run/panel_recurrence.py), with a recall that counts only those.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from gauntlet.agents import prompts
from gauntlet.agents.llm import LLM
from gauntlet.agents.routing import for_persona, make_run_llm
from gauntlet.config import RunConfig, SeedProposal
from gauntlet.graphs.argument.rulings import attack_fields
from gauntlet.graphs.run import panel_recurrence as recur
from gauntlet.graphs.run.flaw_judge import Similarity, candidate_pairs, embedding_similarity, states
from gauntlet.graphs.run.loading import LoadedConfig
from gauntlet.graphs.run.panel_cases import PanelCase
from gauntlet.graphs.run.runner import Runner
from gauntlet.graphs.store.store import Store
from gauntlet.graphs.store.views import load_graph


@dataclass
class CaseResult:
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


def score(cases: list[PanelCase], results: dict[str, CaseResult],
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


async def match_flaws(llm: LLM, case: PanelCase, result: CaseResult, seed: int,
                      similarity: Similarity | None) -> tuple[list[dict[str, Any]], int]:
    """The yes/no calls for one case's run with one seed: (matches with their evidence, tokens spent)."""
    out, tokens = [], 0
    for i, j, sim in candidate_pairs(case.known_flaws, result.sustained, similarity):
        crit = result.sustained[j]
        fm, spent = await states(llm, case.known_flaws[i], crit, seed + 101 * i + j)
        tokens += spent
        if fm is not None and fm.states_flaw:
            out.append({"case": case.id, "seed": seed, "flaw_index": i, "flaw": case.known_flaws[i],
                        "critique": crit["id"], "persona": crit["persona"], "similarity": sim,
                        "evidence": prompts.tidy(fm.evidence, 200)})
    return out, tokens


def run_cost(store: Store, run_id: str) -> dict[str, Any]:
    calls = [json.loads(e.payload) for e in store.events(run_id, kinds=("llm_call",))]
    rule = [c for c in calls if c["phase"] == "rule"]
    return {"calls": len(calls), "tokens": sum(c["prompt_tokens"] + c["completion_tokens"] for c in calls),
            "ruling_calls": len(rule), "ruling_tokens": sum(c["prompt_tokens"] + c["completion_tokens"] for c in rule),
            "ruling_s": round(sum(c["latency_s"] for c in rule), 2)}


def pooled(cases: list[PanelCase], seeds: list[int], runs: dict[int, dict[str, CaseResult]],
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


async def evaluate_arm(store: Store, loaded: LoadedConfig, cases: list[PanelCase], critics: list[str] | None,
                       llm: LLM | None, progress: Callable[[str], None], seeds: list[int]) -> dict[str, Any]:
    """One arm (the full panel, or the single critic): run each case with each seed, match its sustained
    critiques to the known flaws and across seeds, score."""
    t0 = time.perf_counter()
    runs: dict[int, dict[str, CaseResult]] = {s: {} for s in seeds}
    matches: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    match_tokens = recurrence_tokens = 0
    similarity = embedding_similarity()
    judge_llm = llm or make_run_llm(loaded.config)
    judge = for_persona(judge_llm, loaded.config.panel.judge or "")
    try:
        for seed in seeds:
            for case in cases:
                cfg = case_config(loaded.config, case, critics, seed)
                one = LoadedConfig(config=cfg, personas=loaded.personas, source=f"{loaded.source}#{case.id}")
                run_id = await Runner(store, llm=llm).start(one)
                graph = load_graph(store, run_id)
                status = graph.status("seed-1")
                result = CaseResult(case.id, run_id, status == "shot_down", sustained_critiques(graph),
                                    run_cost(store, run_id), status)
                runs[seed][case.id] = result
                found, tokens = await match_flaws(judge, case, result, seed, similarity)
                matches += found
                match_tokens += tokens
                progress(f"{case.id} (seed {seed}): {status.replace('_', ' ')}, "
                         f"{len(result.sustained)} sustained, {len(found)} flaw matches ({run_id})")
        if len(seeds) > 1:
            for case in cases:
                found_links, tokens = await recur.recurrence(
                    judge, case.id, {s: runs[s][case.id].sustained for s in seeds}, matches, similarity,
                    loaded.config.seed)
                links += found_links
                recurrence_tokens += tokens
    finally:
        if llm is None:
            await judge_llm.aclose()
    recurring = recur.recurring_keys(links)
    for m in matches:
        m["recurring"] = (m["seed"], m["critique"]) in recurring
    costs = [r.stats for by_case in runs.values() for r in by_case.values()]
    return {**pooled(cases, seeds, runs, matches, recurring), "seeds": seeds,
            "critics": [c for c in critics or loaded.config.panel.critics if c != defender(loaded.config)],
            "matches": matches, "recurrence_links": links,
            "cases": [{"id": r.case, "seed": s, "run_id": r.run_id, "status": r.status, "shot_down": r.shot_down,
                       "sustained": len(r.sustained), "recurring": sum((s, c["id"]) in recurring for c in r.sustained),
                       **r.stats} for s in seeds for r in runs[s].values()],
            "time_s": round(time.perf_counter() - t0, 1),
            "tokens": sum(c["tokens"] for c in costs) + match_tokens + recurrence_tokens,
            "match_tokens": match_tokens, "recurrence_tokens": recurrence_tokens,
            "ruling_calls": sum(c["ruling_calls"] for c in costs),
            "ruling_tokens": sum(c["ruling_tokens"] for c in costs),
            "ruling_s": round(sum(c["ruling_s"] for c in costs), 1)}


async def evaluate(store: Store, loaded: LoadedConfig, cases: list[PanelCase], *, baseline: bool = True,
                   llm: LLM | None = None, progress: Callable[[str], None] = lambda s: None,
                   seeds: list[int] | None = None) -> dict[str, Any]:
    """The `gauntlet eval panel --json` document: the panel's figures at top level, the baseline beside them.
    `seeds`: run each case once per seed (default: the config's seed, once)."""
    seeds = list(dict.fromkeys(seeds or [loaded.config.seed]))
    panel = await evaluate_arm(store, loaded, cases, None, llm, progress, seeds)
    doc = {"n": len(cases), "flawed": sum(not c.sound for c in cases), "sound": sum(c.sound for c in cases),
           "config": loaded.source, "defender": defender(loaded.config), **panel}
    if baseline:
        first = baseline_critics(loaded.config)
        progress(f"single-critic baseline ({first[0]})")
        single = await evaluate_arm(store, loaded, cases, first, llm, progress, seeds)
        doc["baseline"] = {k: single[k] for k in ("critics", "flaw_recall", "flaws_found", "false_shootdown_rate",
                                                  "shot_down_flawed", "undecided_flawed", "undecided_sound",
                                                  "time_s", "tokens", "cases", "matches",
                                                  "flaw_recall_any_seed", "recurring_flaw_recall", "flaw_seeds",
                                                  "per_seed")}
        doc["baseline"]["unmatched_sustained"] = len(single["unmatched_sustained"])
    return doc
