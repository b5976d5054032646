"""Screening of untrusted Lean: every forbidden construct and its obfuscations are refused, harmless proofs
pass, and a refused file never reaches a process."""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gauntlet.provers import lean
from gauntlet.provers.router import Router
from gauntlet.provers.screen import screen_lean

ROOT = Path(__file__).resolve().parent.parent
THM = "theorem t (x : ℕ) : x ≤ x * x + 1 := by nlinarith\n"

HOSTILE = {
    "eval": '#eval IO.println "hi"',
    "eval_bang": "#eval! (1 : Nat)",
    "run_cmd": 'run_cmd Lean.logInfo "x"',
    "run_tac": "example : True := by run_tac pure ()",
    "run_elab": "run_elab pure ()",
    "run_meta": "run_meta pure ()",
    "io_def": 'def f : IO Unit := IO.println "x"',
    "io_process": 'def f := IO.Process.run { cmd := "sh" }',
    "unsafe": "unsafe def f : Nat := 0",
    "extern": '@[extern "system"] opaque sh : String → UInt32',
    "implemented_by": "@[implemented_by g] def f : Nat := 0",
    "open_system": "open System in\ndef p : FilePath := \"/\"",
    "initialize": "initialize r : Nat ← pure 0",
    "builtin_initialize": "builtin_initialize pure ()",
    "init_attr": "@[init g] def f : Nat := 0",
    "elab": 'elab "boom" : command => pure ()',
    "macro": 'macro "boom" : command => `(#check 1)',
    "macro_rules": "macro_rules | `(tactic| trivial) => `(tactic| rfl)",
    "syntax": 'syntax "boom" : command',
    "exit": "#exit",
    "import_other": "import Evil.Payload",
    "max_heartbeats_0": "set_option maxHeartbeats 0 in\n" + THM,
    "skip_kernel": "set_option debug.skipKernelTC true\n" + THM,
    "native_decide": "theorem t : 2 ^ 10 = 1024 := by native_decide",
    "axiom": "axiom cheat : False",
    "evalConst": "def f := Lean.Environment.evalConst",
}

OBFUSCATED = {
    "guillemets": "«#eval» «IO».println 1",
    "guillemet_ident": "def f : «IO» Unit := pure ()",
    "comment_split_option": "set_option /- hi -/ maxHeartbeats /- there -/ 0 in\n" + THM,
    "comment_hides_nothing": "/- a comment -/ #eval 1",
    "nested_comment": "/- outer /- inner -/ still comment -/ run_cmd pure ()",
    "fullwidth": "＃ｅｖａｌ １",  # NFKC turns these into `#eval 1`
    "fullwidth_ident": "def f : ＩＯ Unit := pure ()",
    "unicode_escape_string": 'def s := "\\u{23}eval IO"',
    "bidi_override": "theorem t : True := trivial -- \u202e lave#",
    "zero_width": "def f := 1\u200b",
    "line_comment_then_code": "-- harmless\n#eval 1",
    "set_option_in_attr": "set_option trace.Meta.synthInstance true in\n" + THM,
    "local_macro": 'local macro "x" : term => `(1)',
    "dotted_io": "def f := (IO.FS.readFile \"/etc/passwd\")",
    "open_io": "open IO in\ndef f := println \"x\"",
}

HARMLESS = {
    "nlinarith": "import Mathlib\n" + THM,
    "am_gm": "theorem amgm (a b : ℝ) : 2 * a * b ≤ a ^ 2 + b ^ 2 := by nlinarith [sq_nonneg (a - b)]",
    "check": "#check Nat.add_comm",
    "heartbeats_ok": "set_option maxHeartbeats 400000 in\n" + THM,
    "comment_words": "-- this proof is by induction\n" + THM,
    "omega": "theorem t (n : ℕ) (h : n < 3) : n ≤ 2 := by omega",
    "decide": "example : 2 + 2 = 4 := by decide",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_each_forbidden_construct_is_refused(name: str) -> None:
    s = screen_lean(HOSTILE[name])
    assert not s.ok, f"{name} passed the screen"
    assert all(r for r in s.reasons)


@pytest.mark.parametrize("name", sorted(OBFUSCATED))
def test_obfuscations_are_refused(name: str) -> None:
    assert not screen_lean(OBFUSCATED[name]).ok, f"{name} passed the screen"


@pytest.mark.parametrize("name", sorted(HARMLESS))
def test_harmless_proofs_pass(name: str) -> None:
    s = screen_lean(HARMLESS[name])
    assert s.ok, s.reasons


def test_reasons_name_the_line() -> None:
    s = screen_lean("theorem a : True := trivial\n\n#eval 1\n")
    assert any(r.startswith("line 3:") and "#eval" in r for r in s.reasons), s.reasons


def test_oversized_text_is_refused() -> None:
    assert not screen_lean("-- " + "x" * 70_000).ok


def test_refused_text_never_starts_a_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tripwire, not a mock of behaviour: pretend Lean is installed and make any process start fail the test.
    # A refused text must come back as `error` without reaching subprocess (or lean-interact) at all.
    def tripwire(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a process was started for refused text: {args[:1]}")

    monkeypatch.setattr(lean, "missing_reason", lambda: None)
    monkeypatch.setattr(subprocess, "Popen", tripwire)
    monkeypatch.setattr(subprocess, "run", tripwire)
    for text in list(HOSTILE.values()) + list(OBFUSCATED.values()):
        v = lean.check(text, 5)
        assert v.verdict == "error" and v.detail.startswith("refused:"), (text, v)
        r = Router(z3=False, lean=True).check_lean(text)
        assert r.verdict == "error", (text, r)


def _fake_lean_bin(tmp_path: Path) -> tuple[Path, Path]:
    """`lean` and `lake` executables that record that they ran: a tripwire for the real CLI path."""
    bindir, marker = tmp_path / "bin", tmp_path / "ran.txt"
    bindir.mkdir()
    for name in ("lean", "lake"):
        exe = bindir / name
        exe.write_text(f"#!/bin/sh\necho \"{name} $@\" >> {marker}\nexit 0\n")
        exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return bindir, marker


def _prove(file: Path, bindir: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}",
               GAUNTLET_PROVER_CACHE=str(tmp_path / "cache.sqlite"))
    return subprocess.run([sys.executable, "-c", "from ui.cli import main; main()", "prove", str(file), "--json",
                           "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_cli_refuses_hostile_file_without_running_lean(tmp_path: Path) -> None:
    bindir, marker = _fake_lean_bin(tmp_path)
    out = _prove(ROOT / "provers/examples/hostile.lean", bindir, tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["verdict"] == "error" and doc["detail"].startswith("refused:")
    assert doc["counterexample"] is None
    assert not marker.exists(), f"Lean ran on a refused file: {marker.read_text()}"


def test_tripwire_fires_for_a_harmless_file(tmp_path: Path) -> None:
    # The control for the test above: the same fake `lean` does run when the file passes the screen, so its
    # silence there means the screen stopped the hostile file, not that the tripwire was broken.
    if importlib.util.find_spec("lean_interact") is not None:
        pytest.skip("lean-interact is installed, so the REPL path (not the `lean` binary) would run; "
                    "the fake-binary control only applies to the subprocess path")
    bindir, marker = _fake_lean_bin(tmp_path)
    good = tmp_path / "good.lean"
    good.write_text("import Mathlib\n" + THM)
    out = _prove(good, bindir, tmp_path)
    assert out.returncode == 0, out.stderr
    assert marker.exists() and "Claim.lean" in marker.read_text()
