"""Sweeps: the grid (pure) and a real sweep on local Ray against the synthetic server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gauntlet.errors import InputError
from gauntlet.graphs.run.sweep import grid, parse_param

CONFIG = """topic: t
seed: 1
panel: {proposers: [ml-empiricist], critics: [security-engineer], judge: philosopher-of-science}
model: {backend: openai, base_url: 'URL', name: synthetic, max_retries: 1}
provers: {enabled: false}
"""


def config(tmp_path: Path, url: str = "http://127.0.0.1:1/v1") -> Path:
    p = tmp_path / "sweep.yaml"
    p.write_text(CONFIG.replace("URL", url))
    return p


def test_params_parse_as_yaml_lists():
    assert parse_param("rounds=1,2,3") == ("rounds", [1, 2, 3])
    assert parse_param("panel.critics=[a]|[a, b]") == ("panel.critics", [["a"], ["a", "b"]])
    with pytest.raises(InputError, match="bad --param"):
        parse_param("rounds")


def test_grid_is_the_product_and_every_point_is_validated(tmp_path):
    points = grid(config(tmp_path), ["rounds=1,2,3", "seed=4,5"])
    assert [p.params for p in points][:2] == [{"rounds": 1, "seed": 4}, {"rounds": 1, "seed": 5}]
    assert len(points) == 6
    with pytest.raises(InputError, match="rounds") as exc:
        grid(config(tmp_path), ["rounds=1,99"])  # 99 > the allowed maximum, caught before any run
    assert "\n" not in exc.value.one_line()
    with pytest.raises(InputError, match="given twice"):
        grid(config(tmp_path), ["rounds=1", "rounds=2"])


def test_a_real_sweep_on_local_ray_writes_every_run_to_one_database(tmp_path, synthetic_url):
    pytest.importorskip("ray", reason="sweeps need Ray: pip install -e .[cluster]")
    db = tmp_path / "sweep.sqlite"
    out = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "sweep", str(config(tmp_path, synthetic_url)),
                          "--param", "rounds=1,2", "--db", str(db), "--json"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-1500:]
    runs = json.loads(out.stdout)["runs"]
    assert [r["params"] for r in runs] == [{"rounds": 1}, {"rounds": 2}]
    assert all(r["status"] == "done" for r in runs)
    listed = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "runs", "--db", str(db), "--json"],
                            capture_output=True, text=True, timeout=60)
    assert {r["run_id"] for r in json.loads(listed.stdout)} == {r["run_id"] for r in runs}
