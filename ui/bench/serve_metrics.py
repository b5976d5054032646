"""The prefix-cache hit rate of a vLLM server over one debate, from its Prometheus `/metrics` text.

vLLM V1 exports counters `vllm:prefix_cache_queries_total` and `vllm:prefix_cache_hits_total` (tokens); older
engines a gauge `vllm:gpu_prefix_cache_hit_rate`. The rate over a debate is the counters' difference across it.
"""

from __future__ import annotations

import re
from typing import Any

_LINE = re.compile(r"^(?P<name>[a-zA-Z_:][\w:]*)(?:\{[^}]*\})?\s+(?P<value>[-+0-9.eE]+|NaN)\s*$")


def metric_sums(text: str) -> dict[str, float]:
    """Every sample of the exposition text, summed over label sets (one value per metric name)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if m and m["value"] != "NaN":
            out[m["name"]] = out.get(m["name"], 0.0) + float(m["value"])
    return out


def prefix_cache_hit_rate(before: str, after: str) -> float | None:
    """Hits / queries between two scrapes; the gauge when only that exists; None when the server has neither."""
    a, b = metric_sums(before), metric_sums(after)
    queries = b.get("vllm:prefix_cache_queries_total", 0.0) - a.get("vllm:prefix_cache_queries_total", 0.0)
    if queries > 0:
        hits = b.get("vllm:prefix_cache_hits_total", 0.0) - a.get("vllm:prefix_cache_hits_total", 0.0)
        return round(hits / queries, 4)
    gauge = b.get("vllm:gpu_prefix_cache_hit_rate")
    return round(gauge, 4) if gauge is not None else None


def scrape(endpoint: str) -> str:
    """The server's /metrics text (beside /v1), or "" when it has none (llama.cpp, hosted APIs)."""
    import httpx
    try:
        resp = httpx.get(endpoint.rstrip("/").removesuffix("/v1") + "/metrics", timeout=10)
    except httpx.HTTPError:
        return ""
    return resp.text if resp.status_code == 200 else ""


def with_hit_rate(endpoint: str, run: Any) -> tuple[Any, float | None]:
    """Call run() and measure the prefix-cache hit rate across it."""
    before = scrape(endpoint)
    result = run()
    return result, prefix_cache_hit_rate(before, scrape(endpoint))
