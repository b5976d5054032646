"""`gauntlet bench …`: the measurements of ui/bench, each printing one JSON object."""

from __future__ import annotations

from gauntlet.ui.bench import bench_af, bench_coverage, bench_embedded
from gauntlet.ui.bench.bench import bench_app as app

app.command("coverage")(bench_coverage.coverage)
bench_af.register(app)
bench_embedded.register(app)
