"""The prefix-cache hit rate `gauntlet bench serve` reports, from vLLM's Prometheus text (no GPU needed)."""

from gauntlet.ui.bench.serve_metrics import metric_sums, prefix_cache_hit_rate

BEFORE = """# HELP vllm:prefix_cache_queries_total Prefix cache queries, in terms of number of queried tokens.
# TYPE vllm:prefix_cache_queries_total counter
vllm:prefix_cache_queries_total{engine="0",model_name="m"} 1000.0
vllm:prefix_cache_hits_total{engine="0",model_name="m"} 100.0
"""
AFTER = """vllm:prefix_cache_queries_total{engine="0",model_name="m"} 11000.0
vllm:prefix_cache_hits_total{engine="0",model_name="m"} 8100.0
vllm:num_requests_running{model_name="m"} NaN
"""


def test_hit_rate_is_the_counters_difference_over_the_debate():
    assert prefix_cache_hit_rate(BEFORE, AFTER) == 0.8  # (8100-100) / (11000-1000)


def test_older_gauge_and_servers_without_metrics():
    assert prefix_cache_hit_rate("", 'vllm:gpu_prefix_cache_hit_rate{model_name="m"} 0.62\n') == 0.62
    assert prefix_cache_hit_rate("", "") is None
    assert metric_sums(AFTER)["vllm:prefix_cache_queries_total"] == 11000.0
