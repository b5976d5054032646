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


def test_iccma_tasks_text_and_json(tmp_path):
    f = tmp_path / "floating.af"
    # 1 <-> 2, both attack 3, 3 attacks 4: 4 is sceptically accepted under preferred, not under grounded.
    f.write_text("p af 4\n1 2\n2 1\n1 3\n2 3\n3 4\n")
    ds = gauntlet("af", str(f), "-s", "preferred", "--task", "DS", "--arg", "4")
    assert ds.returncode == 0 and ds.stdout == "YES\n"
    ds = gauntlet("af", str(f), "-s", "complete", "--task", "DS", "--arg", "4")
    assert ds.stdout.splitlines()[0] == "NO" and ds.stdout.splitlines()[1].startswith("w")
    dc = gauntlet("af", str(f), "-s", "stable", "--task", "DC", "--arg", "1", "--json")
    doc = json.loads(dc.stdout)
    assert doc["accepted"] is True and "1" in doc["witness"] and "4" in doc["witness"]
    se = gauntlet("af", str(f), "-s", "preferred", "--task", "SE")
    assert se.stdout in ("w 1 4\n", "w 2 4\n")
    ee = gauntlet("af", str(f), "-s", "preferred", "--task", "EE", "--json")
    doc = json.loads(ee.stdout)
    assert sorted(doc["extensions"]) == [["1", "4"], ["2", "4"]] and doc["count"] == 2
    ee = gauntlet("af", str(f), "-s", "complete", "--task", "EE", "--limit", "2")
    assert len(ee.stdout.splitlines()) == 2 and all(line.startswith("w") for line in ee.stdout.splitlines())
    plain = gauntlet("af", str(f), "-s", "complete", "--json")
    assert json.loads(plain.stdout) == {"extensions": [[], ["1", "4"], ["2", "4"]]}


def test_stable_se_without_extension_and_bad_task_options(tmp_path):
    f = tmp_path / "odd.apx"
    f.write_text("arg(a).\narg(b).\narg(c).\natt(a,b).\natt(b,c).\natt(c,a).\n")
    assert gauntlet("af", str(f), "-s", "stable", "--task", "SE").stdout == "NO\n"
    assert gauntlet("af", str(f), "-s", "stable", "--task", "DS", "--arg", "a").stdout == "YES\n"  # vacuous
    bad = gauntlet("af", str(f), "--task", "DC")
    assert bad.returncode == 2 and "--arg" in bad.stderr
    bad = gauntlet("af", str(f), "--task", "DC", "--arg", "zz")
    assert bad.returncode == 2 and "zz" in bad.stderr and bad.stderr.count("\n") == 1
    bad = gauntlet("af", str(f), "--task", "XX")
    assert bad.returncode == 2 and "--task" in bad.stderr


def test_large_documents_are_the_same_json_as_the_encoder_gives():
    from gauntlet.graphs.argument.iccma import dumps
    plain_names = {"in": [f"a{i}" for i in range(20_000)], "out": [], "undec": ["é", "b"]}
    odd_names = {"in": ['a"b', "c\\d", "e\x01", "é\u2028"] + ["x"] * 20_000, "out": ["y"], "undec": []}
    for doc in (plain_names, odd_names):
        text = dumps(doc)
        assert text == json.dumps(doc, ensure_ascii=False) and json.loads(text) == doc
