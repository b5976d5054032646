"""`gauntlet eval panel FILE`: run the configured protocol on proposals with literature flaws and measure whether
the panel's *sustained* critiques state those flaws, and whether sound controls survive.

Per case and seed: one run with the seed proposal set to the case; its sustained critiques (ruled sustained,
anchored, fatal or major) are matched against the known flaws by a narrow yes/no model call, with embedding
similarity as a pre-filter. The same case runs again with only the first critic (the single-critic baseline), so
the panel's gain is measured, not assumed; with several seeds, critiques that come back in another seed's run are
marked recurring (graphs/evals/panel_recurrence.py).

Per case: a flawed proposal shot down is right, left standing wrong, undecided (e.g. every ruling contested)
abstained; a sound control the reverse. Over several seeds a case is right only when every decided run is right.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from gauntlet.agents import prompts
from gauntlet.agents.llm import LLM
from gauntlet.agents.routing import for_persona
from gauntlet.graphs.evals import panel_figures as fig
from gauntlet.graphs.evals import panel_recurrence as recur
from gauntlet.graphs.evals.flaw_judge import Similarity, candidate_pairs, embedding_similarity, states
from gauntlet.graphs.evals.panel_cases import PanelCase, load_cases, pick
from gauntlet.graphs.evals.report import CaseResult, figures
from gauntlet.graphs.evals.task import EvalContext, Task
from gauntlet.graphs.run.loading import LoadedConfig
from gauntlet.graphs.run.runner import Runner
from gauntlet.graphs.store.views import load_graph

PANEL, SINGLE, NO_LIBRARY = "panel", "single_critic", "no_library"
# The keys of the single-critic arm shown under `baseline` (beside the panel's own at top level).
BASELINE_KEYS = ("critics", "flaw_recall", "flaws_found", "false_shootdown_rate", "shot_down_flawed",
                 "undecided_flawed", "undecided_sound", "time_s", "tokens", "runs", "matches",
                 "flaw_recall_any_seed", "recurring_flaw_recall", "flaw_seeds", "per_seed")


def outcome(case: PanelCase, statuses: list[str]) -> tuple[str, float | None]:
    """(right | wrong | abstained, the share of runs that reached the case's decided status)."""
    want = "standing" if case.sound else "shot_down"
    decided = [s for s in statuses if s != "undecided"]
    if not decided:
        return "abstained", None
    verdict = "right" if all(s == want for s in decided) else "wrong"
    majority = max(set(decided), key=decided.count)
    return verdict, round(decided.count(majority) / len(statuses), 4)


async def match_flaws(llm: LLM, case: PanelCase, result: fig.RunResult, seed: int,
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


class PanelEval(Task):
    name = "panel"
    default_file: Path | None = None  # the file names the cases: `gauntlet eval panel runs/evals/panel.yaml`

    def load(self, path: Path) -> list[PanelCase]:
        return load_cases(path)

    def select(self, cases: list[PanelCase], ctx: EvalContext) -> list[PanelCase]:
        return pick(cases, ctx.resources.get("only"))

    async def run_arm(self, case: PanelCase, critics: list[str] | None, ctx: EvalContext,
                      library: bool = True) -> dict[str, Any]:
        """One arm of one case: a run per seed, its flaw matches, and across seeds the recurrence links
        (`library=False`: the same runs with the failure-mode library switched off)."""
        loaded: LoadedConfig = ctx.resources["loaded"]
        store, seeds = ctx.resources["store"], ctx.resources["seeds"]
        judge = for_persona(ctx.llm, loaded.config.panel.judge or "")
        similarity = ctx.resources.setdefault("similarity", embedding_similarity())
        t0 = time.perf_counter()
        runs: dict[int, fig.RunResult] = {}
        matches: list[dict[str, Any]] = []
        match_tokens = recurrence_tokens = 0
        for seed in seeds:
            cfg = fig.case_config(loaded.config, case, critics, seed)
            if not library:
                cfg = cfg.model_copy(update={"library": cfg.library.model_copy(update={"enabled": False})})
            one = LoadedConfig(config=cfg, personas=loaded.personas, source=f"{loaded.source}#{case.id}")
            run_id = await Runner(store, llm=ctx.resources.get("run_llm")).start(one)
            graph = load_graph(store, run_id)
            status = graph.status("seed-1")
            runs[seed] = fig.RunResult(case.id, run_id, status == "shot_down", fig.sustained_critiques(graph),
                                       fig.run_cost(store, run_id), status)
            found, tokens = await match_flaws(judge, case, runs[seed], seed, similarity)
            matches += found
            match_tokens += tokens
            arm = ("" if critics is None else ", single critic") + ("" if library else ", no library")
            ctx.note(f"{case.id} (seed {seed}{arm}): {status.replace('_', ' ')}, "
                     f"{len(runs[seed].sustained)} sustained, {len(found)} flaw matches ({run_id})")
        links: list[dict[str, Any]] = []
        if len(seeds) > 1:
            links, recurrence_tokens = await recur.recurrence(
                judge, case.id, {s: runs[s].sustained for s in seeds}, matches, similarity, loaded.config.seed)
        return {"runs": {str(s): asdict(r) for s, r in runs.items()}, "matches": matches, "links": links,
                "match_tokens": match_tokens, "recurrence_tokens": recurrence_tokens,
                "time_s": round(time.perf_counter() - t0, 1)}

    async def run_case(self, case: PanelCase, ctx: EvalContext) -> CaseResult:
        arms = {PANEL: await self.run_arm(case, None, ctx)}
        if ctx.resources.get("baseline", True):
            arms[SINGLE] = await self.run_arm(case, fig.baseline_critics(ctx.resources["loaded"].config), ctx)
        if ctx.resources.get("library_arm", False):  # the same panel without the failure-mode library
            arms[NO_LIBRARY] = await self.run_arm(case, None, ctx, library=False)
        statuses = {arm: [r["status"] for r in a["runs"].values()] for arm, a in arms.items()}
        verdict, confidence = outcome(case, statuses[PANEL])
        return CaseResult(id=case.id, outcome=verdict, confidence=confidence, case=case.model_dump(),
                          statuses=statuses, arms=arms,
                          baseline_outcome=outcome(case, statuses[SINGLE])[0] if SINGLE in arms else None,
                          note=f"{', '.join(statuses[PANEL])}")

    def summarise(self, results: list[CaseResult], ctx: EvalContext) -> dict[str, Any]:
        loaded: LoadedConfig = ctx.resources["loaded"]
        seeds = ctx.resources["seeds"]
        cases = [PanelCase.model_validate(r.case) for r in results]
        doc: dict[str, Any] = {"n": len(cases), "flawed": sum(not c.sound for c in cases),
                               "sound": sum(c.sound for c in cases), "config": loaded.source,
                               "defender": fig.defender(loaded.config),
                               **arm_figures(cases, seeds, [r.arms[PANEL] for r in results],
                                             loaded.config.panel.critics, loaded)}
        truth = ["right" if c.sound else "wrong" for c in cases]  # what "always standing" scores per case
        doc["baselines"] = {"always_standing": figures(truth),
                            "always_shot_down": figures(["wrong" if t == "right" else "right" for t in truth])}
        if ctx.resources.get("baseline", True):
            single = arm_figures(cases, seeds, [r.arms[SINGLE] for r in results],
                                 fig.baseline_critics(loaded.config), loaded)
            doc["baseline"] = {k: single[k] for k in BASELINE_KEYS}
            doc["baseline"]["unmatched_sustained"] = len(single["unmatched_sustained"])
            doc["baselines"]["single_critic"] = {**figures([r.baseline_outcome for r in results]),
                                                 "critics": single["critics"]}
        if ctx.resources.get("library_arm", False):
            off = arm_figures(cases, seeds, [r.arms[NO_LIBRARY] for r in results], loaded.config.panel.critics,
                              loaded)
            doc["no_library"] = {k: off[k] for k in BASELINE_KEYS}
            doc["no_library"]["unmatched_sustained"] = len(off["unmatched_sustained"])
            doc["baselines"]["no_library"] = figures([outcome(c, r.statuses[NO_LIBRARY])[0]
                                                      for c, r in zip(cases, results)])
        doc["by_written"] = written_split(cases, results)
        return doc


def arm_figures(cases: list[PanelCase], seeds: list[int], arms: list[dict[str, Any]], critics: list[str],
                loaded: LoadedConfig) -> dict[str, Any]:
    """One arm's figures over every case and seed (pooled across seeds), its matches and runs."""
    runs = {s: {a["runs"][str(s)]["case"]: fig.RunResult(**a["runs"][str(s)]) for a in arms} for s in seeds}
    matches = [m for a in arms for m in a["matches"]]
    links = [link for a in arms for link in a["links"]]
    recurring = recur.recurring_keys(links)
    for m in matches:
        m["recurring"] = (m["seed"], m["critique"]) in recurring
    costs = [r.stats for by_case in runs.values() for r in by_case.values()]
    match_tokens = sum(a["match_tokens"] for a in arms)
    recurrence_tokens = sum(a["recurrence_tokens"] for a in arms)
    return {**fig.pooled(cases, seeds, runs, matches, recurring), "seeds": seeds,
            "critics": [c for c in critics if c != fig.defender(loaded.config)],
            "matches": matches, "recurrence_links": links,
            "runs": [{"id": r.case, "seed": s, "run_id": r.run_id, "status": r.status, "shot_down": r.shot_down,
                      "sustained": len(r.sustained), "recurring": sum((s, c["id"]) in recurring for c in r.sustained),
                      **r.stats} for s in seeds for r in runs[s].values()],
            "time_s": round(sum(a["time_s"] for a in arms), 1),
            "tokens": sum(c["tokens"] for c in costs) + match_tokens + recurrence_tokens,
            "match_tokens": match_tokens, "recurrence_tokens": recurrence_tokens,
            "ruling_calls": sum(c["ruling_calls"] for c in costs),
            "ruling_tokens": sum(c["ruling_tokens"] for c in costs),
            "ruling_s": round(sum(c["ruling_s"] for c in costs), 1)}


TASK = PanelEval()


def written_split(cases: list[PanelCase], results: list[CaseResult]) -> dict[str, Any]:
    """Sound controls written after the failure-mode library apart from the older cases: per group and arm, how
    many sound controls ended shot down (false shoot-downs) out of how many runs."""
    out: dict[str, Any] = {}
    for c, r in zip(cases, results):
        if not c.sound:
            continue
        group = out.setdefault(c.written or "before-library", {"cases": [], "runs": {}, "shot_down": {}})
        group["cases"].append(c.id)
        for arm, statuses in r.statuses.items():
            group["runs"][arm] = group["runs"].get(arm, 0) + len(statuses)
            group["shot_down"][arm] = group["shot_down"].get(arm, 0) + sum(s == "shot_down" for s in statuses)
    return out
