"""`gauntlet af` on ICCMA files, through the installed command (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data" / "af"


def gauntlet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gauntlet.ui.cli", *args], capture_output=True, text=True, timeout=120)


def test_grounded_on_apx_odd_cycle():
    out = gauntlet("af", str(DATA / "odd_cycle.apx"), "--semantics", "grounded", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"in": [], "out": [], "undec": ["a", "b", "c"]}


def test_preferred_on_tgf_even_cycle():
    out = gauntlet("af", str(DATA / "even_cycle.tgf"), "--semantics", "preferred", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"extensions": [["a", "c"], ["b"]]}


def test_grounded_on_iccma23_chain():
    out = gauntlet("af", str(DATA / "chain.af"), "--json")
    assert json.loads(out.stdout) == {"in": ["1", "3"], "out": ["2", "4"], "undec": []}


def test_bad_framework_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.apx"
    bad.write_text("arg(a).\natt(a,zz).\n")
    out = gauntlet("af", str(bad), "--json")
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "bad.apx:2" in out.stderr and "zz" in out.stderr
    assert "Traceback" not in out.stderr
    garbage = tmp_path / "g.apx"
    garbage.write_text("hello world\n")
    out = gauntlet("af", str(garbage))
    assert out.returncode == 2 and "g.apx:1" in out.stderr


def test_unknown_format_and_semantics():
    out = gauntlet("af", "x.txt")
    assert out.returncode == 2 and "format" in out.stderr
    out = gauntlet("af", str(DATA / "chain.af"), "--semantics", "semi-stable")
    assert out.returncode == 2 and "--semantics" in out.stderr
