"""`gauntlet bench …`: measurements of the orchestrator, the store, the semantics, the dashboard and a GPU server.

Each subcommand prints one JSON object. Figures are medians over `--repeat` runs (3 by default) with every
sample listed, so a reader can see the spread. None of this runs in timed unit tests.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import typer

from gauntlet.errors import InputError
from gauntlet.ui.user_errors import user_errors

bench_app = typer.Typer(help="Benchmarks; each prints one JSON object (see BENCHMARKS.md).", no_args_is_help=True)
RepeatOpt = typer.Option(3, "--repeat", min=1, max=20, help="Runs to take the median of.")
JsonOpt = typer.Option(True, "--json/--no-json", help="Print JSON (the only output format).")


def _median_of(samples: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, Any]:
    doc = dict(samples[len(samples) // 2])
    for k in keys:
        doc[k] = statistics.median(s[k] for s in samples)
    doc["repeat"] = len(samples)
    doc["samples"] = [{k: s[k] for k in keys} for s in samples]
    return doc


def _emit(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc, sort_keys=True) + "\n")


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


# orchestration ------------------------------------------------------------------------------------------
def bench_panel(agents: int, rounds: int, proposers: int = 4) -> Any:
    """A debate with `agents` critics (clones of the library's styles), a few proposers and a judge."""
    from gauntlet.agents.persona import library
    from gauntlet.config import RunConfig
    from gauntlet.graphs.run.loading import LoadedConfig

    styles = list(library().values())
    critics = [f"critic-{i:04d}" for i in range(agents)]
    authors = [f"proposer-{i}" for i in range(proposers)]
    names = critics + authors + ["judge"]
    # No corpora: retrieval is CPU work of its own (embeddings) and this measures the orchestration alone.
    cards = {n: styles[i % len(styles)].model_copy(update={"name": n, "corpus": None}) for i, n in enumerate(names)}
    cfg = RunConfig.model_validate({
        "topic": "How could we detect deceptive alignment before deployment?", "rounds": rounds, "seed": 1,
        "panel": {"proposers": authors, "critics": critics, "judge": "judge"},
        "model": {"backend": "openai", "base_url": "http://127.0.0.1:1/v1", "name": "synthetic",
                  "concurrency": agents + proposers + 1}})
    return LoadedConfig(config=cfg, personas=cards, source="<bench>")


def _server_cpu(url: str) -> float:
    """The synthetic server's own CPU seconds so far (its /stats), to apportion the shared cores."""
    import httpx
    return float(httpx.get(url.removesuffix("/v1") + "/stats", timeout=10).json().get("cpu_s", 0.0))


def orchestration_once(url: str, agents: int, rounds: int, latency_ms: float, db_dir: Path,
                       profile: bool = False, proposers: int = 4) -> dict[str, Any]:
    """One debate against the server, then the bare client replaying the same calls (ui/bench/bare_client.py)."""
    import cProfile

    from gauntlet.agents.openai_backend import OpenAIBackend
    from gauntlet.graphs.argument.coverage import summary as coverage_summary
    from gauntlet.graphs.run import event_loop
    from gauntlet.graphs.run.runner import Runner
    from gauntlet.graphs.store.store import Store
    from gauntlet.graphs.store.views import coverage_rule, load_graph
    import sqlalchemy.orm as sqlalchemy_orm

    from gauntlet.ui.bench.bare_client import (RecordingLLM, bare_client, chains_of, timeline, top_functions,
                                               turn_of, turns_of)

    loaded = bench_panel(agents, rounds, proposers)
    store = Store(str(db_dir / f"bench-{time.monotonic_ns()}.sqlite"))
    concurrency = loaded.config.model.concurrency
    llm = RecordingLLM(OpenAIBackend(url, "synthetic", concurrency=concurrency, max_retries=2))
    prof = cProfile.Profile() if profile else None

    marks: dict[str, float] = {}

    async def go() -> tuple[str, float]:
        try:
            marks["t0"] = time.perf_counter()
            run_id = await Runner(store, llm=llm).start(loaded)
            marks["t1"] = time.perf_counter()
            return run_id, marks["t1"] - marks["t0"]
        finally:
            await llm.aclose()

    # The ORM configures its mappers on first use (~0.2 s, once per process): not part of any debate.
    sqlalchemy_orm.configure_mappers()
    server0, cpu0 = _server_cpu(url), time.process_time()
    if prof:
        prof.enable()
    run_id, actual = event_loop.run(go())  # the bare client runs on the same kind of loop
    if prof:
        prof.disable()
    debate_cpu, server1 = time.process_time() - cpu0, _server_cpu(url)
    llm.finish()
    # Each call with its superstep: a turn of the bare client is one step of the debate (bare_client.turn_of).
    calls = [{**json.loads(e.payload), "superstep": e.superstep} for e in store.events(run_id, kinds=("llm_call",))]
    turns = turns_of(calls, llm.bodies)
    bare = bare_client(url, turns, concurrency, chains_of(calls, llm.requests))
    where = timeline(calls, llm.spans, marks["t0"], marks["t1"])
    server_bare = _server_cpu(url) - server1
    n = max(1, len(calls))
    floor = {"bare_s": round(bare["bare_s"], 3), "vs_bare_client": round(bare["bare_s"] / actual, 4),
             "debate_cpu_ms_per_call": round(1000 * debate_cpu / n, 3),
             "bare_cpu_ms_per_call": round(bare["bare_cpu_ms_per_call"], 3),
             "server_cpu_ms_per_call": round(1000 * (server1 - server0) / n, 3),
             "server_cpu_ms_per_bare_call": round(1000 * server_bare / max(1, bare["bare_requests"]), 3),
             "requests": len(llm.requests), "bare_requests": bare["bare_requests"],
             "debate_wall": where}
    if prof:
        floor["profile_top"] = top_functions(prof)
    turns = len({turn_of(c) for c in calls})  # turns run one after another, a turn's calls in parallel
    lat = [c["latency_s"] for c in calls]
    queued = [c.get("queued_s", 0.0) for c in calls]
    ideal = turns * latency_ms / 1000
    cov = coverage_summary(load_graph(store, run_id), coverage_rule(store, run_id))
    store.engine.dispose()
    return {"efficiency": round(ideal / actual, 4), "ideal_s": round(ideal, 3), "actual_s": round(actual, 3),
            "bare_efficiency": round(ideal / bare["bare_s"], 4), **floor,
            "calls": len(calls), "sequential_turns": turns, "latency_p50_s": round(_quantile(lat, 0.5), 4),
            "latency_p95_s": round(_quantile(lat, 0.95), 4), "queued_total_s": round(sum(queued), 4),
            "queued_p95_s": round(_quantile(queued, 0.95), 4),
            "prompt_tokens": sum(c["prompt_tokens"] for c in calls),
            "completion_tokens": sum(c["completion_tokens"] for c in calls),
            # Did every idea face the panel? (min/mean distinct critics per idea, share meeting the rule)
            "coverage": {"ideas": cov["ideas"], "min_critics": cov["critics_per_idea"]["min"],
                         "mean_critics": cov["critics_per_idea"]["mean"], "examined_share": cov["examined_share"],
                         "allocated": cov["allocated"], "added_after_last_critique": cov["added_after_last_critique"]},
            "cover_calls": sum(1 for c in calls if "/cover" in c["key"])}


@bench_app.command()
@user_errors
def orchestration(agents: int = typer.Option(256, "--agents", min=1, max=1024, help="Critic personas."),
                  rounds: int = typer.Option(1, "--rounds", min=1, max=50),
                  latency_ms: float = typer.Option(200.0, "--latency-ms", min=0, max=60_000,
                                                   help="Synthetic server latency per call."),
                  repeat: int = RepeatOpt,
                  warmup: int = typer.Option(1, "--warmup", min=0, max=5, help="Untimed runs first (listed in "
                                             "warmup_samples): first use of imports, caches and lazily built "
                                             "schemas is process start-up, not orchestration. 0 = time a cold run."),
                  profile: bool = typer.Option(False, "--profile", help="Add profile_top: the debate process's "
                                               "functions with the most own CPU time (cProfile; slows the run)."),
                  as_json: bool = JsonOpt) -> None:
    """The real debate graph against a local OpenAI-compatible server answering after L ms, then a bare
    asyncio client making the same calls against the same server, in the same run.

    efficiency = ideal_s / actual_s with ideal_s = sequential turns × L; vs_bare_client = bare_s / actual_s;
    the *_cpu_ms_per_call fields split the CPU between debate, bare client and server; langgraph_floor is what
    LangGraph itself costs per superstep of that many branches doing no work; `--warmup` runs (default 1)
    come first, untimed but listed. Example:
    gauntlet bench orchestration --agents 256 --rounds 1 --latency-ms 200 --json
    """
    from gauntlet.ui.bench.framework_floor import superstep_overhead

    running_server = _synthetic_server()
    with running_server(latency_ms=latency_ms) as url, tempfile.TemporaryDirectory() as tmp:
        cold = [orchestration_once(url, agents, rounds, latency_ms, Path(tmp)) for _ in range(warmup)]
        samples = [orchestration_once(url, agents, rounds, latency_ms, Path(tmp), profile) for _ in range(repeat)]
        floor = superstep_overhead(agents, latency_ms, Path(tmp), repeat=repeat)
    doc = _median_of(samples, ("efficiency", "vs_bare_client", "actual_s", "bare_s", "bare_efficiency",
                               "debate_cpu_ms_per_call", "bare_cpu_ms_per_call", "server_cpu_ms_per_call",
                               "latency_p50_s", "latency_p95_s", "queued_total_s"))
    from gauntlet.graphs.run.event_loop import loop_name

    doc["warmup_samples"] = [{k: c[k] for k in ("vs_bare_client", "efficiency", "actual_s", "bare_s")} for c in cold]
    doc["langgraph_floor"] = floor  # LangGraph's own cost per superstep of `agents` empty branches (framework_floor)
    _emit({"bench": "orchestration", "agents": agents, "rounds": rounds, "latency_ms": latency_ms,
           "event_loop": loop_name(), "warmup": warmup, **doc})


def _synthetic_server():
    """The synthetic OpenAI-compatible server, from the `testing` extra (kept out of base installs)."""
    try:
        from gauntlet.testing.synthetic_server import running_server
    except ImportError:
        from gauntlet.errors import InputError
        raise InputError("the orchestration benchmark needs the synthetic server's web stack (fastapi, uvicorn)",
                         field="bench orchestration",
                         fix="pip install 'gauntlet-workbench[testing]' (or -e '.[testing]' from a checkout)") from None
    return running_server


# store --------------------------------------------------------------------------------------------------
def store_once(nodes: int, db_dir: Path, batch: int = 2000) -> dict[str, Any]:
    """nodes node events + 2×nodes edge events, appended in batches as the runner's writer does."""
    from gauntlet.graphs.store.store import NewEvent, Store

    rng = random.Random(nodes)
    store = Store(str(db_dir / f"store-{time.monotonic_ns()}.sqlite"))
    run_id = "bench-store"
    store.create_run(run_id, topic="bench", config={}, source="<bench>", seed=0, model="none", personas=[])
    events: list[NewEvent] = []
    for i in range(nodes):
        payload = {"id": f"n{i}", "kind": "critique", "persona": f"critic-{i % 256}", "round": 1,
                   "title": "objection", "text": "a two-sentence critique of the target " * 3, "data": {}}
        events.append(NewEvent(key=f"node/n{i}", kind="node", payload=payload, round=1, phase="critique"))
        for k in range(2 if i else 0):
            e = {"src": f"n{i}", "dst": f"n{rng.randrange(i)}", "kind": ("attacks", "supports")[k]}
            events.append(NewEvent(key=f"edge/n{i}/{e['kind']}/{e['dst']}", kind="edge", payload=e))
    t0 = time.perf_counter()
    for i in range(0, len(events), batch):
        store.append(run_id, events[i:i + batch])
    elapsed = time.perf_counter() - t0
    rows = len(events) + sum(1 for e in events if e.kind in ("node", "edge"))  # event rows + derived rows
    store.engine.dispose()
    return {"rows": rows, "events": len(events), "seconds": round(elapsed, 3), "rows_per_s": round(rows / elapsed)}


@bench_app.command("store")
@user_errors
def store_cmd(nodes: int = typer.Option(100_000, "--nodes", min=1, max=10_000_000),
              repeat: int = RepeatOpt, as_json: bool = JsonOpt) -> None:
    """Rows per second for nodes + edges + events into SQLite (WAL). Example: gauntlet bench store --nodes 100000"""
    with tempfile.TemporaryDirectory() as tmp:
        samples = [store_once(nodes, Path(tmp)) for _ in range(repeat)]
    _emit({"bench": "store", "nodes": nodes, "backend": "sqlite-wal",
           **_median_of(samples, ("rows_per_s", "seconds"))})


# semantics ----------------------------------------------------------------------------------------------
def random_framework(args: int, seed: int = 0) -> tuple[list[int], list[tuple[int, int]]]:
    import numpy as np

    rng = np.random.default_rng(seed)
    src, dst = rng.integers(0, args, 3 * args), rng.integers(0, args, 3 * args)
    return list(range(args)), list(zip(src.tolist(), dst.tolist()))


def semantics_once(args: int, seed: int) -> dict[str, Any]:
    from gauntlet.graphs.argument.semantics import grounded

    names, attacks = random_framework(args, seed)
    t0 = time.perf_counter()
    lab = grounded(names, attacks)
    elapsed = time.perf_counter() - t0
    return {"grounded_s": round(elapsed, 3), "attacks": len(attacks), "in": len(lab.inside), "out": len(lab.out),
            "undec": len(lab.undec)}


@bench_app.command()
@user_errors
def semantics(args: int = typer.Option(1_000_000, "--args", min=1, max=20_000_000),
              repeat: int = RepeatOpt, as_json: bool = JsonOpt) -> None:
    """Grounded labelling of a random framework with ~3N attacks. Example: gauntlet bench semantics --args 1000000"""
    samples = [semantics_once(args, seed) for seed in range(repeat)]
    _emit({"bench": "semantics", "args": args, **_median_of(samples, ("grounded_s",))})


# ui -----------------------------------------------------------------------------------------------------
def _bench_ui_fn() -> Callable[..., dict[str, Any]]:
    try:
        from gauntlet.ui.bench.bench_ui import bench_ui
    except ImportError as exc:
        raise InputError(f"the dashboard benchmark is not available ({exc})", field="bench ui",
                         fix="it lives in ui/bench/bench_ui.py; reinstall with pip install -e . and retry") from None
    return bench_ui


@bench_app.command()
@user_errors
def ui(nodes: int = typer.Option(10_000, "--nodes", min=1, max=1_000_000),
       repeat: int = RepeatOpt, as_json: bool = JsonOpt) -> None:
    """Server-side render time of the run page for a run of N nodes. Example: gauntlet bench ui --nodes 10000"""
    doc = _bench_ui_fn()(nodes=nodes, repeats=repeat)  # it takes the median itself
    _emit({"bench": "ui", "nodes": nodes, **doc})


# serve --------------------------------------------------------------------------------------------------
@bench_app.command()
@user_errors
def serve(endpoint: str = typer.Option(..., "--endpoint", help="OpenAI-compatible base URL, e.g. "
                                                                 "http://127.0.0.1:8000/v1 (a vllm serve)."),
          model: str = typer.Option("", "--model", help="Model name the server serves (default: its first)."),
          agents: int = typer.Option(64, "--agents", min=1, max=1024), rounds: int = typer.Option(1, "--rounds"),
          vllm_bench: bool = typer.Option(True, "--vllm-bench/--no-vllm-bench",
                                          help="Also run `vllm bench serve` on the same model for the baseline."),
          as_json: bool = JsonOpt) -> None:
    """Debate throughput (tokens/s) on a GPU server vs raw `vllm bench serve` on the same model, and the
    server's prefix-cache hit rate over the debate (from its /metrics).

    Example (GPU machine): gauntlet bench serve --endpoint http://127.0.0.1:8000/v1 --json
    """
    from gauntlet.agents.launch import served_model, vllm_bench_serve

    if not endpoint.startswith(("http://", "https://")):
        raise InputError(f"not an http(s) URL: {endpoint!r}", field="--endpoint", fix="e.g. http://127.0.0.1:8000/v1")
    from gauntlet.ui.bench.serve_metrics import with_hit_rate

    name = model or served_model(endpoint)
    doc, hit_rate = with_hit_rate(endpoint, lambda: serve_debate(endpoint, name, agents, rounds))
    doc["prefix_cache_hit_rate"] = hit_rate  # None when the server exports no prefix-cache metrics
    if vllm_bench:
        doc["vllm_bench"] = vllm_bench_serve(endpoint, name)
        raw = doc["vllm_bench"].get("output_throughput")
        doc["ratio_to_vllm_bench"] = round(doc["output_tokens_per_s"] / raw, 4) if raw else None
    _emit({"bench": "serve", "endpoint": endpoint, "model": name, **doc})


def serve_debate(endpoint: str, model: str, agents: int, rounds: int) -> dict[str, Any]:
    from gauntlet.agents.openai_backend import OpenAIBackend
    from gauntlet.graphs.run.runner import Runner, run_stats
    from gauntlet.graphs.store.store import Store

    loaded = bench_panel(agents, rounds)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(str(Path(tmp) / "serve.sqlite"))

        async def go() -> tuple[str, float]:
            llm = OpenAIBackend(endpoint, model, concurrency=agents + 8, max_tokens=320)
            try:
                t0 = time.perf_counter()
                return await Runner(store, llm=llm).start(loaded), time.perf_counter() - t0
            finally:
                await llm.aclose()

        run_id, wall = asyncio.run(go())
        stats = run_stats(store, run_id, wall)
        store.engine.dispose()
    return {"wall_s": round(wall, 3), "calls": stats["calls"], "output_tokens_per_s":
            round(stats["completion_tokens"] / wall, 1), "total_tokens_per_s":
            round((stats["prompt_tokens"] + stats["completion_tokens"]) / wall, 1), "stats": stats}
