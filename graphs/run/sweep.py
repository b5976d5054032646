"""Sweeps: a grid of runs (config × --param values) as Ray tasks, all writing to one database.

Local Ray on one machine (SQLite WAL is fine: runs are separate processes, writes are short); a `ray://` address
for a cluster, where the database must be a server every node reaches (PostgreSQL). See BENCHMARKS.md / README.

Model servers are shared, not multiplied: the driver starts (or attaches to) each `model.launch` server once
and every worker talks to it over HTTP; with `share_model` the embedded model is served once by llama.cpp's
server instead of being loaded (1 GB) by every worker. The driver releases its leases when the sweep ends.
"""

from __future__ import annotations

import copy
import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from gauntlet.graphs.run.loading import LoadedConfig, load_config, parse_config
from gauntlet.errors import InputError

NEEDS_RAY = "sweeps run on Ray: pip install -e '.[cluster]'"


@dataclass
class SweepPoint:
    """One run of the grid: the values it sets and the validated config text."""

    params: dict[str, Any]
    config_yaml: str
    label: str = ""


@dataclass
class SweepResult:
    points: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0


def parse_param(spec: str) -> tuple[str, list[Any]]:
    """`KEY=V1,V2` (values as YAML; separate with `|` instead when a value has commas, e.g. a list)."""
    key, eq, values = spec.partition("=")
    key = key.strip()
    if not eq or not key or not values.strip():
        raise InputError(f"bad --param {spec!r}", field="--param", fix="write KEY=V1,V2 e.g. rounds=1,2,3")
    parts = values.split("|") if "|" in values else values.split(",")
    try:
        return key, [yaml.safe_load(p.strip()) for p in parts]
    except yaml.YAMLError:
        raise InputError(f"--param {key}: a value is not valid YAML", field="--param",
                         fix="quote it, or separate list values with |") from None


def _set(doc: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = doc
    for p in parents:
        if not isinstance(node.get(p, {}), dict):
            raise InputError(f"--param {dotted}: {p} is not a mapping", field="--param", fix="check the key path")
        node = node.setdefault(p, {})
    node[last] = value


def grid(config_path: Path, params: list[str]) -> list[SweepPoint]:
    """Every combination of the --param values, each validated like `gauntlet run` would (errors before Ray)."""
    load_config(config_path)  # the base config must be valid on its own, with its file/line errors
    base = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    axes = [parse_param(p) for p in params]
    keys = [k for k, _ in axes]
    if len(set(keys)) != len(keys):
        raise InputError("a --param key is given twice", field="--param", fix="give each key once with all values")
    points = []
    for combo in itertools.product(*[v for _, v in axes]) if axes else [()]:
        doc = copy.deepcopy(base)
        chosen = dict(zip(keys, combo))
        for k, v in chosen.items():
            _set(doc, k, v)
        text = yaml.safe_dump(doc, sort_keys=False)
        label = ", ".join(f"{k}={v}" for k, v in chosen.items()) or "base"
        parse_config(text, source=f"{config_path} [{label}]", base_dir=config_path.parent)
        points.append(SweepPoint(chosen, text, label))
    return points


def served_once(model: dict[str, Any]) -> dict[str, Any]:
    """The embedded model's config rewritten to a llama.cpp server launch every worker shares (same knobs)."""
    if model.get("backend", "embedded") != "embedded":
        return model
    keep = {k: model[k] for k in ("path", "temperature", "max_tokens", "n_ctx", "threads") if k in model}
    # The server answers one request at a time: one in flight per worker keeps latencies honest (no hidden
    # queue inside the server counting against the client's timeout).
    return {**keep, "backend": "openai", "launch": True, "launch_engine": "llama.cpp", "concurrency": 1,
            "timeout_s": 600, "launch_port": int(model.get("launch_port", 8090))}


def _launches(point: SweepPoint) -> bool:
    doc = yaml.safe_load(point.config_yaml) or {}
    models = [doc.get("model") or {}, *(doc.get("endpoints") or {}).values()]
    return any(isinstance(m, dict) and m.get("launch") for m in models)


def share_servers(points: list[SweepPoint], *, share_model: bool = False) -> tuple[list[SweepPoint], list[Any]]:
    """Start (or attach to) every server the points launch, once; the points rewritten to use them by URL."""
    from gauntlet.agents.routing import attached
    from gauntlet.agents.server_share import SharedServer
    from gauntlet.config import ModelConfig

    servers: dict[tuple[Any, ...], tuple[Any, str]] = {}
    out: list[SweepPoint] = []
    try:
        for point in points:
            doc = yaml.safe_load(point.config_yaml)
            slots = [("model", doc.get("model") or {})] + [(f"endpoints.{k}", v) for k, v in
                                                           (doc.get("endpoints") or {}).items()]
            for where, raw in slots:
                raw = served_once(raw) if share_model else raw
                cfg = ModelConfig.model_validate(raw)
                if cfg.launch:
                    key = (cfg.launch_engine, cfg.launch_port, cfg.name, cfg.path)
                    if key not in servers:
                        shared = SharedServer(cfg)
                        servers[key] = (shared, shared.acquire())
                    raw = attached(cfg, servers[key][1]).model_dump(mode="json", exclude_defaults=True)
                _set(doc, where, raw)
            out.append(SweepPoint(point.params, yaml.safe_dump(doc, sort_keys=False), point.label))
    except BaseException:
        for shared, _ in servers.values():
            shared.release()
        raise
    return out, [shared for shared, _ in servers.values()]


def run_point(point: SweepPoint, base_dir: str, db: str | None) -> dict[str, Any]:
    """Run one grid point to the end in this process (a Ray worker); its run id and stats."""
    import asyncio

    from gauntlet.graphs.run.runner import Runner
    from gauntlet.graphs.store.store import Store

    loaded: LoadedConfig = parse_config(point.config_yaml, source=point.label, base_dir=Path(base_dir))
    store = Store(db, create=True)
    try:
        run_id = asyncio.run(Runner(store).start(loaded))
        info = store.run_info(store.run(run_id))
        return {"params": point.params, "run_id": run_id, "status": info.status, "stats": info.stats}
    finally:
        store.engine.dispose()


def run_sweep(points: list[SweepPoint], *, base_dir: Path, db: str | None, address: str | None = None,
              cpus_per_run: float = 0.5, on_done: Callable[[dict[str, Any]], None] | None = None,
              share_model: bool = False) -> SweepResult:
    """Submit every point as a Ray task; results in grid order. `on_done` is called as each one finishes.
    Launched model servers are started once here and shared by the workers (see share_servers)."""
    try:
        import ray
    except ImportError:
        raise InputError("ray is not installed", field="sweep", fix="pip install -e '.[cluster]'") from None
    from gauntlet.graphs.store.store import db_url

    url = db_url(db)
    if address and url.startswith("sqlite"):
        raise InputError("a cluster sweep needs a database every node reaches", field="--db",
                         fix="pass --db postgresql+psycopg://user@host/gauntlet")
    if url.startswith("sqlite"):  # workers may start elsewhere: give them an absolute path
        url = "sqlite:///" + str(Path(url.removeprefix("sqlite:///")).resolve())
    t0 = time.perf_counter()
    if address and (share_model or any(_launches(p) for p in points)):
        raise InputError("a cluster sweep cannot share a launched model server (it listens on the driver's "
                         "127.0.0.1)", field="model.launch",
                         fix="start the server yourself and give model.base_url reachable from every node")
    points, servers = share_servers(points, share_model=share_model)
    started_here = False
    try:
        started_here = not ray.is_initialized()
        if started_here:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
        # Runs wait on LLM calls, not CPU: a fraction of a CPU each lets several share a core.
        task = ray.remote(num_cpus=cpus_per_run, max_retries=0)(run_point)
        pending = {task.remote(p, str(base_dir.resolve()), url): i for i, p in enumerate(points)}
        results: list[dict[str, Any] | None] = [None] * len(points)
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            i = pending.pop(done[0])
            try:
                results[i] = ray.get(done[0])
            except ray.exceptions.RayTaskError as exc:
                cause = str(exc.cause if hasattr(exc, "cause") else exc).strip().splitlines()[-1][:300]
                results[i] = {"params": points[i].params, "run_id": None, "status": "failed", "error": cause}
            if on_done:
                on_done(results[i])  # type: ignore[arg-type]
    finally:
        if started_here:
            ray.shutdown()
        for shared in servers:
            shared.release()
    return SweepResult(points=[r for r in results if r is not None], wall_s=round(time.perf_counter() - t0, 3))
