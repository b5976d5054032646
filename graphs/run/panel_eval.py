"""`gauntlet eval panel` (issue 13): run the configured protocol on proposals with literature flaws and measure
whether the panel's *sustained* critiques state those flaws, and whether sound controls survive.

Per case: one run with the seed proposal set to the case; the sustained critiques (ruled sustained, anchored,
fatal or major) are matched against the known flaws by a narrow yes/no model call, with embedding similarity as
a pre-filter (only the most similar critiques of each flaw are asked about). The same cases run again with only
the first critic (the single-critic baseline), so the panel's gain is measured, not assumed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from gauntlet.agents import prompts
from gauntlet.agents.llm import LLM, LLMError
from gauntlet.agents.routing import for_persona, make_run_llm
from gauntlet.agents.schemas import FlawMatch, flaw_match_schema
from gauntlet.agents.structured import complete_structured
from gauntlet.config import RunConfig, SeedProposal
from gauntlet.graphs.argument.rulings import attack_fields
from gauntlet.graphs.run.loading import LoadedConfig
from gauntlet.graphs.run.panel_cases import PanelCase
from gauntlet.graphs.run.runner import Runner
from gauntlet.graphs.store.store import Store
from gauntlet.graphs.store.views import load_graph

SIMILARITY_FLOOR = 0.2  # below this cosine similarity a critique is not asked about a flaw at all
CANDIDATES_PER_FLAW = 2  # the most similar sustained critiques per flaw that get the yes/no call


@dataclass
class CaseResult:
    case: str
    run_id: str
    shot_down: bool
    sustained: list[dict[str, Any]]
    stats: dict[str, Any] = field(default_factory=dict)


def case_config(base: RunConfig, case: PanelCase, critics: list[str] | None = None) -> RunConfig:
    """The configured run with the case as its one seed proposal (and, for the baseline, fewer critics)."""
    seed = SeedProposal(title=case.title or case.id, claim=case.proposal)
    panel = base.panel.model_copy(update={"critics": critics or list(base.panel.critics)})
    return base.model_copy(update={"seed_proposals": [seed], "panel": panel})


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


def candidate_pairs(flaws: list[str], critiques: list[dict[str, Any]],
                    similarity: Callable[[list[str], list[str]], list[list[float]]] | None) -> list[tuple[int, int, float | None]]:
    """(flaw index, critique index, similarity) pairs worth a yes/no call: each flaw's CANDIDATES_PER_FLAW most
    similar critiques at or above SIMILARITY_FLOOR, or every pair when there is no embedding model."""
    if not flaws or not critiques:
        return []
    if similarity is None:
        return [(i, j, None) for i in range(len(flaws)) for j in range(len(critiques))]
    sims = similarity(flaws, [c["text"] + " " + c.get("anchor", "") for c in critiques])
    pairs = []
    for i, row in enumerate(sims):
        ranked = sorted(range(len(critiques)), key=lambda j: -row[j])[:CANDIDATES_PER_FLAW]
        pairs += [(i, j, round(float(row[j]), 3)) for j in ranked if row[j] >= SIMILARITY_FLOOR]
    return pairs


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


def _embedding_similarity() -> Callable[[list[str], list[str]], list[list[float]]] | None:
    from gauntlet.agents import corpus, embeddings
    if not embeddings.available():
        return None

    def sim(a: list[str], b: list[str]) -> list[list[float]]:
        va, vb = corpus.embed(a), corpus.embed(b)
        return (va @ vb.T).tolist()  # the encoder's vectors are unit length: dot product = cosine
    return sim


async def match_flaws(llm: LLM, case: PanelCase, result: CaseResult, seed: int,
                      similarity: Callable[..., Any] | None) -> tuple[list[dict[str, Any]], int]:
    """The yes/no calls for one case: (matches with their evidence, tokens spent)."""
    out, tokens = [], 0
    for i, j, sim in candidate_pairs(case.known_flaws, result.sustained, similarity):
        crit = result.sustained[j]
        msgs = prompts.flaw_match_messages(case.known_flaws[i], f"\"{crit['anchor']}\" — {crit['text']}")
        try:
            fm, c = await complete_structured(llm, msgs, FlawMatch, schema=flaw_match_schema(),
                                              seed=seed + 101 * i + j)
        except LLMError:
            continue  # an unanswerable match question counts as no match
        tokens += c.prompt_tokens + c.completion_tokens
        if fm.states_flaw:
            out.append({"case": case.id, "flaw_index": i, "flaw": case.known_flaws[i], "critique": crit["id"],
                        "persona": crit["persona"], "similarity": sim, "evidence": prompts.tidy(fm.evidence, 200)})
    return out, tokens


def run_cost(store: Store, run_id: str) -> dict[str, Any]:
    calls = [json.loads(e.payload) for e in store.events(run_id, kinds=("llm_call",))]
    rule = [c for c in calls if c["phase"] == "rule"]
    return {"calls": len(calls), "tokens": sum(c["prompt_tokens"] + c["completion_tokens"] for c in calls),
            "ruling_calls": len(rule), "ruling_tokens": sum(c["prompt_tokens"] + c["completion_tokens"] for c in rule),
            "ruling_s": round(sum(c["latency_s"] for c in rule), 2)}


async def evaluate_arm(store: Store, loaded: LoadedConfig, cases: list[PanelCase], critics: list[str] | None,
                       llm: LLM | None, progress: Callable[[str], None]) -> dict[str, Any]:
    """One arm (the full panel, or the single critic): run each case, match its sustained critiques, score."""
    t0 = time.perf_counter()
    results: dict[str, CaseResult] = {}
    matches: list[dict[str, Any]] = []
    match_tokens = 0
    similarity = _embedding_similarity()
    judge_llm = llm or make_run_llm(loaded.config)
    try:
        for case in cases:
            cfg = case_config(loaded.config, case, critics)
            one = LoadedConfig(config=cfg, personas=loaded.personas, source=f"{loaded.source}#{case.id}")
            run_id = await Runner(store, llm=llm).start(one)
            graph = load_graph(store, run_id)
            results[case.id] = CaseResult(case.id, run_id, graph.status("seed-1") == "shot_down",
                                          sustained_critiques(graph), run_cost(store, run_id))
            found, tokens = await match_flaws(for_persona(judge_llm, cfg.panel.judge or ""), case, results[case.id],
                                              cfg.seed, similarity)
            matches += found
            match_tokens += tokens
            progress(f"{case.id}: {'shot down' if results[case.id].shot_down else 'survives'}, "
                     f"{len(results[case.id].sustained)} sustained, {len(found)} flaw matches ({run_id})")
    finally:
        if llm is None:
            await judge_llm.aclose()
    costs = [r.stats for r in results.values()]
    return {**score(cases, results, matches), "critics": critics or list(loaded.config.panel.critics),
            "matches": matches,
            "cases": [{"id": r.case, "run_id": r.run_id, "shot_down": r.shot_down, "sustained": len(r.sustained),
                       **r.stats} for r in results.values()],
            "time_s": round(time.perf_counter() - t0, 1),
            "tokens": sum(c["tokens"] for c in costs) + match_tokens, "match_tokens": match_tokens,
            "ruling_calls": sum(c["ruling_calls"] for c in costs),
            "ruling_tokens": sum(c["ruling_tokens"] for c in costs),
            "ruling_s": round(sum(c["ruling_s"] for c in costs), 1)}


async def evaluate(store: Store, loaded: LoadedConfig, cases: list[PanelCase], *, baseline: bool = True,
                   llm: LLM | None = None, progress: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """The `gauntlet eval panel --json` document: the panel's figures at top level, the baseline beside them."""
    panel = await evaluate_arm(store, loaded, cases, None, llm, progress)
    doc = {"n": len(cases), "flawed": sum(not c.sound for c in cases), "sound": sum(c.sound for c in cases),
           "config": loaded.source, **panel}
    if baseline:
        first = loaded.config.panel.critics[:1]
        progress(f"single-critic baseline ({first[0]})")
        single = await evaluate_arm(store, loaded, cases, first, llm, progress)
        doc["baseline"] = {k: single[k] for k in ("critics", "flaw_recall", "flaws_found", "false_shootdown_rate",
                                                  "shot_down_flawed", "time_s", "tokens", "cases", "matches")}
        doc["baseline"]["unmatched_sustained"] = len(single["unmatched_sustained"])
    return doc
