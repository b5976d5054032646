"""`gauntlet doctor`: a healthy installation exits 0; a missing model (no assembled file, no chunk packages) or an
unreachable database exits 2 naming the reason. Tested through the command function on a small Typer app (the
CLI attaches the same function) and through the check functions with what they read injected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

from gauntlet.ui import doctor as doc

ROOT = Path(__file__).resolve().parent.parent
app = typer.Typer()
app.command()(doc.doctor)
app.command("noop", hidden=True)(lambda: None)  # two commands, so `doctor` is invoked by name as in the CLI


def invoke(*args: str, **env: str):
    result = CliRunner().invoke(app, ["doctor", *args], env=env or None)
    return result.exit_code, result.stdout


def test_a_healthy_setup_exits_0_and_reports_everything(tmp_path):
    code, out = invoke("--json", "--db", str(tmp_path / "fresh.sqlite"))
    report = json.loads(out)
    assert code == 0 and report["demo_can_run"] and report["reasons"] == [], report["reasons"]
    checks = {c["name"]: c for c in report["checks"]}
    assert set(checks) == {"python", "platform", "llama.cpp", "amx workaround", "decoder", "embedded model", "z3",
                           "lean", "chromium", "database", "caches"}
    assert checks["decoder"]["detail"].startswith(("on: ", "off: "))
    assert "content_free" in checks["caches"]["data"]
    assert set(checks["platform"]["data"]["cpu_features"]) == {"avx2", "avx512", "amx"}
    assert "AVX2" in checks["llama.cpp"]["detail"] or "SSE3" in checks["llama.cpp"]["detail"]
    model = checks["embedded model"]["data"]
    assert model.get("sha256") in (None, model["expected_sha256"])  # hashed when assembled, else not yet built
    assert checks["database"]["data"]["head"] and "not created yet" in checks["database"]["detail"]
    assert not (tmp_path / "fresh.sqlite").exists()  # doctor never writes the database
    assert checks["lean"]["status"] in ("ok", "warn") and ("elan" in checks["lean"]["fix"] or
                                                         checks["lean"]["status"] == "ok")


def test_an_existing_database_reports_its_revision(tmp_path):
    from gauntlet.graphs.store.store import Store
    Store(str(tmp_path / "g.sqlite")).engine.dispose()
    check = doc.check_database(str(tmp_path / "g.sqlite"))
    assert check.status == "ok" and check.data["revision"] == check.data["head"] and "newest" in check.detail


def test_an_unreachable_database_exits_2_with_the_reason():
    code, out = invoke("--json", "--no-hash", "--db", "postgresql+psycopg://gauntlet:secret@127.0.0.1:9/none")
    report = json.loads(out)
    assert code == 2 and not report["demo_can_run"]
    assert len(report["reasons"]) == 1 and report["reasons"][0].startswith("database: cannot connect")
    assert "secret" not in out  # the password is never printed


def test_a_missing_model_fails_the_check_and_the_verdict(tmp_path):
    """GAUNTLET_CACHE pointing at an empty directory and the chunk packages hidden: nothing to load or build."""
    check = doc.check_model(models_dir=tmp_path / "models", find_spec=lambda name: None)
    assert check.status == "fail" and "22 of 22 chunk packages are missing" in check.detail
    assert "pip install -e ." in check.fix
    verdict = doc.verdict([doc.check_python(), check])
    assert verdict["exit_code"] == 2 and verdict["reasons"][0].startswith("embedded model: no model file")


def test_an_empty_cache_with_chunks_installed_is_fine(tmp_path):
    code, out = invoke("--json", "--no-hash", "--db", str(tmp_path / "x.sqlite"), GAUNTLET_CACHE=str(tmp_path))
    report = json.loads(out)
    model = next(c for c in report["checks"] if c["name"] == "embedded model")
    caches = next(c for c in report["checks"] if c["name"] == "caches")
    assert code == 0 and "not assembled yet" in model["detail"] and model["data"]["missing_chunks"] == []
    assert caches["data"]["root"] == str(tmp_path)
    assert caches["data"]["prover_cache"] == str(tmp_path / "prover-cache.sqlite")


def test_a_damaged_model_file_fails(tmp_path):
    (tmp_path / "qwen2.5-coder-1.5b-instruct-q4.gguf").write_bytes(b"GGUF" + b"\0" * 100)
    check = doc.check_model(models_dir=tmp_path)
    assert check.status == "fail" and "damaged" in check.detail


def test_a_bad_repack_setting_is_a_failure_with_its_fix():
    check = doc.check_load_params(env={"GAUNTLET_LLAMA_REPACK": "sometimes"})
    assert check.status == "fail" and "GAUNTLET_LLAMA_REPACK" in check.fix


def test_the_table_names_failures(tmp_path):
    code, out = invoke("--no-hash", "--db", "postgresql+psycopg://u@127.0.0.1:9/none")
    assert code == 2 and "The demo cannot run" in out and "database" in out


def test_prove_keeps_its_cache_under_the_cache_directory(tmp_path):
    """`gauntlet prove` without --db once wrote runs/prover-cache.sqlite into whatever directory it ran in."""
    cache = tmp_path / "cache"
    env = {**os.environ, "GAUNTLET_CACHE": str(cache)}
    env.pop("GAUNTLET_PROVER_CACHE", None)
    out = subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", "prove",
                          str(ROOT / "provers" / "examples" / "square_ge_self.smt2"), "--json"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-500:]
    assert (cache / "prover-cache.sqlite").is_file() and not (tmp_path / "runs").exists()
