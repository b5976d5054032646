"""The failure-mode library in the critique move: which known objections a critic is shown for each idea, and which
of them its critiques drew on.

For each idea a critic is assigned, the library's nearest entries (embedding similarity, biased toward the critic's
discipline) are checked for applicability with one scored yes/no question each (gauntlet.agents.failure_modes);
the entries that clear the threshold are shown to the critic with their "does not apply when" conditions and
labels [L1].. . A critique records the entries shown for its target (`library_entries`), and cites those it drew
on (`cites`): the ones its text names by label, or whose statement its text restates (cosine ≥ CITE_SIMILARITY).
A check depends only on the idea's words and the entry, so it is made once per run and shared by all critics.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from gauntlet.agents import failure_modes as fm
from gauntlet.agents.llm import LLMError

CITE_SIMILARITY = 0.5  # a critique this close (cosine) to an entry it was shown restates that entry


@dataclass(frozen=True)
class Shown:
    """An applicable entry as shown to a critic for one target."""

    label: str
    target: str
    entry: fm.Entry
    check: fm.Applicability


@dataclass
class Checks:
    """Applicability checks made in one run, shared across critics (a check is one per (idea, entry) pair)."""

    done: dict[str, fm.Applicability] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def get(self, key: str, make: Callable[[], Any]) -> fm.Applicability:
        lock = self.locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self.done:
                self.done[key] = await make()
            return self.done[key]


_RUNS: dict[tuple[str, int], Checks] = {}


def checks_for(run_id: str) -> Checks:
    """The run's shared checks (kept for the process's few latest runs; per event loop, as its locks are)."""
    key = (run_id, id(asyncio.get_running_loop()))
    if key not in _RUNS:
        while len(_RUNS) >= 8:
            _RUNS.pop(next(iter(_RUNS)))
        _RUNS[key] = Checks()
    return _RUNS[key]


def idea_text(node: dict[str, Any]) -> str:
    """The words of an idea the check and the retrieval read: title, claim and rationale."""
    parts = [node.get("title", ""), node.get("text", ""), node.get("data", {}).get("rationale", "")]
    return "\n".join(p for p in parts if p)


async def _checked(llm: Any, entry: fm.Entry, text: str, *, threshold: float, seed: int | None,
                   similarity: float) -> fm.Applicability:
    """A check whose call failed is a recorded abstention: the critic then argues without that entry."""
    try:
        return await fm.check(llm, entry, text, threshold=threshold, seed=seed, similarity=similarity)
    except LLMError as exc:
        return fm.Applicability(entry.id, 0.0, threshold, False, False, f"error: {' '.join(str(exc).split())[:160]}",
                                similarity)


async def applicable(lib: fm.Library, llm: Any, checks: Checks, target: dict[str, Any], discipline: str, *,
                     top_k: int, threshold: float, seed: int | None = None,
                     embed: Callable | None = None) -> list[tuple[fm.Entry, fm.Applicability]]:
    """The retrieved candidates for one idea with their checks, accepted ones first (by p)."""
    text = idea_text(target)
    found = await asyncio.to_thread(lib.search, text, top_k, discipline=discipline, embed=embed)
    # All of an idea's checks at once: a served model answers them in parallel (one after another they were most
    # of a critic's wait); the embedded backend still runs them one at a time, in this order.
    got = await asyncio.gather(*(checks.get(fm.check_key(entry, text), lambda e=entry, s=sim: _checked(
        llm, e, text, threshold=threshold, seed=seed, similarity=s)) for entry, sim in found))
    out = [(entry, ap) for (entry, _), ap in zip(found, got)]
    return sorted(out, key=lambda ec: (not ec[1].accepted, -ec[1].p))


async def shown_for(lib: fm.Library, llm: Any, checks: Checks, targets: Sequence[dict[str, Any]], discipline: str,
                    *, top_k: int, threshold: float, max_shown: int, seed: int | None = None,
                    embed: Callable | None = None) -> tuple[list[Shown], list[dict[str, Any]]]:
    """(the applicable entries to show, labelled in order; every check made, as records) for a critic's ideas."""
    shown: list[Shown] = []
    records: list[dict[str, Any]] = []
    for t in targets:
        if t.get("kind") != "idea":
            continue
        for entry, ap in (await applicable(lib, llm, checks, t, discipline, top_k=top_k, threshold=threshold,
                                           seed=seed, embed=embed)):
            records.append({"target": t["id"], **ap.record()})
            if ap.accepted and sum(s.target == t["id"] for s in shown) < max_shown:
                shown.append(Shown(f"L{len(shown) + 1}", t["id"], entry, ap))
    return shown, records


def drawn_on(text: str, shown: Sequence[Shown], embed: Callable | None = None) -> list[Shown]:
    """The shown entries a critique's text draws on: named by label ([L2] or L2), or restated closely enough."""
    named = [s for s in shown if f"[{s.label}]" in text or f" {s.label} " in f" {text} "]
    rest = [s for s in shown if s not in named]
    if rest and text.strip():
        embed = embed or fm._default_embed()
        if embed is not None:
            mat = embed([text] + [s.entry.text() for s in rest])
            sims = mat[1:] @ mat[0]
            named += [s for s, v in zip(rest, np.atleast_1d(sims)) if float(v) >= CITE_SIMILARITY]
    return named


def annotate(nodes: list[dict[str, Any]], shown: Sequence[Shown], embed: Callable | None = None) -> None:
    """Each critique node gets `library_entries` (the entries shown for its target) and `cites` (the citations of
    those it drew on)."""
    for n in nodes:
        mine = [s for s in shown if s.target == n["data"].get("target")]
        if not mine:
            continue
        used = drawn_on(n.get("text", ""), mine, embed)
        n["data"]["library_entries"] = [s.entry.id for s in mine]
        n["data"]["cites"] = [c for s in used for c in s.entry.cites()]


async def for_critic(ctx: Any, who: str, targets: Sequence[dict[str, Any]],
                     embed: Callable | None = None) -> tuple[list[Shown], list[dict[str, Any]]]:
    """What the run's library shows critic `who` for its ideas (nothing when the library is off, the budget is
    spent, or the critic has no ideas to check); the checks' prompt tokens count toward the token budget."""
    opts = ctx.config.library
    if (not opts.enabled or ctx.budget.exhausted() or not callable(getattr(ctx.llm, "score", None))
            or not any(t.get("kind") == "idea" for t in targets)):
        return [], []  # a backend that cannot score (an old wrapper) argues without the library
    lib = await asyncio.to_thread(fm.cached, tuple(opts.dirs))
    persona = ctx.personas.get(who)
    before = {k for k in checks_for(ctx.run_id).done}
    shown, records = await shown_for(lib, ctx.llm, checks_for(ctx.run_id), targets,
                                     persona.discipline if persona else "", top_k=opts.top_k,
                                     threshold=opts.threshold, max_shown=opts.max_shown, seed=ctx.config.seed,
                                     embed=embed)
    fresh = [a for k, a in checks_for(ctx.run_id).done.items() if k not in before]
    ctx.budget.record(sum(a.prompt_tokens for a in fresh))
    return shown, records


async def record(out: dict[str, Any], shown: Sequence[Shown], records: list[dict[str, Any]],
                 embed: Callable | None = None) -> None:
    """Annotate a critique move's nodes with the entries shown and cited, and its first call with the checks."""
    if records and out.get("calls"):
        out["calls"][0]["library_checks"] = records
    if shown:
        await asyncio.to_thread(annotate, out.get("nodes", []), shown, embed)
