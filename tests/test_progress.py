"""Progress everywhere: off a terminal, one plain line per turn on stderr (pipes and logs show the run is alive),
stdout keeps only the result, and --quiet prints nothing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _config(tmp_path: Path, url: str) -> Path:
    doc = yaml.safe_load((ROOT / "runs/configs/demo.yaml").read_text())
    doc["model"] = {"backend": "openai", "base_url": url, "name": "synthetic"}
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _run(tmp_path: Path, url: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "run", str(_config(tmp_path, url)), "--db",
                           str(tmp_path / "g.sqlite"), "--json", *flags], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def test_piped_run_prints_one_line_per_turn(tmp_path: Path, synthetic_url: str) -> None:
    out = _run(tmp_path, synthetic_url)
    assert out.returncode == 0, out.stderr
    assert set(json.loads(out.stdout)) == {"run_id"}  # stdout is the one JSON document
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    turns = [ln for ln in lines if re.match(r"^\[\s*\d+\.\d+s\] round \d+ step \d+\s+\w+\s+\S+", ln)]
    assert len(turns) >= 5 and len(turns) == len(lines), out.stderr
    assert any(" propose " in ln for ln in turns) and any(" critique " in ln for ln in turns)


def test_quiet_run_prints_nothing_on_stderr(tmp_path: Path, synthetic_url: str) -> None:
    out = _run(tmp_path, synthetic_url, "--quiet")
    assert out.returncode == 0 and out.stderr.strip() == "", out.stderr
    assert "run_id" in json.loads(out.stdout)
