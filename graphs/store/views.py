"""Read-side views of a stored run, shared by the CLI and the dashboard: one source for show, replay, export."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gauntlet.payloads import EdgePayload, LLMCallPayload, NodePayload, RunStartedPayload
from gauntlet.graphs.argument import coverage
from gauntlet.graphs.argument.argument_graph import ArgumentGraph
from gauntlet.graphs.argument.rulings import shot_down_by
from gauntlet.graphs.store.siblings import add_recurrence
from gauntlet.graphs.store.store import Store, typed_payload
from gauntlet.graphs.store.tables import Event


def load_graph(store: Store, run_id: str, *, until: int | None = None) -> ArgumentGraph:
    """The argument graph as it stood after event `until` (all of it by default), with reviewer overrides."""
    store.run(run_id)  # a clear error for an unknown run
    return ArgumentGraph(store.nodes(run_id, until=until), store.edges(run_id, until=until),
                         store.annotations(run_id))


def coverage_rule(store: Store, run_id: str) -> "coverage.CoverageRule":
    """The run's coverage rule (min critics per idea, the panel's critics), from its stored config."""
    return coverage.CoverageRule.from_config(json.loads(store.run(run_id).config_json or "{}"))


def run_record(store: Store, run_id: str) -> dict[str, Any]:
    info = store.run_info(store.run(run_id))
    rule = coverage_rule(store, run_id)
    return {"coverage_rule": {"min_critics_per_idea": rule.min_critics, "critics": list(rule.critics)},
            "run_id": info.run_id, "status": info.status, "topic": info.topic, "created": info.created,
            "protocol": info.protocol, "model": info.model, "parent_run_id": info.parent_run_id,
            "fork_step": info.fork_step, "stats": info.stats, "error": info.error,
            "personas": [{"name": p.name, "discipline": p.discipline, "roles": p.roles.split(",")}
                         for p in store.personas(run_id)],
            "annotations": [{"node_id": a.node_id, "kind": a.kind, "verdict": a.verdict, "text": a.text,
                             "author": a.author, "created": a.created} for a in store.annotations(run_id)]}


def _embedder() -> Any:
    """The local embedding function for diversity, or None when the model is not installed."""
    from gauntlet.agents import corpus, embeddings
    return corpus.embed if embeddings.available() else None


def show(store: Store, run_id: str, *, until: int | None = None, analyse: bool = True) -> dict[str, Any]:
    """The `gauntlet show --json` document (docs/contracts.md, plus extra fields). With `analyse`, also the
    ranking (Elo where a tournament ran), cruxes, diversity, per-persona stats and the panel's aggregate."""
    rec = run_record(store, run_id)
    graph = load_graph(store, run_id, until=until)
    out = {"run_id": run_id, "status": rec["status"], **graph.summary()}
    _add_strength(graph, out["ideas"])
    for idea in out["ideas"]:  # the sustained critiques and refutations that defeat each idea
        idea["shot_down_by"] = shot_down_by(graph, idea["id"])
        for d in idea["shot_down_by"]:  # a defeating critique drawn from the failure-mode library says so
            if d.get("id") in graph.nodes and graph.nodes[d["id"]].data.get("cites"):
                d["cites"] = graph.nodes[d["id"]].data["cites"]
    out["critiques"] = critique_records(graph)
    if until is None:  # which of them recur in repeats of this debate with another seed
        add_recurrence(out, store, run_id, graph, load_graph)
    out.update({"topic": rec["topic"], "protocol": rec["protocol"], "model": rec["model"],
                "stats": rec["stats"], "steps": store.last_seq(run_id)})
    add_coverage(out, graph, coverage_rule(store, run_id), (rec["stats"] or {}).get("stopped_by"))
    # Each formal result's verdict or abstention, and the gate checks that failed (why it abstained).
    out["formal"] = [{"id": n.id, "claim": n.data.get("claim"), "verdict": n.data.get("verdict"),
                      "reason": n.data.get("detail", ""),
                      "failed_checks": sorted({c.get("check") for c in n.data.get("checks") or []
                                               if isinstance(c, dict) and not c.get("passed")})}
                     for n in graph.nodes.values() if n.kind == "formal_result"]
    if analyse:
        from gauntlet.graphs.argument import analysis
        out.update(analysis.summary(graph, _embedder()))
        add_critique_counts(out["persona_stats"], graph)
        out["citations"] = [{"node": n.id, "persona": n.persona, **c} for n in graph.nodes.values()
                            for c in n.data.get("citations") or []]
    return out


def critique_records(graph: ArgumentGraph) -> list[dict[str, Any]]:
    """Every critique with its target, flaw, severity, the library entries its critic was shown for that target
    (`library_entries`) and the citations of those it drew on (`cites`: {entry, title, authors, year, link})."""
    return [{"id": n.id, "persona": n.persona, "target": n.data.get("target", ""),
             "flaw_type": n.data.get("flaw_type"), "severity": n.data.get("severity"),
             "library_entries": list(n.data.get("library_entries") or []), "cites": list(n.data.get("cites") or [])}
            for n in graph.nodes.values() if n.kind == "critique"]


def _add_strength(graph: ArgumentGraph, ideas: list[dict[str, Any]]) -> None:
    """Each idea's graded strength in [0, 1] (DF-QuAD, graphs/argument/strength.py) beside its Dung status."""
    from gauntlet.graphs.argument.strength import strengths
    got = strengths(graph)
    for idea in ideas:
        idea["strength"] = got.get(idea["id"])


def add_coverage(doc: dict[str, Any], graph: ArgumentGraph, rule: "coverage.CoverageRule",
                 stopped_by: str | None) -> None:
    """Each idea gets `critics`, `examined`, `unruled` (its anchored critiques still awaiting a ruling) and
    `defender`; the document gets the run's `coverage` figures."""
    per = coverage.ideas_coverage(graph, rule)
    for idea in doc["ideas"]:
        c = per[idea["id"]]
        idea.update({"critics": c["critics"], "examined": c["examined"], "unruled": c["unruled"],
                     "defender": c["defender"]})
    doc["coverage"] = coverage.summary(graph, rule, stopped_by=stopped_by)


def add_critique_counts(rows: list[dict[str, Any]], graph: ArgumentGraph) -> None:
    """`persona_stats` rows get critiques given and received (per idea too); personas without a row get one."""
    counts = coverage.critique_counts(graph)
    have = {r["persona"] for r in rows}
    for r in rows:
        r.update(counts.get(r["persona"], {"critiques_given": 0, "critiques_received": 0, "given_by_idea": {},
                                           "received_by_idea": {}}))
    rows += [{"persona": p, **c} for p, c in sorted(counts.items()) if p not in have]


@dataclass
class TranscriptLine:
    step: int
    kind: str
    round: int
    persona: str
    text: str


def describe_event(e: Event) -> TranscriptLine:
    p = typed_payload(e)
    if isinstance(p, NodePayload):
        title = f"{p.title}: " if p.title else ""
        text = f"[{p.id}] {p.kind}: {title}{p.text}"
    elif isinstance(p, EdgePayload):
        text = f"{p.src} {p.kind} {p.dst}"
    elif isinstance(p, LLMCallPayload):
        text = (f"{p.phase} call: {p.prompt_tokens}+{p.completion_tokens} tokens in {p.latency_s:.1f}s"
                + (f" (faults: {', '.join(map(str, p.faults))})" if p.faults else ""))
    elif isinstance(p, RunStartedPayload):
        text = f"run started: {p.config.get('topic', '')}"
    else:
        error = getattr(p, "error", None)
        text = e.kind.replace("_", " ") + (f": {error}" if error else "")
    return TranscriptLine(step=e.seq, kind=e.kind, round=e.round, persona=e.persona, text=" ".join(text.split()))


def transcript(store: Store, run_id: str, *, until: int | None = None,
               include_calls: bool = True) -> list[TranscriptLine]:
    store.run(run_id)
    kinds = None if include_calls else [k for k in ("run_started", "node", "edge", "round_started",
                                                     "run_finished", "run_failed", "run_interrupted",
                                                     "run_resumed")]
    return [describe_event(e) for e in store.events(run_id, until=until, kinds=kinds)]
