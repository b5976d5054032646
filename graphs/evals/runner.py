"""Runs an eval case by case: load → (prepare once) → run each case not already in the journal → summarise →
report. Every finished case is journaled before the next starts, so an eval stopped by Ctrl-C, SIGTERM or a kill
continues where it stopped when run again with the same file, model and settings; Ctrl-C also reports the cases
finished so far, marked `interrupted`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from gauntlet.errors import InputError
from gauntlet.graphs.evals import registry
from gauntlet.graphs.evals.journal import Journal, default_dir, journal_key
from gauntlet.graphs.evals.report import CaseResult, build_report
from gauntlet.graphs.evals.task import EvalContext, EvalTask


@dataclass
class Watch:
    """What a front shows while an eval runs (the runner knows nothing of terminals)."""
    start: Callable[[int, int], None] = lambda total, resumed: None  # cases to cover, of which already journaled
    case: Callable[[int, int, CaseResult], None] = lambda done, total, result: None


@dataclass
class _Progress:
    cases: list[Any] = field(default_factory=list)
    done: dict[str, CaseResult] = field(default_factory=dict)


def run_eval(task: EvalTask, file: Path | None, ctx: EvalContext, *, journal_dir: Path | None = None,
             fresh: bool = False, watch: Watch | None = None) -> dict[str, Any]:
    """The eval's report (EvalReport's keys plus the eval's own figures)."""
    path = file or task.default_file
    if path is None:
        raise InputError(f"`gauntlet eval {task.name}` needs a FILE", field="FILE",
                         fix=f"give the eval set, e.g. runs/evals/{task.name}.yaml")
    cases = task.load(path)
    key = journal_key(task.name, _fingerprint(task, path, cases), ctx.model, ctx.settings)
    journal = Journal(journal_dir or default_dir(), task.name, key)
    if fresh:
        journal.clear()
    state, done = journal.read()
    progress = _Progress(done=dict(done))
    interrupted = False
    try:
        asyncio.run(_run(task, cases, ctx, journal, state, progress, watch or Watch()))
    except KeyboardInterrupt:
        interrupted = True
    results = [progress.done[c.id] for c in progress.cases if c.id in progress.done]
    own = task.summarise(results, ctx)
    for extra in registry.extra_figures(task.name):
        own.update(extra(results, ctx))
    resumed = sum(c.id in done for c in progress.cases)
    doc = build_report(task.name, results, own, model=ctx.model, interrupted=interrupted, resumed=resumed)
    doc["journal"] = str(journal.path)
    return doc


async def _run(task: EvalTask, cases: list[Any], ctx: EvalContext, journal: Journal, state: dict[str, Any] | None,
               progress: _Progress, watch: Watch) -> None:
    ctx.llm = ctx.make_llm() if ctx.make_llm else ctx.llm
    try:
        if state is None:
            state = await _prepare(task, cases, ctx)
            if state is not None:
                journal.write_state(state)
        ctx.state = state or {}
        prepared = getattr(task, "prepared_cases", lambda c, _: c)(cases, ctx)
        progress.cases = getattr(task, "select", lambda c, _: c)(prepared, ctx)
        total = len(progress.cases)
        watch.start(total, sum(c.id in progress.done for c in progress.cases))
        finished = sum(c.id in progress.done for c in progress.cases)
        for case in progress.cases:
            if case.id in progress.done:
                continue
            t0 = time.perf_counter()
            result = await task.run_case(case, ctx)
            if not result.seconds:
                result.seconds = round(time.perf_counter() - t0, 3)
            journal.write_case(result)
            progress.done[case.id] = result
            finished += 1
            watch.case(finished, total, result)
    finally:
        if ctx.make_llm and ctx.llm is not None:
            await ctx.llm.aclose()


async def _prepare(task: EvalTask, cases: list[Any], ctx: EvalContext) -> dict[str, Any] | None:
    prepare = getattr(task, "prepare", None)
    return await prepare(cases, ctx) if prepare else None


def _fingerprint(task: EvalTask, path: Path, cases: list[Any]) -> bytes:
    fingerprint = getattr(task, "fingerprint", None)
    return fingerprint(path, cases) if fingerprint else path.read_bytes()
