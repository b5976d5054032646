"""`gauntlet bench embedded`: the embedded model on this machine, with the prefix cache on and off.

Runs the demo debate (runs/configs/demo.yaml unless --config) in this process on the embedded model, alternating
cache on / cache off for `--repeats` rounds so both see the same machine load, and reports for each mode the
medians of: the debate's wall time and its per-phase split (LLM seconds per move, from the stored calls),
seconds per call by move, prompt tokens/s (tokens evaluated, not reused, over prompt-evaluation time), generated
tokens/s (over generation time, sampling and grammar included) and the prefix-cache hit rate. Both modes evaluate
the same prompt segments, so a seeded demo gives the same debate either way (`same_output` checks it): the
difference is only the work. The model loads once (`model_load_s`), as it does once per `gauntlet run`.

Content-free passes (the label-bias measurements of scored questions, agents/content_free_store.py): with
`--content-free measured` (the default) every demo starts without any and measures its own, as a new user's first
run does; with `stored` they come from the store in the cache directory, as every later run's do (the bench's
first demo fills it when empty). Each sample says how many it measured (`content_free_measured`). The prefix
states of first messages (agents/prefix_store.py) follow the same choice: none with `measured`, the stored ones
with `stored`; each mode reports how many it restored from disk (`from_disk`).

Run it alone on the machine (`flock /tmp/gauntlet-model.lock gauntlet bench embedded`): a second model process
slows both about tenfold on 2 cores.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import typer

from gauntlet.ui.user_errors import user_errors

DEMO = Path("runs/configs/demo.yaml")


def phase_split(calls: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per move (the call's phase): calls, LLM seconds, median seconds per call, prompt and generated tokens."""
    out: dict[str, dict[str, Any]] = {}
    for c in calls:
        row = out.setdefault(str(c.get("phase") or "?"), {"calls": 0, "seconds": 0.0, "per_call": [],
                                                         "prompt_tokens": 0, "completion_tokens": 0})
        row["calls"] += 1
        row["seconds"] += float(c.get("latency_s") or 0.0)
        row["per_call"].append(float(c.get("latency_s") or 0.0))
        row["prompt_tokens"] += int(c.get("prompt_tokens") or 0)
        row["completion_tokens"] += int(c.get("completion_tokens") or 0)
    for row in out.values():
        row["seconds"] = round(row["seconds"], 2)
        row["seconds_per_call"] = round(statistics.median(row.pop("per_call")), 2)
    return out


def delta(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """The session figures of one debate: the backend's cumulative counters after minus before."""
    cache = {k: after["cache"].get(k, 0) - before.get("cache", {}).get(k, 0)
             for k in ("calls", "hits", "restored", "from_disk", "reused_tokens", "evaluated_tokens")}
    t = {k: after["timings"][k] - before.get("timings", {}).get(k, 0)
         for k in ("prompt_s", "prompt_tokens", "generate_s", "generated_tokens")}
    total = cache["reused_tokens"] + cache["evaluated_tokens"]
    return {"hit_rate": round(cache["hits"] / cache["calls"], 3) if cache["calls"] else 0.0,
            "reused_share": round(cache["reused_tokens"] / total, 3) if total else 0.0,
            "model_calls": cache["calls"], "prefix_hits": cache["hits"], "restored": cache["restored"],
            "from_disk": cache["from_disk"],
            "prompt_tokens_evaluated": t["prompt_tokens"], "prompt_s": round(t["prompt_s"], 2),
            "prompt_tokens_per_s": round(t["prompt_tokens"] / t["prompt_s"], 1) if t["prompt_s"] else 0.0,
            "generated_tokens": t["generated_tokens"], "generate_s": round(t["generate_s"], 2),
            "generated_tokens_per_s": round(t["generated_tokens"] / t["generate_s"], 2) if t["generate_s"] else 0.0}


def summarise(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over repeats of the scalar figures; the per-phase split of the median-wall run; every sample."""
    keys = ("wall_s", "hit_rate", "reused_share", "prompt_tokens_per_s", "generated_tokens_per_s",
            "prompt_tokens_evaluated", "generated_tokens", "prompt_s", "generate_s", "calls",
            "content_free_measured", "from_disk")
    ordered = sorted(samples, key=lambda s: s["wall_s"])
    mid = ordered[len(ordered) // 2]
    doc: dict[str, Any] = {k: round(statistics.median(s.get(k, 0) for s in samples), 3) for k in keys}
    doc["phases"] = mid["phases"]
    doc["outcome"] = mid.get("outcome")
    doc["samples"] = [{k: s[k] for k in ("wall_s", "hit_rate", "generated_tokens_per_s", "calls")} for s in samples]
    return doc


def outcome(doc: dict[str, Any]) -> dict[str, Any]:
    """What the debate decided, from its `show --json` document: each idea's status and whether it was examined,
    and how many rulings had an accepted vote (a faster demo that decides less is no win)."""
    ideas = [{"id": i["id"], "status": i["status"], "examined": bool(i.get("examined"))} for i in doc["ideas"]]
    return {"ideas": ideas, "examined": sum(i["examined"] for i in ideas),
            "statuses": {s: sum(i["status"] == s for i in ideas) for s in sorted({i["status"] for i in ideas})}}


def transcript_of(calls: list[dict[str, Any]]) -> str:
    """What a debate said, by call key: concurrent calls (the critics' fan-out) finish in an order that depends on
    thread timing, while each call's content depends only on the seed and its place in the debate."""
    return json.dumps(sorted((c.get("key", ""), c.get("response")) for c in calls))


async def _one_demo(config: Path, db: str, backend: Any) -> tuple[float, list[dict[str, Any]], str,
                                                                  dict[str, Any]]:
    from gauntlet.graphs.run.loading import load_config
    from gauntlet.graphs.run.runner import Runner, call_payloads
    from gauntlet.graphs.store.store import Store
    from gauntlet.graphs.store.views import show

    loaded = load_config(config)
    store = Store(db)
    t0 = time.perf_counter()
    run_id = await Runner(store, llm=backend).start(loaded)
    wall = time.perf_counter() - t0
    calls = call_payloads(store, run_id)
    transcript = transcript_of(calls)
    decided = outcome(show(store, run_id, analyse=False))
    store.engine.dispose()
    return wall, calls, transcript, decided


def bench_embedded(config: Path, repeats: int, content_free: str = "measured") -> dict[str, Any]:
    import os

    from gauntlet.agents import calibration, content_free_store, prefix_store
    from gauntlet.agents.backends import make_llm
    from gauntlet.graphs.run.loading import load_config
    from gauntlet.graphs.run.event_loop import run as run_loop

    cfg = load_config(config).config
    if cfg.model.backend != "embedded":
        from gauntlet.errors import InputError
        raise InputError("the config does not use the embedded model", file=str(config), field="model.backend",
                         fix="use runs/configs/demo.yaml or a config with backend: embedded")
    backend = make_llm(cfg.model, seed=cfg.seed)
    t0 = time.perf_counter()
    session = backend.session()
    session.decoder()  # the generating copy, where this CPU gets one: loaded here, not inside the first demo
    load_s = time.perf_counter() - t0
    modes: dict[str, list[dict[str, Any]]] = {"cache_on": [], "cache_off": []}
    transcripts: dict[str, set[str]] = {"cache_on": set(), "cache_off": set()}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats):
            for mode in ("cache_on", "cache_off") if r % 2 == 0 else ("cache_off", "cache_on"):
                session.evaluator.enabled = mode == "cache_on"
                session.evaluator.states.clear()
                session.evaluator.invalidate()
                calibration._CONTENT_FREE.clear()  # each demo starts as a fresh process would
                saved = {env: os.environ.get(env) for env in (content_free_store.ENV, prefix_store.ENV)}
                if content_free == "measured":  # a cold first run: no stored passes, no stored prefix states
                    os.environ[content_free_store.ENV] = f"{tmp}/content-free-{mode}-{r}.sqlite"
                    os.environ[prefix_store.ENV] = f"{tmp}/prefix-states-{mode}-{r}.sqlite"
                before, measured = backend.stats(), calibration.CONTENT_FREE_MEASURED[0]
                try:
                    wall, calls, transcript, decided = run_loop(_one_demo(config, f"{tmp}/{mode}-{r}.sqlite",
                                                                          backend))
                finally:
                    for env, value in saved.items():
                        if value is None:
                            os.environ.pop(env, None)
                        else:
                            os.environ[env] = value
                sample = {"wall_s": round(wall, 2), "calls": len(calls), "phases": phase_split(calls),
                          "outcome": decided,
                          "content_free_measured": calibration.CONTENT_FREE_MEASURED[0] - measured,
                          **delta(backend.stats(), before)}
                modes[mode].append(sample)
                transcripts[mode].add(transcript)
                print(f"bench embedded: {mode} run {r + 1}/{repeats}: {wall:.1f} s", file=sys.stderr, flush=True)
    from gauntlet.agents.prefix_cache import cache_enabled
    session.evaluator.enabled = cache_enabled()  # back to what the environment asks for
    from gauntlet.agents import llama_runtime
    params = llama_runtime.applied()
    return {"bench": "embedded", "config": str(config), "repeats": repeats, "model": backend.name,
            "content_free": content_free,
            "model_load_s": round(load_s, 2),
            "amx_workaround": bool(params and params.amx_workaround),
            "decoder": session.decoder() is not None,
            "cache_on": summarise(modes["cache_on"]), "cache_off": summarise(modes["cache_off"]),
            "same_output": len(transcripts["cache_on"] | transcripts["cache_off"]) == 1}


@user_errors
def embedded(config: Path = typer.Option(DEMO, "--config", help="An embedded-model run config (the demo by "
                                                                  "default)."),
             repeats: int = typer.Option(1, "--repeats", min=1, max=9, help="Demo runs per mode (medians)."),
             content_free: str = typer.Option("measured", "--content-free",
                                              help="measured: each demo measures its label-bias passes (a first "
                                                   "run); stored: read them from the cache directory (later runs)."),
             as_json: bool = typer.Option(True, "--json/--no-json", help="Print JSON (the only output format)."),
             out: Optional[Path] = typer.Option(None, "--out", help="Also write the JSON to this file.")) -> None:
    """The embedded model's speed on this machine: the demo's wall time and per-phase split, prompt and generated
    tokens/s and the prefix-cache hit rate, each a median over --repeats, with the prefix cache on and off.
    Nothing else should run the model meanwhile (wrap it in `flock /tmp/gauntlet-model.lock …` on a shared machine).

    Example: gauntlet bench embedded --repeats 3 --json
    """
    if not config.is_file():
        from gauntlet.errors import InputError
        raise InputError("no such config file", file=str(config), fix="run from the repository root or pass "
                         "--config runs/configs/demo.yaml")
    if content_free not in ("measured", "stored"):
        from gauntlet.errors import InputError
        raise InputError(f"unknown --content-free value {content_free!r}", field="--content-free",
                         fix="use measured or stored")
    doc = bench_embedded(config, repeats, content_free)
    text = json.dumps(doc, sort_keys=True)
    if out is not None:
        out.write_text(text + "\n")
    sys.stdout.write(text + "\n")


def register(app: typer.Typer) -> None:
    app.command("embedded")(embedded)
