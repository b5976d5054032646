"""Rich progress for long runs, kept out of the runner so the runner stays free of terminal concerns."""

from __future__ import annotations

import logging
import signal
import sys
import time
from typing import Any, TextIO

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from gauntlet.graphs.run.loading import LoadedConfig
from gauntlet.graphs.run import event_loop
from gauntlet.graphs.run.runner import Runner
from gauntlet.graphs.store.store import NewEvent, Store


def turn_line(e: NewEvent, elapsed_s: float) -> str | None:
    """One plain progress line for a finished LLM turn (step, persona, move, elapsed); None for other events."""
    if e.kind != "llm_call":
        return None
    who = e.persona or "-"
    move = e.phase or e.payload.get("phase", "") or "call"
    return f"[{elapsed_s:7.1f}s] round {e.round} step {e.superstep:<3} {move:<10} {who}"


def run_with_progress(store: Store, *, quiet: bool = False, start: LoadedConfig | None = None,
                      resume: str | None = None, stream: TextIO | None = None) -> str:
    """Start or resume a run, showing progress on stderr: Rich on a terminal, one plain line per turn otherwise
    (so pipes, CI logs and nohup show the run is alive); `quiet` shows nothing."""
    err = stream or sys.stderr
    # SIGTERM (a scheduler or `kill`) ends the run like Ctrl-C: marked interrupted, resumable.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    if quiet or not err.isatty():
        return _run_plain(store, err, quiet, start, resume)
    console = Console(file=err)
    counts = {"llm_call": 0, "node": 0, "attacks": 0}
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=False) as progress:
        task = progress.add_task("starting", total=None)

        def on_event(e: NewEvent) -> None:
            if e.kind in counts:
                counts[e.kind] += 1
            if e.kind == "edge" and e.payload.get("kind") == "attacks":
                counts["attacks"] += 1
            phase = f"round {e.round} {e.phase}" if e.round else e.kind.replace("_", " ")
            progress.update(task, description=f"{phase:<24} calls {counts['llm_call']:>4}  "
                                              f"nodes {counts['node']:>5}  attacks {counts['attacks']:>5}")

        return _drive(Runner(store, on_event=on_event), start, resume)


def _run_plain(store: Store, err: TextIO, quiet: bool, start: LoadedConfig | None, resume: str | None) -> str:
    t0 = time.monotonic()

    def on_event(e: NewEvent) -> None:
        line = None if quiet else turn_line(e, time.monotonic() - t0)
        if line:
            print(line, file=err, flush=True)

    return _drive(Runner(store, on_event=on_event), start, resume)


def _drive(runner: Runner, start: LoadedConfig | None, resume: str | None) -> str:
    if start is not None:
        return event_loop.run(runner.start(start))
    assert resume is not None
    return event_loop.run(runner.resume(resume))


def _raise_interrupt(_signum: int, _frame: Any) -> None:
    # The interrupt can land inside an HTTP transport's callback; asyncio then logs "Fatal error on transport"
    # with a traceback while the run is being stored as interrupted (seen once in the SIGTERM test). The run is
    # ending: that teardown noise is not an error to show.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    raise KeyboardInterrupt
