"""The Lean 4 backend: a proof attempt is `proved` when Lean accepts it without `sorry`, else `unknown`.

Three ways in, tried in this order:
1. lean-interact (the Lean REPL) for ad-hoc statements, with one warm environment per import header: the
   `import Mathlib` cost (tens of seconds) is paid once per process, later checks reuse the environment id.
2. the `lean` binary (`lake env lean FILE` inside a project) in the sandbox, when lean-interact is missing.
3. LeanDojo (`check_in_repo`) for a theorem that lives inside a Lean git repository.
Every text is screened first (provers.screen); a refused text gets `error` and never reaches Lean.
Lean cannot refute a claim here (a failed proof says nothing about truth), so there is no `refuted` verdict.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from gauntlet.provers.claim import Verdict, error, unknown
from gauntlet.provers.sandbox import Limits, run_limited
from gauntlet.provers.screen import screen_lean

PROVER = "lean4"
DEFAULT_HEADER = "import Mathlib"
INSTALL_HINT = ("Lean 4 not installed: install elan (https://github.com/leanprover/elan), then "
                "`pip install -e .[lean]`; the REPL path then runs through lean-interact")
_IMPORT_LINE = re.compile(r"^\s*import\s+\S.*$", re.M)


def missing_reason() -> str | None:
    """Why the Lean path cannot run on this machine, or None when `lean` and `lake` are on PATH."""
    if shutil.which("lean") is None or shutil.which("lake") is None:
        return INSTALL_HINT
    return None


@lru_cache(maxsize=1)
def version() -> str:
    if shutil.which("lean") is None:
        return "lean-missing"
    try:
        out = subprocess.run(["lean", "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "lean-unknown"
    return out.stdout.strip() or "lean-unknown"


def split_header(text: str, default: str = DEFAULT_HEADER) -> tuple[str, str]:
    """(import header, body). The REPL only accepts imports in the first command of an environment."""
    imports = _IMPORT_LINE.findall(text)
    body = _IMPORT_LINE.sub("", text).strip()
    return ("\n".join(i.strip() for i in imports) or default), body


def check(text: str, timeout_s: float = 60.0, *, memory_mb: int = 4096, project: Path | None = None,
          header: str = DEFAULT_HEADER) -> Verdict:
    """Check a Lean declaration (statement and proof). `project` is a Lake project with Mathlib built."""
    t0 = time.perf_counter()
    screening = screen_lean(text)
    if not screening.ok:
        return error(PROVER, screening.summary())
    hdr, body = split_header(text, header)
    if not body:
        return error(PROVER, "no declaration to check: give a theorem with its proof")
    reason = missing_reason()
    if reason:
        return unknown(PROVER, reason)
    try:
        import lean_interact  # noqa: F401 - the preferred path
        verdict = _repl(hdr, body, timeout_s, memory_mb, project)
    except ImportError:
        verdict = _subprocess(hdr, body, timeout_s, memory_mb, project)
    return verdict.with_(elapsed_s=time.perf_counter() - t0)


# --- lean-interact REPL ---------------------------------------------------------------------------------
class _Warm:
    """One REPL server per (project, memory) and one environment per header, reused across checks."""

    lock = threading.Lock()
    servers: dict[tuple[str, int], Any] = {}
    envs: dict[tuple[str, int, str], int] = {}


def _server(project: Path | None, memory_mb: int) -> Any:
    from lean_interact import AutoLeanServer, LeanREPLConfig, LocalProject, TempRequireProject
    key = (str(project or ""), memory_mb)
    if key not in _Warm.servers:
        proj = LocalProject(directory=str(project)) if project else TempRequireProject(require="mathlib")
        _Warm.servers[key] = AutoLeanServer(LeanREPLConfig(project=proj, memory_hard_limit_mb=memory_mb))
    return _Warm.servers[key]


def _repl(header: str, body: str, timeout_s: float, memory_mb: int, project: Path | None) -> Verdict:
    from lean_interact import Command
    from lean_interact.interface import LeanError
    with _Warm.lock:  # the REPL is one process reading one command at a time
        server = _server(project, memory_mb)
        env_key = (str(project or ""), memory_mb, header)
        if env_key not in _Warm.envs:
            warm = server.run(Command(cmd=header), add_to_session_cache=True)
            if isinstance(warm, LeanError):
                return error(PROVER, f"Lean could not load the header {header!r}: {warm.message}")
            _Warm.envs[env_key] = warm.env
        try:
            resp = server.run(Command(cmd=body, env=_Warm.envs[env_key]), timeout=timeout_s)
        except TimeoutError:
            return unknown(PROVER, f"timeout: Lean did not finish within {timeout_s:g} s")
    if isinstance(resp, LeanError):
        return unknown(PROVER, f"Lean REPL error: {resp.message}")
    errors = [m.data for m in resp.messages if m.severity == "error"]
    if errors:
        return unknown(PROVER, "Lean rejected the proof: " + " | ".join(errors)[:600])
    if resp.sorries or any("sorry" in m.data for m in resp.messages):
        return unknown(PROVER, "the proof uses sorry: the statement elaborates but is not proved")
    return Verdict("proved", PROVER, "Lean accepted the proof (kernel-checked, no sorry)")


# --- plain `lean` in the sandbox ------------------------------------------------------------------------
def _subprocess(header: str, body: str, timeout_s: float, memory_mb: int, project: Path | None) -> Verdict:
    with tempfile.TemporaryDirectory(prefix="gauntlet-lean-") as scratch:
        src = Path(scratch) / "Claim.lean"
        src.write_text(header + "\n\n" + body + "\n", encoding="utf-8")
        cmd = ["lake", "env", "lean", str(src)] if project else ["lean", str(src)]
        limits = Limits(wall_s=timeout_s, cpu_s=int(timeout_s) + 5, memory_mb=memory_mb, memory_kind="data")
        out = run_limited(cmd, limits, cwd=project or Path(scratch))
    text = (out.stdout + out.stderr).strip()
    if out.timed_out:
        return unknown(PROVER, f"timeout: Lean did not finish within {timeout_s:g} s")
    if out.killed_by_limit:
        return unknown(PROVER, f"Lean stopped by a resource limit (memory {memory_mb} MB)")
    if out.returncode != 0 or ": error" in text:
        return unknown(PROVER, "Lean rejected the proof: " + " ".join(text.split())[:600])
    if "sorry" in text:
        return unknown(PROVER, "the proof uses sorry: the statement elaborates but is not proved")
    return Verdict("proved", PROVER, "Lean accepted the proof (kernel-checked, no sorry)")


# --- LeanDojo, for theorems inside a repository ---------------------------------------------------------
def check_in_repo(url: str, commit: str, file_path: str, theorem: str, tactics: list[str],
                  timeout_s: float = 600.0) -> Verdict:
    """Replay `tactics` on `theorem` (full name) from `file_path` of the Lean repo at `url`@`commit`."""
    for tac in tactics:
        screening = screen_lean(tac)
        if not screening.ok:
            return error(PROVER, screening.summary())
    reason = missing_reason()
    if reason:
        return unknown(PROVER, reason)
    try:
        from lean_dojo import Dojo, LeanGitRepo, ProofFinished, TacticState, Theorem
    except ImportError:
        return unknown(PROVER, "LeanDojo not installed: `pip install -e .[lean]`")
    thm = Theorem(LeanGitRepo(url, commit), file_path, theorem)
    t0 = time.perf_counter()
    with Dojo(thm, timeout=int(timeout_s)) as (dojo, state):
        for tac in tactics:
            state = dojo.run_tac(state, tac)
            if not isinstance(state, (TacticState, ProofFinished)):
                return unknown(PROVER, f"tactic {tac!r} failed: {getattr(state, 'error', state)}",
                               time.perf_counter() - t0)
        if isinstance(state, ProofFinished):
            return Verdict("proved", PROVER + "/leandojo", f"{theorem} proved in {url}@{commit[:12]}",
                           elapsed_s=time.perf_counter() - t0)
    return unknown(PROVER, "tactics ran but goals remain", time.perf_counter() - t0)
