"""Run an untrusted checker (z3 worker, lean) in a child process with CPU, memory and wall-clock limits.

The limits live here, not in the backends, so every prover gets the same guarantees: a pathological input
costs at most `wall_s` seconds and `memory_mb` of address space, and a hung child is killed with its whole
process group (lean spawns workers).
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

DEFAULT_MEMORY_MB = 2048
MAX_OUTPUT_BYTES = 1_000_000
_FSIZE = 16 * 1024 * 1024  # a checker has no business writing large files


@dataclass(frozen=True)
class Limits:
    wall_s: float
    cpu_s: int | None = None  # defaults to wall_s rounded up, plus one
    memory_mb: int = DEFAULT_MEMORY_MB
    # "as" caps the whole address space (right for z3). Lean mmaps gigabytes of read-only .olean files, which
    # an address-space cap would refuse; "data" (RLIMIT_DATA, Linux >= 4.7) caps only private writable memory.
    memory_kind: Literal["as", "data"] = "as"

    def cpu(self) -> int:
        return self.cpu_s if self.cpu_s is not None else int(self.wall_s) + 1


@dataclass(frozen=True)
class Outcome:
    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    elapsed_s: float

    @property
    def killed_by_limit(self) -> bool:
        """SIGXCPU/SIGKILL from RLIMIT_CPU, or a memory failure reported as a signal."""
        return self.returncode is not None and self.returncode < 0


def _preexec(limits: Limits) -> None:
    cpu = limits.cpu()
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    mem = limits.memory_mb * 1024 * 1024
    which = resource.RLIMIT_AS if limits.memory_kind == "as" else resource.RLIMIT_DATA
    resource.setrlimit(which, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (_FSIZE, _FSIZE))


def run_limited(cmd: list[str], limits: Limits, *, stdin: str = "", cwd: Path | None = None,
                env: dict[str, str] | None = None) -> Outcome:
    """Run `cmd` to completion or until a limit; never raises for the child's own failures."""
    t0 = time.perf_counter()
    prlimit = shutil.which("prlimit")
    if prlimit:
        # Limits applied by util-linux between fork and exec: no Python runs in the forked child, which matters
        # because debates call provers from worker threads (preexec_fn is not thread-safe).
        cpu, mem = limits.cpu(), limits.memory_mb * 1024 * 1024
        cmd = [prlimit, f"--cpu={cpu}:{cpu + 1}", f"--{limits.memory_kind}={mem}", "--core=0", f"--fsize={_FSIZE}", "--", *cmd]
        preexec = None
    else:
        preexec = lambda: _preexec(limits)  # noqa: E731 - fallback where util-linux is missing
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=cwd, env=env, start_new_session=True, preexec_fn=preexec)
    timed_out = False
    try:
        out, errb = proc.communicate(stdin.encode(), timeout=limits.wall_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
        out, errb = proc.communicate()
    return Outcome(proc.returncode, out[:MAX_OUTPUT_BYTES].decode("utf-8", "replace"),
                   errb[:MAX_OUTPUT_BYTES].decode("utf-8", "replace"), timed_out, time.perf_counter() - t0)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the child's own session: never our process group
    except ProcessLookupError:
        pass
