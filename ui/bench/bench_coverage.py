"""`gauntlet bench coverage`: does every idea face the panel at scale, and what does the allocation cost?

Two measurements: the pure allocation (`gauntlet.graphs.protocols.allocation.allocate`) on IDEAS × CRITICS ids,
timed; and a real debate through LangGraph on the synthetic OpenAI-compatible server with PROPOSERS ideas and
CRITICS critics, reporting coverage (min/mean distinct critics per idea, share examined) and the extra calls the
allocation made (`cover_calls`: re-asks for an assigned idea a critic's first answer skipped).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import typer

from gauntlet.ui.bench.bench import JsonOpt, RepeatOpt, _emit, _synthetic_server, orchestration_once
from gauntlet.ui.user_errors import user_errors


def allocation_once(ideas: int, critics: int, min_critics: int, per_critic: int, seed: int) -> dict[str, Any]:
    from gauntlet.graphs.protocols.allocation import allocate

    idea_ids = [f"idea-{k}" for k in range(ideas)]
    critic_ids = [f"critic-{k}" for k in range(critics)]
    owners = {i: critic_ids[k % critics] for k, i in enumerate(idea_ids)}
    t0 = time.perf_counter()
    plan = allocate(idea_ids, owners, critic_ids, min_critics=min_critics, per_critic=per_critic, seed=seed)
    elapsed = time.perf_counter() - t0
    per_idea = {i: 0 for i in idea_ids}
    for assigned in plan.values():
        for i in assigned:
            per_idea[i] += 1
    loads = [len(a) for a in plan.values()]
    return {"allocate_s": round(elapsed, 5), "min_critics": min(per_idea.values()),
            "mean_critics": round(statistics.fmean(per_idea.values()), 3),
            "examined_share": round(sum(v >= min(min_critics, critics - 1) for v in per_idea.values()) / ideas, 4),
            "load_min": min(loads), "load_max": max(loads)}


@user_errors
def coverage(ideas: int = typer.Option(500, "--ideas", min=1, max=100_000, help="Ideas for the pure allocation."),
             critics: int = typer.Option(200, "--critics", min=2, max=10_000, help="Critic personas."),
             proposers: int = typer.Option(24, "--proposers", min=1, max=512,
                                           help="Proposers in the debate (one idea each)."),
             debate_critics: int = typer.Option(16, "--debate-critics", min=2, max=1024,
                                                help="Critics in the debate."),
             min_critics: int = typer.Option(2, "--min-critics", min=1, max=64),
             per_critic: int = typer.Option(2, "--per-critic", min=1, max=10),
             repeat: int = RepeatOpt, as_json: bool = JsonOpt) -> None:
    """Critique coverage at scale: the allocation alone, timed, and a debate on the synthetic server.

    Example: gauntlet bench coverage --ideas 500 --critics 200 --proposers 24 --debate-critics 16 --json
    """
    samples = [allocation_once(ideas, critics, min_critics, per_critic, seed) for seed in range(repeat)]
    alloc = dict(samples[len(samples) // 2])
    alloc["allocate_s"] = statistics.median(s["allocate_s"] for s in samples)
    running_server = _synthetic_server()
    with running_server(latency_ms=0) as url, tempfile.TemporaryDirectory() as tmp:
        run = orchestration_once(url, debate_critics, 1, 0.0, Path(tmp), proposers=proposers)
    _emit({"bench": "coverage", "ideas": ideas, "critics": critics, "min_critics_per_idea": min_critics,
           "critiques_per_critic": per_critic, "allocation": alloc, "repeat": repeat,
           "debate": {"ideas": run["coverage"]["ideas"], "critics": debate_critics, **run["coverage"],
                      "calls": run["calls"], "cover_calls": run["cover_calls"], "actual_s": run["actual_s"]}})
